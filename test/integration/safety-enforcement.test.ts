import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoSafetyStore } from '../../functions/adapters/dynamodb/safety-store.js';
import { DynamoScheduleStore } from '../../functions/adapters/dynamodb/schedule-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import type { Experiment } from '../../functions/domain/experiment.js';
import type { FreezeWindow } from '../../functions/domain/safety/freeze.js';
import type { Halt } from '../../functions/domain/safety/halt.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { makeExecutorSafety } from '../../functions/executor/safety-checks.js';
import { SafetyCounters } from '../../functions/metrics/safety-counters.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import type { Caller, ScheduleFiring } from '../../functions/ports.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { makeSafetyGate } from '../../functions/use-cases/safety-gate.js';
import { makeSafetyUseCases } from '../../functions/use-cases/safety.js';
import { uuidIds } from '../../functions/wiring.js';
import { RecordingCloud } from '../support/api-harness.js';
import { startTestDynamo } from '../support/dynamo.js';
import { FakeClock, makeTrial } from '../support/memory-stores.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const at = '2024-01-01T00:00:00.000Z';

let dynamo: Awaited<ReturnType<typeof startTestDynamo>>;
let experiments: DynamoExperimentStore;
let trials: DynamoTrialStore;
let schedules: DynamoScheduleStore;
let safety: DynamoSafetyStore;
let metrics: SafetyCounters;
let clock: FakeClock;
let cloud: RecordingCloud;

const experiment: Experiment = {
  id: 'e1000000-0000-4000-8000-000000000000',
  name: 'e',
  description: '',
  metadata: { team: 'payments', env: 'prod' },
  parameters: {},
  pre_steps: [],
  steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 0.01 } }],
  post_steps: [],
  created_by: 'alice',
  created_at: at,
  updated_by: 'alice',
  updated_at: at,
};
const schedule: Schedule = {
  id: 's1000000-0000-4000-8000-000000000000',
  experiment_id: experiment.id,
  metadata: {},
  parameters: {},
  ticket: {},
  recurrence_pattern: '0 * * * *',
  recurrence_count: 10,
  recurrence_left: 10,
  generation: 0,
  ...SCHEDULE_DEFAULTS,
  created_by: 'bob',
  created_at: at,
  updated_by: 'bob',
  updated_at: at,
};
const halt: Halt = { id: 'h1', reason: 'incident', scope: { labels: { team: 'payments' } }, expires_at: null, created_by: 'alice', created_at: at, lifted_by: null, lifted_at: null, stopped_trials: [] };
const londonHours: FreezeWindow = {
  id: 'f1',
  reason: 'Business hours',
  scope: { labels: { env: 'prod' } },
  recurrence: { cron: '0 9 * * 1-5', duration_minutes: 480, timezone: 'Europe/London' },
  starts_at: null,
  ends_at: null,
  created_by: 'alice',
  created_at: at,
};
const firing = (time: string): ScheduleFiring => ({ kind: 'schedule-firing', schedule_id: schedule.id, experiment_id: experiment.id, schedule_arn: 'arn', scheduled_time: time });

beforeEach(async () => {
  dynamo = await startTestDynamo();
  experiments = new DynamoExperimentStore(dynamo.documentClient, dynamo.tableName);
  trials = new DynamoTrialStore(dynamo.documentClient, dynamo.tableName);
  schedules = new DynamoScheduleStore(dynamo.documentClient, dynamo.tableName);
  safety = new DynamoSafetyStore(dynamo.documentClient, dynamo.tableName);
  metrics = new SafetyCounters();
  clock = new FakeClock('2024-04-02T09:00:00.000Z');
  cloud = new RecordingCloud();
  await experiments.create(experiment);
  await schedules.create(schedule);
});
afterEach(() => dynamo.close());

function runner() {
  const gate = makeSafetyGate({ safety, clock, logger: silent, metrics });
  return makeRunTrial({ trials, experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock, logger: silent, safety: makeExecutorSafety({ gate, safety, clock }) });
}

function fire() {
  return makeFireSchedule({ experiments, trials, schedules, cloud, clock, ids: uuidIds, logger: silent, gate: makeSafetyGate({ safety, clock, logger: silent, metrics }), metrics });
}

