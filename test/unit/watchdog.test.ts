import type { Context, SQSEvent } from 'aws-lambda';
import type { ExperimentDefinition, Step } from '../../functions/domain/experiment.js';
import { snapshotOf, type Trial } from '../../functions/domain/trial.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import type { MetricName } from '../../functions/metrics/catalog.js';
import type { Metrics } from '../../functions/metrics/metrics.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { executorMetricsObserver } from '../../functions/observability/executor-metrics.js';
import { makeWatchdog, REASONS } from '../../functions/use-cases/watchdog.js';
import { makeWorkerHandler } from '../../functions/worker/handler.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';
import { SqsFifoHarness } from '../support/sqs-fifo-harness.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MINUTE = 60_000;

function buildWorld() {
  const clock = new FakeClock('2024-05-01T12:00:00.000Z');
  const store = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const calls = new Map<string, number>();
  const queue = new SqsFifoHarness({ clock });
  const work: StepModule = {
    name: 'test.work',
    description: 'takes some time',
    whereSchema: { type: 'object' },
    maxRunMs: (where) => Number(where['ms'] ?? 0) + 1000,
    async run(where) {
      calls.set(String(where['name']), (calls.get(String(where['name'])) ?? 0) + 1);
      clock.advance(Number(where['ms'] ?? 0));
      return { status_code: 200 };
    },
  };
  const registry = new ModuleRegistry([...DEFAULT_MODULES, work]);
  const recorded: { name: MetricName; value: number; context?: object }[] = [];
  const metrics: Metrics = { record: (name, value, _dimensions, context) => void recorded.push({ name, value, ...(context && { context }) }), flush: () => undefined };
  const observer = executorMetricsObserver(metrics);
  const runTrial = makeRunTrial({ trials: store, experiments, registry, clock, logger: silent, stopPollMs: 60_000, startMarkerDelayMs: 60_000, observer });
  const handler = makeWorkerHandler({ runTrial, logger: silent, visibility: queue, now: () => clock.now().getTime() });
  const sent: { trialId: string; key: string }[] = [];
  const watchdog = makeWatchdog({
    trials: store,
    probe: { isEmpty: async () => queue.pending.length === 0 },
    recoveries: {
      enqueueRecovery: async (trialId, key) => {
        sent.push({ trialId, key });
        queue.send(JSON.stringify({ trial_id: trialId, recovery: true }), 'kallisti-recovery');
      },
    },
    clock,
    logger: silent,
    metrics,
  });
  return {
    clock,
    store,
    queue,
    calls,
    recorded,
    sent,
    watchdog,
    handler: (event: SQSEvent, context: Context) => handler(event, context),
    async addTrial(definition: Partial<ExperimentDefinition> & Pick<ExperimentDefinition, 'steps'>, send = true): Promise<Trial> {
      const experiment = makeExperiment(definition);
      await experiments.create(experiment);
      const trial = makeTrial(experiment.id, { created_at: clock.now().toISOString(), experiment_snapshot: snapshotOf(experiment) });
      await store.create(trial);
      if (send) queue.send(JSON.stringify({ trial_id: trial.id }));
      return trial;
    },
    /** The trial's message disappears, as one given up after repeated failures or moved to the dead-letter queue does. */
    lose(trialId: string) {
      for (const message of queue.pending) if (message.body.includes(trialId)) message.deleted = true;
    },
    trial: (id: string) => store.items.get(id) as Trial,
  };
}

const work = (name: string, ms: number): Step => ({ step: name, do: 'test.work', where: { name, ms } });
const wait = (name: string, seconds: number): Step => ({ step: name, do: 'cm.wait', where: { time_in_seconds: seconds } });
const resultOf = (trial: Trial) => trial.trial_record.result[0]?.logs.join('\n') ?? '';

