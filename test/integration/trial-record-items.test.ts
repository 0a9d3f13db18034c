import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import { RecordRejectedError } from '../../functions/domain/errors.js';
import { emptyTrialRecord, snapshotOf, type Trial } from '../../functions/domain/trial.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { systemClock } from '../../functions/wiring.js';
import { CommandCounter } from '../../bench/lib/command-counter.js';
import { startTestDynamo } from '../support/dynamo.js';
import { makeExperiment } from '../support/memory-stores.js';

type Dynamo = Awaited<ReturnType<typeof startTestDynamo>>;
let dynamo: Dynamo;
let trials: DynamoTrialStore;
let experiments: DynamoExperimentStore;
let seq = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  trials = new DynamoTrialStore(dynamo.documentClient, dynamo.tableName);
  experiments = new DynamoExperimentStore(dynamo.documentClient, dynamo.tableName);
});
afterAll(() => dynamo.close());

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function trial(overrides: Partial<Trial> = {}): Trial {
  seq += 1;
  return {
    id: `20000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    experiment: 'e',
    parameters: {},
    metadata: {},
    ticket: {},
    status: 'Scheduled',
    trial_record: emptyTrialRecord(),
    created_at: new Date(Date.UTC(2026, 0, 3, 0, 0, seq)).toISOString(),
    executed_at: null,
    completed_at: null,
    initiated_by: 'alice',
    initiated_from: 'api',
    schedule_id: null,
    ...overrides,
  };
}

const bigAnswer: StepModule = {
  name: 'test.big',
  description: 'answers `bytes` of text, and logs it',
  whereSchema: { type: 'object' },
  async run(where, context) {
    const text = 'y'.repeat(Number(where['bytes']));
    context.log(text);
    return { status_code: 200, response_text: text };
  },
};

async function items(id: string): Promise<Record<string, unknown>[]> {
  const result = await dynamo.documentClient.send(new QueryCommand({ TableName: dynamo.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TRIAL#${id}` } }));
  return result.Items ?? [];
}