describe('the worker checks safety rules when it picks a trial up', () => {
  it('ends a trial accepted before a halt Aborted, naming the halt, without running a step', async () => {
    const trial = makeTrial(experiment.id, { metadata: experiment.metadata });
    await trials.create(trial);
    await safety.createHalt(halt);
    expect(await runner()(trial.id)).toEqual({ outcome: 'ran', status: 'Aborted' });
    const stored = await trials.get(trial.id);
    expect(stored?.executed_at).toBeNull();
    expect(stored?.trial_record.steps).toEqual([]);
    expect(stored?.trial_record.result[0]?.logs[0]).toContain('Trial Aborted: Experiment e1000000-0000-4000-8000-000000000000 is halted by halt h1 ("incident", engaged by alice');
    expect(metrics.count('TrialRefused', { kind: 'halt', source: 'worker' })).toBe(1);
  });

  it('does not start a queued trial once a freeze window has opened, and runs it when none applies', async () => {
    await safety.createFreeze(londonHours);
    const frozen = makeTrial(experiment.id, { metadata: experiment.metadata });
    await trials.create(frozen);
    expect(await runner()(frozen.id)).toEqual({ outcome: 'ran', status: 'Aborted' });
    expect((await trials.get(frozen.id))?.trial_record.result[0]?.logs[0]).toContain('frozen by freeze window f1');
    clock.set(Date.parse('2024-04-02T17:00:00.000Z'));
    const later = makeTrial(experiment.id, { metadata: experiment.metadata });
    await trials.create(later);
    expect(await runner()(later.id)).toEqual({ outcome: 'ran', status: 'Succeeded' });
  });
});

describe('schedule firings under safety rules', () => {
  it('records a firing inside a freeze window (judged at its scheduled time) as skipped_frozen, and runs one outside', async () => {
    await safety.createFreeze(londonHours);
    // 10:00 London (BST) on Tuesday 2 April 2024.
    expect(await fire()(firing('2024-04-02T09:00:00.000Z'))).toBeUndefined();
    const { Item } = await dynamo.documentClient.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: dynamo.tableName, Key: { pk: `EXPERIMENT#${experiment.id}`, sk: `FIRING#${schedule.id}#2024-04-02T09:00:00.000Z` } }),
    );
    expect(Item).toMatchObject({ outcome: 'skipped_frozen', rule_id: 'f1', received_at: '2024-04-02T09:00:00.000Z' });
    expect((await schedules.get(experiment.id, schedule.id))?.recurrence_left).toBe(9);
    // 18:00 London.
    const trialId = await fire()(firing('2024-04-02T17:00:00.000Z'));
    expect(trialId).toBeDefined();
    expect((await trials.get(trialId as string))?.status).toBe('Scheduled');
    expect(metrics.snapshot()).toMatchObject({ 'FiringSkipped{outcome=skipped_frozen}': 1, 'TrialRefused{kind=freeze,source=schedule}': 1 });
  });

  it('keeps the trial an earlier delivery started even if a halt was engaged since', async () => {
    const first = await fire()(firing('2024-04-02T20:00:00.000Z'));
    await safety.createHalt(halt);
    expect(await fire()(firing('2024-04-02T20:00:00.000Z'))).toBe(first);
    expect(await fire()(firing('2024-04-02T21:00:00.000Z'))).toBeUndefined();
    expect((await schedules.get(experiment.id, schedule.id))?.recurrence_left).toBe(8);
  });

  it('removes the cloud schedule when a skipped firing was its last', async () => {
    const last: Schedule = { ...schedule, id: 's2000000-0000-4000-8000-000000000000', recurrence_count: 1, recurrence_left: 1 };
    await schedules.create(last);
    await safety.createHalt(halt);
    expect(await fire()({ ...firing('2024-04-02T20:00:00.000Z'), schedule_id: last.id })).toBeUndefined();
    expect(cloud.calls).toEqual([`disarm ${last.id}`]);
    expect((await schedules.get(experiment.id, last.id))?.recurrence_left).toBe(0);
  });
});

