import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoScheduleStore } from '../../functions/adapters/dynamodb/schedule-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import type { Experiment } from '../../functions/domain/experiment.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import type { ScheduleFiring } from '../../functions/ports.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { systemClock, uuidIds } from '../../functions/wiring.js';
import { RecordingCloud } from '../support/api-harness.js';
import { startTestDynamo } from '../support/dynamo.js';

type Dynamo = Awaited<ReturnType<typeof startTestDynamo>>;
let dynamo: Dynamo;
let experiments: DynamoExperimentStore;
let trials: DynamoTrialStore;
let schedules: DynamoScheduleStore;
let cloud: RecordingCloud;
let fire: ReturnType<typeof makeFireSchedule>;
let seq = 0;

beforeEach(async () => {
  dynamo = await startTestDynamo();
  experiments = new DynamoExperimentStore(dynamo.documentClient, dynamo.tableName);
  trials = new DynamoTrialStore(dynamo.documentClient, dynamo.tableName);
  schedules = new DynamoScheduleStore(dynamo.documentClient, dynamo.tableName);
  cloud = new RecordingCloud();
  fire = makeFireSchedule({ experiments, trials, schedules, cloud, clock: systemClock, ids: uuidIds });
});
afterEach(() => dynamo.close());

async function setup(count: number | null): Promise<{ experiment: Experiment; schedule: Schedule }> {
  seq += 1;
  const at = '2027-01-01T00:00:00.000Z';
  const experiment: Experiment = {
    id: `e${seq}-0000-4000-8000-000000000000`,
    name: 'e',
    description: '',
    metadata: { team: 'a', env: 'exp' },
    parameters: { x: 'experiment' },
    pre_steps: [],
    steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }],
    post_steps: [],
    created_by: 'alice',
    created_at: at,
    updated_by: 'alice',
    updated_at: at,
  };
  const schedule: Schedule = {
    id: `s${seq}-0000-4000-8000-000000000000`,
    experiment_id: experiment.id,
    metadata: { env: 'schedule' },
    parameters: { x: 'schedule' },
    ticket: { id: 'CHG-1' },
    recurrence_pattern: '* * * * *',
    recurrence_count: count,
    recurrence_left: count,
    ...SCHEDULE_DEFAULTS,
    generation: 1,
    created_by: 'bob',
    created_at: at,
    updated_by: 'bob',
    updated_at: at,
  };
  await experiments.create(experiment);
  await schedules.create(schedule);
  await cloud.arm(schedule);
  return { experiment, schedule };
}

function firing(schedule: Schedule, minute: number, arn = `arn:aws:scheduler:eu-west-1:1:schedule/g/${schedule.id}-g1-0`, generation = 1): ScheduleFiring {
  return {
    kind: 'schedule-firing',
    schedule_id: schedule.id,
    experiment_id: schedule.experiment_id,
    generation,
    schedule_arn: arn,
    scheduled_time: new Date(Date.UTC(2027, 0, 1, 0, minute)).toISOString().replace('.000', ''),
  };
}

async function firingItem(schedule: Schedule, minute: number): Promise<Record<string, unknown> | undefined> {
  const key = { pk: `EXPERIMENT#${schedule.experiment_id}`, sk: `FIRING#${schedule.id}#${firing(schedule, minute).scheduled_time}` };
  return (await dynamo.documentClient.send(new GetCommand({ TableName: dynamo.tableName, Key: key, ConsistentRead: true }))).Item;
}

