import { LocalTrialQueue } from '../../functions/adapters/local/local-trial-queue.js';
import { snapshotOf } from '../../functions/domain/trial.js';
import { startLocalWatchdog } from '../../functions/local/local-watchdog.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { noMetrics } from '../../functions/metrics/metrics.js';
import { ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { REASONS } from '../../functions/use-cases/watchdog.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('local watchdog', () => {
  it('ends a trial the local worker gave up on: its post steps run first, at the head of the queue, then it is Failed with the reason', async () => {
    const clock = new FakeClock('2024-05-01T12:00:00.000Z');
    const trials = new MemoryTrialStore();
    const experiments = new MemoryExperimentStore();
    const calls: string[] = [];
    // `test.outage` takes the store down as it runs: the worker cannot record it and gives the trial up.
    const modules: StepModule[] = [
      {
        name: 'test.outage',
        description: 'the store goes down',
        whereSchema: { type: 'object' },
        async run() {
          calls.push('outage');
          trials.failing = true;
          return 'ok';
        },
      },
      {
        name: 'test.undo',
        description: 'undo',
        whereSchema: { type: 'object' },
        async run() {
          calls.push('undo');
          return 'ok';
        },
      },
    ];
    const runTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry(modules), clock, logger: silent, stopPollMs: 60_000, startMarkerDelayMs: 60_000 });
    const queue = new LocalTrialQueue({ trials, runTrial, logger: silent, maxAttempts: 2, retryDelayMs: 1, now: () => clock.now().getTime() });
    const experiment = makeExperiment({ steps: [{ step: 'break', do: 'test.outage', where: {} }], post_steps: [{ step: 'undo', do: 'test.undo', where: {} }] });
    await experiments.create(experiment);
    const trial = makeTrial(experiment.id, { created_at: clock.now().toISOString(), experiment_snapshot: snapshotOf(experiment) });
    await trials.create(trial);
    await queue.start();
    await queue.enqueue(trial.id);
    await queue.drain();
    expect(queue.holds(trial.id)).toBe(false);
    trials.failing = false;
    expect(trials.items.get(trial.id)?.status).toBe('In Progress');

    const watchdog = startLocalWatchdog({ trials, queue, clock, logger: silent, metrics: noMetrics, everyMs: 3_600_000 });
    try {
      // Within its grace the trial is left alone.
      expect((await watchdog.run()).findings).toEqual([]);
      clock.advance(6 * 60_000);
      expect((await watchdog.run()).findings.map((f) => [f.trialId, f.action, f.reason])).toEqual([[trial.id, 'recovery', REASONS.notHeld]]);
      await queue.drain();
    } finally {
      watchdog.stop();
      await queue.stop();
    }
    const ended = trials.items.get(trial.id);
    expect(ended?.status).toBe('Failed');
    expect(calls).toEqual(['outage', 'undo']);
    expect(ended?.trial_record.result[0]?.logs.join('\n')).toContain(REASONS.notHeld);
  });
});