describe('a halt engaged while a trial runs', () => {
  const undo = { step: 'undo', do: 'cm.wait', where: { time_in_seconds: 0.01 } };
  const runnerWith = (modules: StepModule[]) => {
    const gate = makeSafetyGate({ safety, clock, logger: silent, metrics });
    return makeRunTrial({ trials, experiments, registry: new ModuleRegistry([...DEFAULT_MODULES, ...modules]), clock, logger: silent, metrics, safety: makeExecutorSafety({ gate, safety, clock }) });
  };

  it('stops a trial parked in a long wait when it comes back, though the halt never swept it: post steps run, the record names the halt', async () => {
    const long: Experiment = { ...experiment, id: 'e2000000-0000-4000-8000-000000000000', steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: 3600 } }], post_steps: [undo] };
    await experiments.create(long);
    const trial = makeTrial(long.id, { metadata: {} });
    await trials.create(trial);
    const run = runnerWith([]);
    expect(await run(trial.id, { deadline: clock.now().getTime() + 600_000 })).toMatchObject({ outcome: 'parked', status: 'In Progress' });
    // Stored straight into the table: as if the halt's sweep had failed to reach this trial.
    await safety.createHalt(halt);
    clock.advance(3_600_000);
    expect(await run(trial.id, { deadline: clock.now().getTime() + 600_000 })).toEqual({ outcome: 'ran', status: 'Stopped' });
    const stored = await trials.get(trial.id);
    expect(stored?.trial_record.steps[0]?.logs.at(-1)).toContain('Stopped: a stop was requested while the step waited.');
    expect(stored?.trial_record.post_steps).toHaveLength(1);
    expect(stored?.trial_record.result[0]?.logs.join('\n')).toContain('The stop was requested by halt h1 ("incident"');
    expect(metrics.count('TrialStoppedByHalt', { source: 'worker' })).toBe(1);
  });

  it('does not start the next main step once a halt applies', async () => {
    const engage: StepModule = { name: 'test.engage_halt', description: 'engages a halt', whereSchema: { type: 'object' }, maxRunMs: () => 1000, run: async () => (await safety.createHalt(halt), { engaged: true }) };
    const twoSteps: Experiment = { ...experiment, id: 'e3000000-0000-4000-8000-000000000000', steps: [{ step: 'first', do: 'test.engage_halt', where: {} }, { step: 'second', do: 'cm.wait', where: { time_in_seconds: 0.01 } }], post_steps: [undo] };
    await experiments.create(twoSteps);
    const trial = makeTrial(twoSteps.id, { metadata: {} });
    await trials.create(trial);
    expect(await runnerWith([engage])(trial.id)).toEqual({ outcome: 'ran', status: 'Stopped' });
    const stored = await trials.get(trial.id);
    expect(stored?.trial_record.steps).toHaveLength(1);
    expect(stored?.trial_record.post_steps).toHaveLength(1);
    expect(stored?.trial_record.result[0]?.logs[0]).toContain('Trial Stopped: a stop was requested before step 2 ("second").');
  });

  it('leaves a trial of an experiment outside the halt\'s labels running', async () => {
    const other: Experiment = { ...experiment, id: 'e4000000-0000-4000-8000-000000000000', metadata: { team: 'search' }, steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: 3600 } }], post_steps: [undo] };
    await experiments.create(other);
    const trial = makeTrial(other.id, { metadata: {} });
    await trials.create(trial);
    const run = runnerWith([]);
    await run(trial.id, { deadline: clock.now().getTime() + 600_000 });
    await safety.createHalt(halt);
    clock.advance(3_600_000);
    expect(await run(trial.id, { deadline: clock.now().getTime() + 600_000 })).toEqual({ outcome: 'ran', status: 'Succeeded' });
  });

  it('wakes the parked trials its sweep stops, so their post steps run within seconds', async () => {
    const long: Experiment = { ...experiment, id: 'e5000000-0000-4000-8000-000000000000', steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: 3600 } }], post_steps: [undo] };
    await experiments.create(long);
    const trial = makeTrial(long.id, { metadata: {} });
    await trials.create(trial);
    await runnerWith([])(trial.id, { deadline: clock.now().getTime() + 600_000, receipt: 'receipt-1' });
    const woken: string[] = [];
    const queue = { wake: async (id: string, receipt: string | undefined) => void woken.push(`${id} ${String(receipt)}`) };
    const useCases = makeSafetyUseCases({ safety, trials, experiments, clock, ids: uuidIds, logger: silent, metrics, queue });
    const engaged = await useCases.engageHalt({ reason: 'incident', scope: { labels: { team: 'payments' } } }, { id: 'alice' } satisfies Caller);
    expect(engaged.stopped_trials).toEqual([trial.id]);
    expect(woken).toEqual([`${trial.id} receipt-1`]);
  });
});