describe('fire-schedule', () => {
  it('creates one trial per firing carrying the schedule ticket, parameters, creator and merged metadata', async () => {
    const { schedule } = await setup(2);
    const trialId = await fire(firing(schedule, 1));
    const trial = await trials.get(String(trialId));
    expect(trial).toMatchObject({
      status: 'Scheduled',
      parameters: { x: 'schedule' },
      metadata: { team: 'a', env: 'schedule' },
      ticket: { id: 'CHG-1' },
      initiated_by: 'bob',
      initiated_from: 'schedule',
      schedule_id: schedule.id,
    });
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(1);
  });

  it('counts a firing delivered twice once, and gives both deliveries the same trial', async () => {
    const { schedule } = await setup(5);
    const first = await fire(firing(schedule, 1));
    const again = await fire(firing(schedule, 1));
    // The other cloud schedule of an OR pattern firing the same minute is the same Unix firing.
    const twin = await fire(firing(schedule, 1, 'arn:aws:scheduler:eu-west-1:1:schedule/g/x-1'));
    expect(again).toBe(first);
    // ...so it starts nothing more, and is recorded beside the first as a duplicate.
    expect(twin).toBeUndefined();
    const records = (await schedules.listFirings(schedule.experiment_id, schedule.id, { limit: 10 })).items;
    expect(records.map((r) => [r.outcome, r.trial_id, r.schedule_arn])).toEqual([
      ['duplicate', first, 'arn:aws:scheduler:eu-west-1:1:schedule/g/x-1'],
      ['started', first, firing(schedule, 1).schedule_arn],
    ]);
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.firing_counts).toEqual({ started: 1, duplicate: 1 });
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(4);
    expect((await trials.listBySchedule(schedule.id, { limit: 10 })).items).toHaveLength(1);
  });

  it('recovers after a crash between counting and creating the trial', async () => {
    const { schedule } = await setup(1);
    // A previous delivery claimed and counted the firing, then died before creating the trial.
    const claimed = 'c0000000-0000-4000-8000-000000000001';
    const f = firing(schedule, 1);
    await schedules.recordFiring({ ...f, generation: 1, outcome: 'started', trial_id: claimed, received_at: '2027-01-01T00:01:00.100Z' });
    await schedules.applyFiring(f);
    const trialId = await fire(firing(schedule, 1));
    expect(trialId).toBe(claimed);
    expect(await trials.get(claimed as string)).toMatchObject({ status: 'Scheduled' });
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(0);
  });

  it('stops at recurrence_count: the last firing removes the cloud schedule, a later one creates nothing', async () => {
    const { schedule } = await setup(2);
    expect(await fire(firing(schedule, 1))).toBeDefined();
    expect(cloud.armed.has(schedule.id)).toBe(true);
    expect(await fire(firing(schedule, 2))).toBeDefined();
    expect(cloud.armed.has(schedule.id)).toBe(false);
    expect(await fire(firing(schedule, 3))).toBeUndefined();
    expect(await firingItem(schedule, 3)).toMatchObject({ outcome: 'exhausted', reason: 'the schedule had no firings left' });
    expect((await trials.listBySchedule(schedule.id, { limit: 10 })).items).toHaveLength(2);
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(0);
  });

  it('returns the last trial even when the scheduler refuses to remove the exhausted cloud schedule', async () => {
    const { schedule } = await setup(1);
    cloud.failNext = true;
    const trialId = await fire(firing(schedule, 1));
    expect(await trials.get(String(trialId))).toMatchObject({ status: 'Scheduled', schedule_id: schedule.id });
    expect(cloud.calls.at(-1)).toBe(`disarm ${schedule.id}`);
    // Left to its EndDate and to reconciliation.
    expect(cloud.armed.has(schedule.id)).toBe(true);
  });

  it('fires forever when recurrence_count is null', async () => {
    const { schedule } = await setup(null);
    for (let minute = 1; minute <= 3; minute += 1) expect(await fire(firing(schedule, minute))).toBeDefined();
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBeNull();
    expect((await trials.listBySchedule(schedule.id, { limit: 10 })).items).toHaveLength(3);
  });

  it('costs 2 reads and 4 writes per firing (the trial, its experiment snapshot), none refused, for counted and forever schedules alike', async () => {
    const counts: Record<string, number> = {};
    dynamo.documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        counts[String(context.commandName)] = (counts[String(context.commandName)] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    for (const count of [3, null]) {
      const { schedule } = await setup(count);
      for (const key of Object.keys(counts)) delete counts[key];
      await fire(firing(schedule, 1));
      expect(counts).toEqual({ GetItemCommand: 2, PutItemCommand: 3, UpdateItemCommand: 1 });
    }
    dynamo.documentClient.middlewareStack.remove('countCommands');
  });

  it('drops a firing of a deleted schedule or experiment, removes the cloud schedule that fired and records why', async () => {
    const { schedule } = await setup(3);
    await schedules.markDeleted(schedule.experiment_id, schedule.id, 'carol', '2027-01-01T00:00:30.000Z');
    expect(await fire(firing(schedule, 1))).toBeUndefined();
    const other = await setup(3);
    await experiments.markDeleted(other.experiment.id, 'x', '2027-01-02T00:00:00Z');
    expect(await fire(firing(other.schedule, 1))).toBeUndefined();
    expect((await trials.list({}, { limit: 10 })).items).toEqual([]);
    expect(cloud.calls).toEqual(expect.arrayContaining([`remove ${firing(schedule, 1).schedule_arn}`, `remove ${firing(other.schedule, 1).schedule_arn}`]));
    expect(cloud.armed.size).toBe(0);
    expect(await firingItem(schedule, 1)).toMatchObject({ outcome: 'orphaned', reason: 'the schedule no longer exists' });
    expect(await firingItem(other.schedule, 1)).toMatchObject({ outcome: 'skipped_experiment_deleted', reason: 'the experiment no longer exists' });
  });

  it('drops a firing armed by an older generation, removes that cloud schedule and arms the current one', async () => {
    const { schedule } = await setup(5);
    const current = await schedules.update({ ...schedule, recurrence_pattern: '*/5 * * * *', generation: 2 }, false);
    expect(await fire(firing(schedule, 1))).toBeUndefined();
    expect(cloud.generations.has(`${schedule.id}-g1-0`)).toBe(false);
    expect(cloud.armed.get(schedule.id)).toMatchObject({ generation: 2, recurrence_pattern: '*/5 * * * *' });
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(5);
    expect(await firingItem(schedule, 1)).toMatchObject({ outcome: 'stale_generation', generation: 1, reason: 'armed by generation 1; the schedule is at generation 2' });
    // The current generation's firings count as usual.
    expect(await fire(firing(current, 5, `arn:aws:scheduler:eu-west-1:1:schedule/g/${schedule.id}-g2-0`, 2))).toBeDefined();
  });

  it('keeps firing records readable and expiring: outcome, trial, received time, TTL 14 days', async () => {
    const { schedule } = await setup(2);
    const trialId = await fire(firing(schedule, 1));
    const item = await firingItem(schedule, 1);
    expect(item).toMatchObject({ type: 'FIRING', schedule_id: schedule.id, scheduled_time: '2027-01-01T00:01:00Z', outcome: 'started', trial_id: trialId, generation: 1 });
    const received = Date.parse(String(item?.['received_at']));
    expect(item?.['expires_at']).toBe(Math.floor(received / 1000) + 14 * 24 * 3600);
  });

  it('ignores a late duplicate of an older firing once a newer one was counted', async () => {
    const { schedule } = await setup(5);
    await fire(firing(schedule, 2));
    expect(await fire(firing(schedule, 1))).toBeUndefined();
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(4);
  });
});