describe('watchdog', () => {
  it('takes over a parked trial whose message was lost, runs its post steps once through a recovery delivery, and ends it Failed with the reason', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [work('inject', 1000), wait('long', 6 * 3600), work('after', 1000)], post_steps: [work('undo', 1000)] });
    await world.queue.poll(world.handler);
    expect(world.trial(trial.id).runtime?.slice).toBe('parked');
    world.lose(trial.id);
    world.clock.advance(10 * MINUTE);

    const report = await world.watchdog();
    expect(report.findings).toEqual([{ trialId: trial.id, experimentId: trial.experiment, status: 'In Progress', action: 'recovery', reason: REASONS.emptyQueue }]);
    expect(world.trial(trial.id).runtime?.orphaned).toBe(REASONS.emptyQueue);
    // A second run finds the takeover in hand: nothing more is sent.
    expect((await world.watchdog()).findings).toEqual([]);
    expect(world.sent).toHaveLength(1);

    await world.queue.drain(world.handler);
    const ended = world.trial(trial.id);
    expect(ended.status).toBe('Failed');
    expect(world.calls.get('undo')).toBe(1);
    expect(world.calls.get('after')).toBeUndefined();
    expect(resultOf(ended)).toContain(`Trial Failed: ${REASONS.emptyQueue}`);
    expect(world.recorded.filter((m) => m.name === 'OverdueTrials')).toEqual([{ name: 'OverdueTrials', value: 1, context: { experiment: trial.experiment } }]);
    expect((await world.watchdog()).checked).toBe(0);
  });

  it('takes over a trial no worker touched past its lease, while other trials run on; its old message, if it ever comes back, runs nothing', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [wait('long', 3600), work('after', 1000)], post_steps: [work('undo', 1000)] });
    await world.queue.poll(world.handler);
    const lease = Date.parse(world.trial(trial.id).runtime?.lease_until as string);
    // The message is stuck in flight (say, a worker keeps failing before it can claim the trial) long past the lease.
    world.queue.pending[0]!.visibleAt = lease + 3 * 3600_000;
    world.clock.set(lease + 1000);
    const other = await world.addTrial({ steps: [work('other', 1000)] });

    const report = await world.watchdog();
    expect(report.findings.map((f) => [f.trialId, f.action, f.reason])).toEqual([[trial.id, 'recovery', REASONS.noWorker]]);
    // The old message comes back first: it is acknowledged without running anything.
    const old = world.queue.pending[0]!;
    old.visibleAt = world.clock.now().getTime();
    await world.queue.poll(world.handler);
    expect(old.deleted).toBe(true);
    expect(world.trial(trial.id).runtime?.orphaned).toBe(REASONS.noWorker);
    await world.queue.drain(world.handler);

    expect(world.trial(trial.id).status).toBe('Failed');
    expect(world.calls.get('undo')).toBe(1);
    expect(world.calls.get('after')).toBeUndefined();
    expect(world.trial(other.id).status).toBe('Succeeded');
    expect(resultOf(world.trial(trial.id))).toContain(REASONS.noWorker);
  });

  it('aborts a Scheduled trial whose message is gone once a trial queued after it has started, and leaves queued ones alone', async () => {
    const world = buildWorld();
    const long = await world.addTrial({ steps: [wait('long', 3600)] });
    const lost = await world.addTrial({ steps: [work('never', 1000)] }, false);
    const waiting = await world.addTrial({ steps: [work('queued', 1000)] });
    await world.queue.poll(world.handler);
    world.clock.advance(10 * MINUTE);
    // `lost` has no message but nothing proves it yet: the long trial runs, `waiting` waits behind it.
    expect((await world.watchdog()).findings).toEqual([]);

    const later = await world.addTrial({ steps: [wait('later', 3600)] });
    world.lose(long.id);
    world.lose(waiting.id);
    await world.queue.poll(world.handler);
    expect(world.trial(later.id).status).toBe('In Progress');

    const report = await world.watchdog();
    expect(report.findings.map((f) => [f.trialId, f.action])).toEqual(
      expect.arrayContaining([
        [long.id, 'recovery'],
        [lost.id, 'aborted'],
        [waiting.id, 'aborted'],
      ]),
    );
    expect(report.findings).toHaveLength(3);
    expect(world.trial(lost.id).status).toBe('Aborted');
    expect(resultOf(world.trial(lost.id))).toContain(`Trial Aborted: ${REASONS.overtaken} No step was run.`);
    expect(world.calls.get('never')).toBeUndefined();
    expect(world.trial(later.id).status).toBe('In Progress');
  });

  it('leaves a young Scheduled trial alone even with an empty queue (its message may still be on its way)', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [work('one', 1000)] }, false);
    world.clock.advance(MINUTE);
    expect((await world.watchdog()).findings).toEqual([]);
    world.clock.advance(10 * MINUTE);
    expect((await world.watchdog()).findings.map((f) => f.action)).toEqual(['aborted']);
    expect(world.trial(trial.id).status).toBe('Aborted');
  });

  it('hands a recovery that stalled on again once its own lease is over, under the first reason', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [wait('long', 3600)], post_steps: [work('undo', 1000)] });
    await world.queue.poll(world.handler);
    world.lose(trial.id);
    world.clock.advance(10 * MINUTE);
    await world.watchdog();
    // The recovery delivery is lost too.
    for (const message of world.queue.pending) message.deleted = true;
    world.clock.advance(10 * MINUTE);
    expect((await world.watchdog()).findings).toEqual([]);
    world.clock.advance(15 * MINUTE);
    expect((await world.watchdog()).findings.map((f) => f.reason)).toEqual([REASONS.emptyQueue]);
    expect(world.sent.map((s) => s.trialId)).toEqual([trial.id, trial.id]);
    expect(new Set(world.sent.map((s) => s.key)).size).toBe(2);
    await world.queue.drain(world.handler);
    expect(world.trial(trial.id).status).toBe('Failed');
    expect(world.calls.get('undo')).toBe(1);
  });

  it('ends a stopped trial whose message was lost Stopped, with its post steps', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [wait('long', 3600)], post_steps: [work('undo', 1000)] });
    await world.queue.poll(world.handler);
    world.lose(trial.id);
    world.store.requestStop(trial.id);
    world.clock.advance(10 * MINUTE);
    await world.watchdog();
    await world.queue.drain(world.handler);
    expect(world.trial(trial.id).status).toBe('Stopped');
    expect(world.calls.get('undo')).toBe(1);
  });

  it('trusts exact knowledge where the queue has it (local mode): a trial the worker no longer holds', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [wait('long', 3600)], post_steps: [work('undo', 1000)] });
    await world.queue.poll(world.handler);
    world.clock.advance(10 * MINUTE);
    const held = new Set([trial.id]);
    const local = makeWatchdog({ trials: world.store, probe: { isEmpty: async () => false, holds: (id) => held.has(id) }, recoveries: { enqueueRecovery: async () => undefined }, clock: world.clock, logger: silent });
    expect((await local()).findings).toEqual([]);
    held.delete(trial.id);
    expect((await local()).findings.map((f) => f.reason)).toEqual([REASONS.notHeld]);
  });
});

describe('slicing metrics', () => {
  it('publishes one QueueHandOffs per hand-back and, per finished trial, TrialSlices with the invocations it took', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [work('one', 1000), wait('a', 20 * 60), wait('b', 20 * 60), work('two', 1000)] });
    await world.queue.drain(world.handler);
    const invocations = world.trial(trial.id).invocations ?? 0;
    expect(invocations).toBeGreaterThanOrEqual(3);
    expect(world.recorded.filter((m) => m.name === 'QueueHandOffs')).toHaveLength(invocations - 1);
    expect(world.recorded.filter((m) => m.name === 'TrialSlices')).toEqual([{ name: 'TrialSlices', value: invocations }]);
  });
});
