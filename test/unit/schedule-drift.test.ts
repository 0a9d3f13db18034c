/**
 * The ways a schedule's record and its cloud schedules used to drift apart, each
 * reproduced against the real EventBridge adapter on a fake Scheduler that follows
 * the service's documented behaviour, with the repaired end state.
 */
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { EventBridgeCloudScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import type { Schedule } from '../../functions/domain/schedule.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { makeReconcileSchedules } from '../../functions/use-cases/reconcile-schedules.js';
import { makeScheduleUseCases } from '../../functions/use-cases/schedules.js';
import { FakeEventBridgeScheduler } from '../support/fake-eventbridge-scheduler.js';
import { MemoryScheduleStore } from '../support/memory-schedule-store.js';
import { FakeClock, makeExperiment, MemoryExperimentStore, MemoryTrialStore, newId } from '../support/memory-stores.js';

const GROUP = 'kallisti-test';
const target = {
  queueArn: 'arn:aws:sqs:eu-west-1:123456789012:kallisti-test-trials.fifo',
  roleArn: 'arn:aws:iam::123456789012:role/kallisti-test-scheduler',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:kallisti-test-schedule-dlq',
};
const alice = { id: 'alice' };
const bob = { id: 'bob' };
const accessDenied = () => Object.assign(new Error('User is not authorized to perform: scheduler:DeleteSchedule'), { name: 'AccessDeniedException' });
/** The Lambda running the request dies here: nothing after this call happens. */
const killed = () => new Error('Task timed out after 29.00 seconds');

function world() {
  const clock = new FakeClock('2027-03-01T10:00:30.000Z');
  const aws = new FakeEventBridgeScheduler(() => clock.now());
  const cloud = new EventBridgeCloudScheduler(aws.client(), { groupName: GROUP, target, clock });
  const experiments = new MemoryExperimentStore();
  const trials = new MemoryTrialStore();
  const schedules = new MemoryScheduleStore();
  const problems: string[] = [];
  const logger = { info: () => undefined, warn: (m: string) => void problems.push(m), error: (m: string) => void problems.push(m) };
  const deps = { schedules, experiments, trials, cloud, clock, ids: { newId }, logger };
  const api = makeScheduleUseCases(deps);
  const fire = makeFireSchedule(deps);
  const reconcile = makeReconcileSchedules({ schedules, experiments, cloud, clock, logger, graceMs: 0 });
  const names = () => aws.names(GROUP);
  /** The firing the cloud schedule `name` sends, a minute later than the last one. */
  const firingOf = (name: string) => {
    clock.advance(60_000);
    return aws.firing(GROUP, name, clock.now());
  };
  const experiment = async () => {
    const e = makeExperiment({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    await experiments.create(e);
    return e.id;
  };
  return { clock, aws, cloud, experiments, trials, schedules, api, fire, reconcile, names, firingOf, experiment, problems };
}

describe('schedule drift: each way store and cloud could part, and how they meet again', () => {
  it('partial create (-0 created, -1 refused): the stored schedule stands and reconciliation arms -1', async () => {
    const w = world();
    const experimentId = await w.experiment();
    w.aws.failNext('CreateSchedule', undefined, { skip: 1 });
    const view = await w.api.create(experimentId, { recurrence_pattern: '0 12 1 * 1' }, alice);
    expect(w.names()).toEqual([`${view.id}-g1-0`]);
    expect(await w.schedules.get(experimentId, view.id)).toMatchObject({ generation: 1 });

    expect(await w.reconcile()).toMatchObject({ missing: 1, orphan: 0, stale: 0, failures: 0 });
    expect(w.names()).toEqual([`${view.id}-g1-0`, `${view.id}-g1-1`]);
    expect(await w.reconcile()).toMatchObject({ missing: 0, orphan: 0, stale: 0, cascaded: 0 });
  });

  it('create answered with an error after the service made it: no orphan, nothing undone', async () => {
    const w = world();
    const experimentId = await w.experiment();
    w.aws.failNext('CreateSchedule', killed(), { applied: true });
    const view = await w.api.create(experimentId, { recurrence_pattern: '*/5 * * * *' }, alice);
    expect(w.names()).toEqual([`${view.id}-g1-0`]);
    expect(await w.schedules.get(experimentId, view.id)).toBeDefined();
    expect(await w.reconcile()).toMatchObject({ missing: 0, orphan: 0, stale: 0 });
  });

  it('crash between the store and the cloud, on create, update and delete: firings and reconciliation repair each', async () => {
    const w = world();
    const experimentId = await w.experiment();
    // Create: stored, never armed.
    w.aws.failNext('CreateSchedule', killed());
    const created = await w.api.create(experimentId, { recurrence_pattern: '* * * * *', recurrence_count: 10 }, alice);
    expect(w.names()).toEqual([]);
    expect(await w.reconcile()).toMatchObject({ missing: 1 });
    expect(w.names()).toEqual([`${created.id}-g1-0`]);

    // Update: stored as generation 2, the cloud still fires generation 1.
    w.aws.failNext('CreateSchedule', killed());
    await w.api.update(experimentId, created.id, { recurrence_pattern: '*/2 * * * *' }, alice, 'patch');
    expect(w.names()).toEqual([`${created.id}-g1-0`]);
    // Its next firing starts nothing, removes itself and arms generation 2.
    expect(await w.fire(w.firingOf(`${created.id}-g1-0`))).toBeUndefined();
    expect(w.names()).toEqual([`${created.id}-g2-0`]);
    expect(w.aws.get(GROUP, `${created.id}-g2-0`)?.ScheduleExpression).toBe('cron(0/2 * * * ? *)');
    expect((await w.schedules.get(experimentId, created.id))?.recurrence_left).toBe(10);

    // Delete: the request dies right after marking the schedule deleted (generation 3); the cloud still fires generation 2.
    await w.schedules.markDeleted(experimentId, created.id, 'alice', w.clock.now().toISOString());
    expect(w.names()).toEqual([`${created.id}-g2-0`]);
    expect(await w.reconcile()).toMatchObject({ orphan: 1 });
    expect(w.names()).toEqual([]);
    expect(w.trials.items.size).toBe(0);
  });

  it('a failed disarm at exhaustion never blocks the trial; the EndDate and reconciliation remove the cloud schedule', async () => {
    const w = world();
    const experimentId = await w.experiment();
    const view = await w.api.create(experimentId, { recurrence_pattern: '* * * * *', recurrence_count: 1 }, alice);
    const name = `${view.id}-g1-0`;
    // The self-deleting net: one period (a minute) and a minute after the only fire time, 10:01.
    expect(w.aws.get(GROUP, name)).toMatchObject({ EndDate: new Date('2027-03-01T10:03:00.000Z'), ActionAfterCompletion: 'DELETE' });
    w.aws.failNext('DeleteSchedule', accessDenied());
    w.aws.failNext('DeleteSchedule', accessDenied());
    const trialId = await w.fire(w.firingOf(name));
    expect(w.trials.items.get(String(trialId))).toMatchObject({ status: 'Scheduled', schedule_id: view.id });
    expect(w.names()).toEqual([name]);
    expect(w.problems).toContain('Could not remove the exhausted cloud schedule; reconciliation will');

    expect(await w.reconcile()).toMatchObject({ orphan: 1, missing: 0 });
    expect(w.names()).toEqual([]);
  });

  it('a late exhaustion disarm racing a PATCH that raises the count never removes the newly armed generation', async () => {
    const w = world();
    const experimentId = await w.experiment();
    const view = await w.api.create(experimentId, { recurrence_pattern: '* * * * *', recurrence_count: 1 }, alice);
    const firing = w.firingOf(`${view.id}-g1-0`);
    // The worker has counted the last firing and is about to remove the cloud schedule when the PATCH lands.
    let patched = false;
    w.aws.onCall = async (command) => {
      if (command !== 'DeleteSchedule' || patched) return;
      patched = true;
      await w.api.update(experimentId, view.id, { recurrence_count: 5 }, bob, 'patch');
    };
    expect(await w.fire(firing)).toBeDefined();
    w.aws.onCall = undefined;

    expect(await w.schedules.get(experimentId, view.id)).toMatchObject({ recurrence_left: 5, generation: 2 });
    expect(w.names()).toEqual([`${view.id}-g2-0`]);
    expect(await w.reconcile()).toMatchObject({ missing: 0, orphan: 0, stale: 0 });
  });

  it('concurrent edits: one wins (409 for the other); edits arming out of order end with the newest definition', async () => {
    const w = world();
    const experimentId = await w.experiment();
    const view = await w.api.create(experimentId, { recurrence_pattern: '* * * * *' }, alice);
    const read = (await w.schedules.get(experimentId, view.id)) as NonNullable<Awaited<ReturnType<typeof w.schedules.get>>>;
    await w.schedules.update({ ...read, recurrence_pattern: '*/2 * * * *', generation: 2 }, false);
    await expect(w.schedules.update({ ...read, recurrence_pattern: '*/3 * * * *', generation: 2 }, false)).rejects.toThrow(/changed by another request/);

    // Generation 3 is stored after 2; their arming reaches the cloud in the other order.
    const second = await w.schedules.update({ ...read, recurrence_pattern: '*/4 * * * *', generation: 3 }, false);
    const first = { ...second, recurrence_pattern: '*/2 * * * *', generation: 2 };
    await w.cloud.arm(second);
    await w.cloud.arm(first);
    expect(w.names()).toEqual([`${view.id}-g2-0`, `${view.id}-g3-0`]);
    // The older generation's firing starts nothing and removes only itself.
    expect(await w.fire(w.firingOf(`${view.id}-g2-0`))).toBeUndefined();
    expect(w.names()).toEqual([`${view.id}-g3-0`]);
    expect(w.aws.get(GROUP, `${view.id}-g3-0`)?.ScheduleExpression).toBe('cron(0/4 * * * ? *)');
    expect(await w.fire(w.firingOf(`${view.id}-g3-0`))).toBeDefined();
  });

  it('orphan firing: a deleted schedule or experiment starts nothing and its cloud schedule is removed', async () => {
    const w = world();
    const experimentId = await w.experiment();
    const view = await w.api.create(experimentId, { recurrence_pattern: '* * * * *' }, alice);
    // The experiment is deleted by hand in the store (a cascade that never ran).
    await w.experiments.markDeleted(experimentId);
    expect(await w.fire(w.firingOf(`${view.id}-g1-0`))).toBeUndefined();
    expect(w.names()).toEqual([]);
    expect([...w.schedules.firings.values()]).toEqual([expect.objectContaining({ outcome: 'skipped_experiment_deleted', reason: 'the experiment no longer exists' })]);
    // Reconciliation completes the cascade in the store.
    expect(await w.reconcile()).toMatchObject({ cascaded: 1 });
    expect(await w.schedules.get(experimentId, view.id, { includeDeleted: true })).toMatchObject({ deleted_by: 'reconciler', generation: 2 });
  });

  it('a schedule created while its experiment is being deleted does not survive the cascade', async () => {
    const w = world();
    const experimentId = await w.experiment();
    // The cascade lists the schedules and marks the experiment while this create is between its reads and its write.
    const original = w.schedules.create.bind(w.schedules);
    w.schedules.create = async (schedule) => {
      await w.experiments.markDeleted(experimentId);
      await original(schedule);
    };
    await expect(w.api.create(experimentId, { recurrence_pattern: '* * * * *' }, alice)).rejects.toThrow(/not found/);
    expect(await w.schedules.listAll({ limit: 10 })).toEqual({ items: [] });
    expect(w.names()).toEqual([]);
  });

  it('recurrence_count 10^9 answers at once: no EndDate walk, an open-ended cloud schedule the worker ends', async () => {
    const w = world();
    const experimentId = await w.experiment();
    const view = await w.api.create(experimentId, { recurrence_pattern: '* * * * *', recurrence_count: 1_000_000_000 }, alice);
    expect(w.aws.get(GROUP, `${view.id}-g1-0`)).toMatchObject({ ActionAfterCompletion: 'NONE' });
    expect(w.aws.get(GROUP, `${view.id}-g1-0`)?.EndDate).toBeUndefined();
    expect(view.recurrence_left).toBe(1_000_000_000);
  });

  it('a cloud schedule whose EndDate passed while firings were missed is armed again, with a new EndDate', async () => {
    const w = world();
    const experimentId = await w.experiment();
    const view = await w.api.create(experimentId, { recurrence_pattern: '* * * * *', recurrence_count: 2 }, alice);
    // Both firings were lost (dead-letter queue); the cloud schedule deleted itself at its EndDate.
    w.clock.advance(10 * 60_000);
    w.aws.advanceTo(w.clock.now());
    expect(w.names()).toEqual([]);
    expect(await w.reconcile()).toMatchObject({ missing: 1 });
    expect(w.aws.get(GROUP, `${view.id}-g1-0`)?.EndDate).toEqual(new Date('2027-03-01T10:14:00.000Z'));
  });

  it('leaves cloud schedules it did not make alone, and fresh ones to the next run', async () => {
    const w = world();
    await w.aws.client().send(new CreateScheduleCommand({
      Name: 'hand-made',
      GroupName: GROUP,
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: target.queueArn, RoleArn: target.roleArn },
    }));
    // Armed a moment ago, its record not (yet) readable: a create in flight, as far as reconciliation can tell.
    await w.cloud.arm(await freshSchedule(w), false);
    const graceful = makeReconcileSchedules({ schedules: w.schedules, experiments: w.experiments, cloud: w.cloud, clock: w.clock });
    expect(await graceful()).toMatchObject({ foreign: 1, recent: 1, orphan: 0 });
    w.clock.advance(6 * 60_000);
    expect(await graceful()).toMatchObject({ foreign: 1, recent: 0, orphan: 1 });
    expect(w.names()).toEqual(['hand-made']);
  });
});

/** A schedule that exists only in the cloud (its record never written). */
async function freshSchedule(w: ReturnType<typeof world>): Promise<Schedule> {
  const experimentId = await w.experiment();
  return {
    id: newId(),
    experiment_id: experimentId,
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: '* * * * *',
    recurrence_count: null,
    recurrence_left: null,
    generation: 1,
    timezone: 'UTC',
    state: 'ENABLED',
    overlap: 'queue',
    starting_deadline_seconds: null,
    catch_up: 'none',
    start_date: null,
    end_date: null,
    jitter_seconds: 0,
    created_by: 'x',
    created_at: '2027-03-01T10:00:00.000Z',
    updated_by: 'x',
    updated_at: '2027-03-01T10:00:00.000Z',
  };
}