describe('trial record entries as items of their own', () => {
  it('writes each entry once at its place, replaces it when written again, and assembles the record on read', async () => {
    const t = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    await trials.create(t);
    await trials.putRecordEntry(t.id, 'steps', 1, { step_name: 'two', step_parameters: {}, logs: ['b'] });
    await trials.putRecordEntry(t.id, 'steps', 0, { step_name: 'one', step_parameters: { x: 1 }, logs: ['a'] });
    await trials.putRecordEntry(t.id, 'steps', 0, { step_name: 'one', step_parameters: { x: 1 }, logs: ['a', 'again'] });
    await trials.transition(t.id, ['In Progress'], 'Succeeded', { completed_at: '2026-01-03T00:01:00.000Z', trial_record: { result: [{ step_name: 'result', step_parameters: {}, logs: ['done'] }] } });

    const stored = await trials.get(t.id);
    expect(stored?.trial_record).toEqual({
      pre_steps: [],
      steps: [
        { step_name: 'one', step_parameters: { x: 1 }, logs: ['a', 'again'] },
        { step_name: 'two', step_parameters: {}, logs: ['b'] },
      ],
      post_steps: [],
      result: [{ step_name: 'result', step_parameters: {}, logs: ['done'] }],
    });
    // The short `result` entry went in the trial item, with the final status: no item of its own.
    expect((await items(t.id)).map((item) => item['sk'])).toEqual(['RECORD#1#000000', 'RECORD#1#000001', 'TRIAL']);
    expect((await trials.list({}, { limit: 100 })).items.find((x) => x.id === t.id)?.trial_record.steps).toHaveLength(2);
    const state = await trials.getState(t.id);
    expect(state && 'result_entry' in state).toBe(false);
  });

  it('writes a short result with the final status in one write, and a long one in an item of its own', async () => {
    const short = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    const long = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    for (const t of [short, long]) await trials.create(t);
    const shortEntry = { step_name: 'result', step_parameters: {}, logs: ['[2026-01-03T00:01:00.000Z - INFO] Trial Succeeded.'] };
    const longEntry = { step_name: 'result', step_parameters: {}, logs: Array.from({ length: 40 }, (_, i) => `[2026-01-03T00:01:00.000Z - ERROR] step ${i} failed: ${'x'.repeat(40)}`) };
    const counter = new CommandCounter().attach(dynamo.documentClient);

    counter.reset();
    await trials.transition(short.id, ['In Progress'], 'Failed', { completed_at: '2026-01-03T00:01:00.000Z', trial_record: { result: [shortEntry] } });
    expect(counter.take()).toMatchObject({ reads: 0, writes: 1, byCommand: { UpdateItemCommand: 1 } });
    counter.reset();
    await trials.transition(long.id, ['In Progress'], 'Failed', { completed_at: '2026-01-03T00:01:00.000Z', trial_record: { result: [longEntry] } });
    expect(counter.take()).toMatchObject({ writes: 2, byCommand: { PutItemCommand: 1, UpdateItemCommand: 1 } });

    expect((await trials.get(short.id))?.trial_record.result).toEqual([shortEntry]);
    expect((await trials.get(long.id))?.trial_record.result).toEqual([longEntry]);
    expect((await items(long.id)).map((item) => item['sk'])).toEqual(['RECORD#3#000000', 'TRIAL']);
    // Lost race: nothing of the entry is written when the status has moved on.
    await expect(trials.transition(short.id, ['In Progress'], 'Succeeded', { trial_record: { result: [{ ...shortEntry, logs: ['late'] }] } })).resolves.toBeUndefined();
    expect((await trials.get(short.id))?.trial_record.result).toEqual([shortEntry]);
  });

  it('puts a short result in an item of its own when the trial item cannot take it (400 KB)', async () => {
    // A trial item just under DynamoDB's 400 KB: the result would take it over.
    const t = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z', metadata: { note: 'm'.repeat(408_500) } });
    await trials.create(t);
    const entry = { step_name: 'result', step_parameters: {}, logs: ['[2026-01-03T00:01:00.000Z - INFO] Trial Succeeded.', 'y'.repeat(600)] };

    await expect(trials.transition(t.id, ['In Progress'], 'Succeeded', { completed_at: '2026-01-03T00:01:00.000Z', trial_record: { result: [entry] } })).resolves.toMatchObject({ status: 'Succeeded' });

    expect((await trials.get(t.id))?.trial_record.result).toEqual([entry]);
    expect((await items(t.id)).map((item) => item['sk'])).toEqual(['RECORD#3#000000', 'TRIAL']);
  });

  it('keeps the experiment snapshot apart from the trial item, and the first one when a create is retried', async () => {
    const experiment = makeExperiment({ steps: [{ step: 's', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    const t = trial({ experiment_snapshot: snapshotOf(experiment) });
    await trials.create(t);
    await expect(trials.create({ ...t, experiment_snapshot: { ...snapshotOf(experiment), name: 'changed' } })).rejects.toThrow('already exists');

    expect((await trials.get(t.id))?.experiment_snapshot?.name).toBe(experiment.name);
    const state = await trials.getState(t.id);
    expect(state && 'experiment_snapshot' in state).toBe(false);
    expect((await items(t.id)).find((item) => item['sk'] === 'TRIAL')?.['experiment_snapshot']).toBeUndefined();
  });

  it('patches the runtime of a running trial only, answering it as it was', async () => {
    const t = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    await trials.create(t);
    await expect(trials.updateRuntime(t.id, { slice: 'parked' })).resolves.toBeUndefined();
    const runtime = { slice: 'running' as const, checkpoint: { phase: 'steps' as const, index: 0, post_failed: [] }, lease_until: '2026-01-03T01:00:00.000Z', receipt: 'r-1' };
    await trials.updateRuntime(t.id, runtime, { replace: true, countInvocation: true });
    const before = await trials.updateRuntime(t.id, { slice: 'parked', lease_until: '2026-01-03T02:00:00.000Z' }, { countInvocation: true });
    expect(before?.runtime).toEqual(runtime);
    expect(await trials.getState(t.id)).toMatchObject({ invocations: 2, runtime: { ...runtime, slice: 'parked', lease_until: '2026-01-03T02:00:00.000Z' } });
    await trials.transition(t.id, ['In Progress'], 'Failed', { completed_at: '2026-01-03T03:00:00.000Z' });
    expect((await trials.getState(t.id))?.runtime).toBeUndefined();
  });

  it('lets the watchdog take a trial over only on the lease it read, and then only recovery deliveries touch it', async () => {
    const t = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    await trials.create(t);
    const runtime = { slice: 'parked' as const, checkpoint: { phase: 'steps' as const, index: 0, post_failed: [] }, lease_until: '2026-01-03T01:00:00.000Z' };
    await trials.updateRuntime(t.id, runtime, { replace: true });
    const takeover = { slice: 'running' as const, orphaned: 'its message was lost', lease_until: '2026-01-03T02:00:00.000Z' };
    await expect(trials.updateRuntime(t.id, takeover, { ifLease: '2026-01-03T00:59:00.000Z' })).resolves.toBeUndefined();
    expect((await trials.updateRuntime(t.id, takeover, { ifLease: runtime.lease_until }))?.runtime).toEqual(runtime);
    // A second watchdog run that read the same lease loses.
    await expect(trials.updateRuntime(t.id, takeover, { ifLease: runtime.lease_until })).resolves.toBeUndefined();
    // The trial's own message no longer claims it; a recovery delivery does.
    await expect(trials.updateRuntime(t.id, { slice: 'running' }, { countInvocation: true })).resolves.toBeUndefined();
    await expect(trials.updateRuntime(t.id, { slice: 'running', lease_until: '2026-01-03T03:00:00.000Z' }, { countInvocation: true, recovery: true })).resolves.toMatchObject({ runtime: { orphaned: 'its message was lost' } });
    expect(await trials.getState(t.id)).toMatchObject({ invocations: 1, runtime: { slice: 'running', orphaned: 'its message was lost', lease_until: '2026-01-03T03:00:00.000Z' } });
    // And a recovery delivery never touches a trial that was not taken over.
    const other = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    await trials.create(other);
    await trials.updateRuntime(other.id, runtime, { replace: true });
    await expect(trials.updateRuntime(other.id, { slice: 'running' }, { recovery: true })).resolves.toBeUndefined();
  });

  it('turns an entry the store refuses (over 400 KB) into a RecordRejectedError', async () => {
    const t = trial({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    await trials.create(t);
    await expect(trials.putRecordEntry(t.id, 'steps', 0, { step_name: 'huge', step_parameters: {}, logs: ['z'.repeat(500 * 1024)] })).rejects.toBeInstanceOf(RecordRejectedError);
  });

  it('runs a 100-step trial and one whose step answers 5 MB on the DynamoDB adapter', async () => {
    const registry = new ModuleRegistry([...DEFAULT_MODULES, bigAnswer]);
    const runTrial = makeRunTrial({ trials, experiments, registry, clock: systemClock, logger: silent });
    const many = makeExperiment({ steps: Array.from({ length: 100 }, (_, i) => ({ step: `s${i}`, do: 'test.big', where: { bytes: 10 } })) });
    const huge = makeExperiment({ steps: [{ step: 'five-mb', do: 'test.big', where: { bytes: 5 * 1024 * 1024 } }] });
    for (const experiment of [many, huge]) await experiments.create(experiment);
    const now = new Date().toISOString();
    const a = trial({ experiment: many.id, experiment_snapshot: snapshotOf(many), created_at: now });
    const b = trial({ experiment: huge.id, experiment_snapshot: snapshotOf(huge), created_at: now });
    await trials.create(a);
    await trials.create(b);

    await expect(runTrial(a.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
    await expect(runTrial(b.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });

    expect((await trials.get(a.id))?.trial_record.steps).toHaveLength(100);
    const entry = (await trials.get(b.id))?.trial_record.steps[0] as { logs: string[]; truncated?: boolean };
    expect(entry.truncated).toBe(true);
    expect(JSON.stringify(entry).length).toBeLessThan(100 * 1024);
  });
});
