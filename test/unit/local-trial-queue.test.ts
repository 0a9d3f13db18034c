import { LocalTrialQueue } from '../../functions/adapters/local/local-trial-queue.js';
import type { ExecutorLogger, RunTrial } from '../../functions/executor/run-trial.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Tracker {
  order: string[];
  spans: { id: string; start: number; end: number }[];
  maxConcurrent: number;
}

/** A runTrial that takes `ms` and records when each run starts and ends and how many overlap. */
function slowRunTrial(ms = 20): { run: RunTrial; tracker: Tracker } {
  const tracker: Tracker = { order: [], spans: [], maxConcurrent: 0 };
  let running = 0;
  const run: RunTrial = async (id) => {
    running += 1;
    tracker.maxConcurrent = Math.max(tracker.maxConcurrent, running);
    tracker.order.push(id);
    const start = performance.now();
    await delay(ms);
    tracker.spans.push({ id, start, end: performance.now() });
    running -= 1;
    return { outcome: 'ran', status: 'Succeeded' };
  };
  return { run, tracker };
}

describe('LocalTrialQueue', () => {
  it('never runs two trials at once when they are enqueued back to back', async () => {
    const { run: runTrial, tracker } = slowRunTrial(30);
    const queue = new LocalTrialQueue({ trials: new MemoryTrialStore(), runTrial, logger: silent });
    await queue.start();

    await Promise.all([queue.enqueue('a'), queue.enqueue('b'), queue.enqueue('c')]);
    await queue.drain();

    expect(tracker.order).toEqual(['a', 'b', 'c']);
    expect(tracker.maxConcurrent).toBe(1);
    const [first, second, third] = tracker.spans;
    expect(second?.start).toBeGreaterThanOrEqual(first?.end ?? Infinity);
    expect(third?.start).toBeGreaterThanOrEqual(second?.end ?? Infinity);
  });

  it('runs real trials one after the other with the executor', async () => {
    const clock = new FakeClock();
    const trials = new MemoryTrialStore();
    const experiments = new MemoryExperimentStore();
    let active = 0;
    let maxActive = 0;
    const busy: StepModule = {
      name: 'test.busy',
      description: 'takes a little time',
      whereSchema: { type: 'object' },
      async run() {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await delay(20);
        active -= 1;
        return 'done';
      },
    };
    const experiment = makeExperiment({ steps: [{ step: 'busy', do: 'test.busy', where: {} }] });
    await experiments.create(experiment);
    const one = makeTrial(experiment.id);
    const two = makeTrial(experiment.id);
    await trials.create(one);
    await trials.create(two);
    const runTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry([busy]), clock, logger: silent });
    const queue = new LocalTrialQueue({ trials, runTrial, logger: silent });
    await queue.start();
    await queue.drain();

    await queue.enqueue(one.id);
    await queue.enqueue(two.id);
    await queue.drain();

    expect(maxActive).toBe(1);
    expect(trials.items.get(one.id)?.status).toBe('Succeeded');
    expect(trials.items.get(two.id)?.status).toBe('Succeeded');
  });

  it('picks up every unfinished trial on start, oldest first and across pages, before newer ones', async () => {
    const trials = new MemoryTrialStore();
    const expected: string[] = [];
    for (let i = 0; i < 105; i += 1) {
      const status = i % 3 === 0 ? 'In Progress' : i % 3 === 1 ? 'Stop Initiated' : 'Scheduled';
      const trial = makeTrial('exp', { status, created_at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() });
      await trials.create(trial);
      expected.push(trial.id);
    }
    const finished = makeTrial('exp', { status: 'Succeeded', created_at: '2023-01-01T00:00:00.000Z' });
    await trials.create(finished);
    // Stored in reverse to prove the queue follows created_at, not insertion order.
    const reversed = new Map([...trials.items.entries()].reverse());
    trials.items.clear();
    reversed.forEach((trial, id) => trials.items.set(id, trial));

    const { run: runTrial, tracker } = slowRunTrial(0);
    const queue = new LocalTrialQueue({ trials, runTrial, logger: silent });
    await queue.enqueue('accepted-after-restart');
    await queue.enqueue(expected[3] as string);
    await queue.start();
    await queue.drain();

    expect(tracker.order).toEqual([...expected, 'accepted-after-restart']);
  });

  it('does not queue a trial twice', async () => {
    const { run: runTrial, tracker } = slowRunTrial(10);
    const queue = new LocalTrialQueue({ trials: new MemoryTrialStore(), runTrial, logger: silent });
    await queue.start();

    await queue.enqueue('a');
    await queue.enqueue('b');
    await queue.enqueue('b');
    await queue.drain();

    expect(tracker.order).toEqual(['a', 'b']);
  });

  it('waits for start before running anything', async () => {
    const { run: runTrial, tracker } = slowRunTrial(0);
    const queue = new LocalTrialQueue({ trials: new MemoryTrialStore(), runTrial, logger: silent });

    await queue.enqueue('a');
    await delay(10);
    expect(tracker.order).toEqual([]);

    await queue.start();
    await queue.drain();
    expect(tracker.order).toEqual(['a']);
  });

  it('lets the running trial finish on stop and runs no more', async () => {
    const { run: runTrial, tracker } = slowRunTrial(30);
    const queue = new LocalTrialQueue({ trials: new MemoryTrialStore(), runTrial, logger: silent });
    await queue.start();
    await queue.enqueue('a');
    await queue.enqueue('b');
    await delay(5);

    await queue.stop();

    expect(tracker.spans.map((s) => s.id)).toEqual(['a']);
    expect(queue.size).toBe(1);
  });

  it('retries a trial whose run throws, then moves on to the next', async () => {
    const order: string[] = [];
    let failures = 0;
    const runTrial: RunTrial = async (id) => {
      order.push(id);
      if (id === 'flaky' && failures < 1) {
        failures += 1;
        throw new Error('store hiccup');
      }
      if (id === 'broken') throw new Error('store down');
      return { outcome: 'ran', status: 'Succeeded' };
    };
    const queue = new LocalTrialQueue({ trials: new MemoryTrialStore(), runTrial, logger: silent, retryDelayMs: 1, maxAttempts: 2 });
    await queue.start();

    await queue.enqueue('flaky');
    await queue.enqueue('broken');
    await queue.enqueue('after');
    await queue.drain();

    expect(order).toEqual(['flaky', 'flaky', 'broken', 'broken', 'after']);
  });

  it('says a run is a first delivery only for a trial just queued or found Scheduled at start-up, and only for its first run', async () => {
    const trials = new MemoryTrialStore();
    const scheduled = makeTrial('exp', { status: 'Scheduled', created_at: '2024-01-01T00:00:00.000Z' });
    const running = makeTrial('exp', { status: 'In Progress', created_at: '2024-01-01T00:00:01.000Z' });
    for (const trial of [scheduled, running]) await trials.create(trial);
    const calls: [string, boolean | undefined][] = [];
    let parkedOnce = false;
    const runTrial: RunTrial = async (id, options) => {
      calls.push([id, options?.firstDelivery]);
      if (id === 'new' && !parkedOnce) {
        parkedOnce = true;
        return { outcome: 'parked', status: 'In Progress', resumeAt: Date.now() };
      }
      return { outcome: 'ran', status: 'Succeeded' };
    };
    const queue = new LocalTrialQueue({ trials, runTrial, logger: silent });
    await queue.start();
    await queue.enqueue('new');
    await queue.drain();

    expect(calls).toEqual([
      [scheduled.id, true],
      [running.id, undefined],
      ['new', true],
      // Its next slice: the trial runs now, so the claim comes first.
      ['new', undefined],
    ]);
  });
});
