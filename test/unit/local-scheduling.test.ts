import { jest } from '@jest/globals';
import { LocalScheduler } from '../../functions/adapters/local/local-scheduler.js';
import { LocalTrialQueue } from '../../functions/adapters/local/local-trial-queue.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { ScheduleFiring } from '../../functions/ports.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { MemoryScheduleStore } from '../support/memory-schedule-store.js';
import { makeExperiment, MemoryExperimentStore, MemoryTrialStore, newId } from '../support/memory-stores.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const clock = { now: () => new Date() };
const MIDNIGHT = Date.UTC(2027, 0, 4, 0, 0, 0);

function schedule(experimentId: string, pattern: string, count: number | null): Schedule {
  return {
    id: newId(),
    experiment_id: experimentId,
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: pattern,
    recurrence_count: count,
    recurrence_left: count,
    ...SCHEDULE_DEFAULTS,
    generation: 1,
    created_by: 'scheduler-user',
    created_at: '2027-01-01T00:00:00.000Z',
    updated_by: 'scheduler-user',
    updated_at: '2027-01-01T00:00:00.000Z',
  };
}

/** The local-mode graph (scheduler → fire-schedule → sequential worker) on memory stores. */
function localGraph() {
  const experiments = new MemoryExperimentStore();
  const trials = new MemoryTrialStore();
  const schedules = new MemoryScheduleStore();
  const runTrial = makeRunTrial({ experiments, trials, registry: new ModuleRegistry(DEFAULT_MODULES), clock, logger: quiet });
  const fired: ScheduleFiring[] = [];
  // As the local server wires it: firings join the sequential queue like the cloud's firing messages.
  const scheduler = new LocalScheduler({
    clock,
    fire: (firing) => {
      fired.push(firing);
      void queue.enqueueFiring(firing);
    },
  });
  const fire = makeFireSchedule({ experiments, trials, schedules, cloud: scheduler, clock, ids: { newId }, logger: quiet });
  const queue = new LocalTrialQueue({ trials, runTrial, fireSchedule: fire, logger: quiet });
  return { experiments, trials, schedules, queue, scheduler, fired };
}

beforeEach(() => {
  jest.useFakeTimers({ now: MIDNIGHT - 30_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('local scheduling (fake clock)', () => {
  it("runs overlapping schedules one at a time: a 00:15 firing starts when the 00:00 trial ends at 00:30", async () => {
    const g = localGraph();
    const long = makeExperiment({ name: 'thirty minutes', steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: 1800 } }] });
    const short = makeExperiment({ name: 'short', steps: [{ step: 'blink', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    await g.experiments.create(long);
    await g.experiments.create(short);
    const a = schedule(long.id, '0 0 * * *', 1);
    const b = schedule(short.id, '15 0 * * *', 1);
    for (const s of [a, b]) {
      await g.schedules.create(s);
      await g.scheduler.arm(s);
    }
    await g.queue.start();

    await jest.advanceTimersByTimeAsync(45 * 60 * 1000);

    const trials = [...g.trials.items.values()].sort((x, y) => String(x.executed_at).localeCompare(String(y.executed_at)));
    expect(trials.map((t) => [t.experiment, t.status, t.executed_at, t.completed_at])).toEqual([
      [long.id, 'Succeeded', '2027-01-04T00:00:00.000Z', '2027-01-04T00:30:00.000Z'],
      [short.id, 'Succeeded', '2027-01-04T00:30:00.000Z', '2027-01-04T00:30:01.000Z'],
    ]);
    // The 00:15 firing waited its turn in the queue, as in the cloud, and made its trial when it reached the worker.
    expect(trials[1]?.created_at).toBe('2027-01-04T00:30:00.000Z');
    expect(g.fired.map((f) => f.scheduled_time)).toEqual(['2027-01-04T00:00:00.000Z', '2027-01-04T00:15:00.000Z']);
    await g.queue.stop();
  });

  it('fires a `* * * * *` schedule with recurrence_count 2 exactly twice, a minute apart, then disarms it', async () => {
    const g = localGraph();
    const experiment = makeExperiment({ steps: [{ step: 'blink', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    await g.experiments.create(experiment);
    const s = schedule(experiment.id, '* * * * *', 2);
    await g.schedules.create(s);
    expect(await g.scheduler.armAll(g.schedules)).toBe(1);
    await g.queue.start();

    await jest.advanceTimersByTimeAsync(5 * 60 * 1000);

    const trials = [...g.trials.items.values()].sort((x, y) => x.created_at.localeCompare(y.created_at));
    expect(trials.map((t) => [t.status, t.executed_at])).toEqual([
      ['Succeeded', '2027-01-04T00:00:00.000Z'],
      ['Succeeded', '2027-01-04T00:01:00.000Z'],
    ]);
    expect((await g.schedules.get(experiment.id, s.id))?.recurrence_left).toBe(0);
    expect(g.scheduler.size).toBe(0);
    expect(g.fired.map((f) => f.scheduled_time)).toEqual(['2027-01-04T00:00:00.000Z', '2027-01-04T00:01:00.000Z']);
    await g.queue.stop();
  });

  it('does not arm exhausted schedules at start-up, and waits long gaps in hops', async () => {
    const g = localGraph();
    const experiment = makeExperiment({ steps: [{ step: 'blink', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    await g.experiments.create(experiment);
    await g.schedules.create({ ...schedule(experiment.id, '* * * * *', 1), recurrence_left: 0 });
    // Once a year, on 1 March: far beyond one setTimeout.
    const yearly = schedule(experiment.id, '0 0 1 3 *', null);
    await g.schedules.create(yearly);
    expect(await g.scheduler.armAll(g.schedules)).toBe(1);
    await jest.advanceTimersByTimeAsync(57 * 24 * 3600 * 1000);
    expect(g.fired.map((f) => f.scheduled_time)).toEqual(['2027-03-01T00:00:00.000Z']);
    g.scheduler.stop();
  });
});