describe('fire-schedule: the schedule own rules, recorded', () => {
  const at = (iso: string) => makeFireSchedule({ experiments, trials, schedules, cloud, clock: { now: () => new Date(iso) }, ids: uuidIds });

  it('records a firing later than starting_deadline_seconds as skipped_deadline, counts nothing, leaves the cloud alone', async () => {
    const { schedule } = await setup(3);
    await schedules.update({ ...schedule, starting_deadline_seconds: 600, generation: 2 }, false);
    const late = { ...firing(schedule, 1), generation: 2 };
    cloud.calls.length = 0;
    // Scheduled 00:01, reached the worker at 00:31 (the queue was busy): 1800 s late.
    expect(await at('2027-01-01T00:31:00Z')(late)).toBeUndefined();
    expect(await firingItem(schedule, 1)).toMatchObject({
      outcome: 'skipped_deadline',
      reason: 'the firing reached the worker 1800 s after its scheduled time, later than starting_deadline_seconds (600)',
      received_at: '2027-01-01T00:31:00.000Z',
    });
    const stored = await schedules.get(schedule.experiment_id, schedule.id);
    expect(stored?.recurrence_left).toBe(3);
    expect(stored?.firing_counts).toEqual({ skipped_deadline: 1 });
    expect(cloud.calls).toEqual([]);
    // In time: started.
    expect(await at('2027-01-01T00:02:30Z')({ ...firing(schedule, 2), generation: 2 })).toBeDefined();
  });

  it('with overlap skip, records a firing during the previous trial as skipped_overlap and starts the next one after it', async () => {
    const { schedule } = await setup(null);
    await schedules.update({ ...schedule, overlap: 'skip', generation: 2 }, false);
    const first = String(await at('2027-01-01T00:01:00Z')({ ...firing(schedule, 1), generation: 2 }));
    await trials.transition(first, ['Scheduled'], 'In Progress', { executed_at: '2027-01-01T00:01:01.000Z' });
    expect(await at('2027-01-01T00:02:00Z')({ ...firing(schedule, 2), generation: 2 })).toBeUndefined();
    expect(await firingItem(schedule, 2)).toMatchObject({ outcome: 'skipped_overlap', reason: `overlap is skip and the previous trial ${first} is still In Progress` });
    await trials.transition(first, ['In Progress'], 'Succeeded', { completed_at: '2027-01-01T00:02:30.000Z' });
    expect(await at('2027-01-01T00:03:00Z')({ ...firing(schedule, 3), generation: 2 })).toBeDefined();
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.firing_counts).toEqual({ started: 2, skipped_overlap: 1 });
  });

  it('records a firing that arrives after a pause as skipped_paused', async () => {
    const { schedule } = await setup(3);
    await schedules.update({ ...schedule, state: 'DISABLED', generation: 2 }, false);
    // Armed by generation 1, on its way when the schedule was paused (generation 2).
    expect(await fire(firing(schedule, 1))).toBeUndefined();
    expect(await firingItem(schedule, 1)).toMatchObject({ outcome: 'skipped_paused', reason: 'the schedule was paused (state DISABLED) when the firing arrived' });
    expect((await schedules.get(schedule.experiment_id, schedule.id))?.recurrence_left).toBe(3);
    expect(cloud.calls).toContain(`remove ${firing(schedule, 1).schedule_arn}`);
  });

  it('keeps the scheduled, sent and received times of a jittered firing', async () => {
    const { schedule } = await setup(3);
    await at('2027-01-01T00:08:30Z')({ ...firing(schedule, 1), fired_at: '2027-01-01T00:08:29.000Z' });
    expect(await firingItem(schedule, 1)).toMatchObject({ scheduled_time: '2027-01-01T00:01:00Z', fired_at: '2027-01-01T00:08:29.000Z', received_at: '2027-01-01T00:08:30.000Z', outcome: 'started' });
  });
});
