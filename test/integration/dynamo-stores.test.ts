import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../functions/domain/errors.js';
import type { Experiment } from '../../functions/domain/experiment.js';
import { emptyTrialRecord, type Trial } from '../../functions/domain/trial.js';
import { startTestDynamo } from '../support/dynamo.js';

type Dynamo = Awaited<ReturnType<typeof startTestDynamo>>;
let dynamo: Dynamo;
let experiments: DynamoExperimentStore;
let trials: DynamoTrialStore;
let seq = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  experiments = new DynamoExperimentStore(dynamo.documentClient, dynamo.tableName);
  trials = new DynamoTrialStore(dynamo.documentClient, dynamo.tableName);
});
afterAll(() => dynamo.close());

function experiment(overrides: Partial<Experiment> = {}): Experiment {
  seq += 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    name: `exp ${seq}`,
    description: '',
    metadata: {},
    parameters: { n: 2, nested: { a: [1, 'x'] } },
    pre_steps: [],
    steps: [{ step: 's', do: 'cm.wait', where: { time_in_seconds: 1 } }],
    post_steps: [],
    created_by: 'alice',
    created_at: at,
    updated_by: 'alice',
    updated_at: at,
    ...overrides,
  };
}

function trial(experimentId: string, overrides: Partial<Trial> = {}): Trial {
  seq += 1;
  return {
    id: `10000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    experiment: experimentId,
    parameters: {},
    metadata: {},
    ticket: {},
    status: 'Scheduled',
    trial_record: emptyTrialRecord(),
    created_at: new Date(Date.UTC(2026, 0, 2, 0, 0, seq)).toISOString(),
    executed_at: null,
    completed_at: null,
    initiated_by: 'alice',
    initiated_from: 'api',
    schedule_id: null,
    ...overrides,
  };
}

describe('DynamoExperimentStore', () => {
  it('stores and reads back an experiment exactly, including nested parameters', async () => {
    const e = experiment();
    await experiments.create(e);
    await expect(experiments.get(e.id)).resolves.toEqual(e);
  });

  it('refuses to create an id twice', async () => {
    const e = experiment();
    await experiments.create(e);
    await expect(experiments.create({ ...e, name: 'other' })).rejects.toBeInstanceOf(ConflictError);
    await expect(experiments.get(e.id)).resolves.toMatchObject({ name: e.name });
  });

  it('hides a soft-deleted experiment but keeps it for includeDeleted readers', async () => {
    const e = experiment();
    await experiments.create(e);
    await experiments.markDeleted(e.id, 'bob', '2026-02-01T00:00:00.000Z');
    await expect(experiments.get(e.id)).resolves.toBeUndefined();
    await expect(experiments.get(e.id, { includeDeleted: true })).resolves.toMatchObject({ id: e.id, deleted_by: 'bob' });
    await expect(experiments.markDeleted(e.id, 'bob', '2026-02-01T00:00:00.000Z')).rejects.toBeInstanceOf(NotFoundError);
    const all = await experiments.list({ limit: 100 });
    expect(all.items.map((x) => x.id)).not.toContain(e.id);
  });

  it('replaces only when unchanged since read, and never resurrects a deleted one', async () => {
    const e = experiment();
    await experiments.create(e);
    const next = { ...e, name: 'renamed', updated_at: '2026-03-01T00:00:00.000Z' };
    await experiments.replace(next, e.updated_at);
    await expect(experiments.replace({ ...e, name: 'stale' }, e.updated_at)).rejects.toBeInstanceOf(ConflictError);
    await experiments.markDeleted(e.id, 'bob', '2026-03-02T00:00:00.000Z');
    await expect(experiments.replace({ ...next, name: 'zombie' }, next.updated_at)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists newest first across pages with an opaque token', async () => {
    const created = [experiment(), experiment(), experiment()];
    for (const e of created) await experiments.create(e);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await experiments.list({ limit: 2, nextToken: token });
      seen.push(...page.items.map((x) => x.id));
      token = page.nextToken;
    } while (token);
    const ours = seen.filter((id) => created.some((c) => c.id === id));
    expect(ours).toEqual(created.map((c) => c.id).reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects a forged next_token with a ValidationError naming next_token', async () => {
    const forged = Buffer.from(JSON.stringify({ pk: 'TRIAL#x', sk: 'TRIAL', gsi1pk: 'TRIAL', gsi1sk: 'x' })).toString('base64url');
    await expect(experiments.list({ limit: 2, nextToken: forged })).rejects.toBeInstanceOf(ValidationError);
    await expect(experiments.list({ limit: 2, nextToken: 'not base64 json' })).rejects.toMatchObject({ errors: [{ path: 'next_token' }] });
  });
});

describe('DynamoTrialStore', () => {
  it('filters by experiment, newest first', async () => {
    const a = experiment();
    const b = experiment();
    const t1 = trial(a.id);
    const t2 = trial(b.id);
    const t3 = trial(a.id);
    for (const t of [t1, t2, t3]) await trials.create(t);
    const page = await trials.list({ experiment: a.id }, { limit: 10 });
    expect(page.items.map((t) => t.id)).toEqual([t3.id, t1.id]);
    expect(page.nextToken).toBeUndefined();
  });

  it('moves status only from the allowed sources and never touches a finished trial', async () => {
    const t = trial('e');
    await trials.create(t);
    const running = await trials.transition(t.id, ['Scheduled'], 'In Progress', { executed_at: '2026-01-03T00:00:00.000Z' });
    expect(running).toMatchObject({ status: 'In Progress', executed_at: '2026-01-03T00:00:00.000Z' });
    await expect(trials.transition(t.id, ['Scheduled'], 'In Progress')).resolves.toBeUndefined();
    await trials.transition(t.id, ['In Progress'], 'Succeeded', { completed_at: '2026-01-03T00:01:00.000Z' });
    await expect(trials.updateRuntime(t.id, { slice: 'parked' }, { countInvocation: true })).resolves.toBeUndefined();
    await expect(trials.get(t.id)).resolves.toMatchObject({ status: 'Succeeded' });
  });

  it('keeps unfinished trials in creation order and drops them once finished', async () => {
    const a = trial('u');
    const b = trial('u');
    await trials.create(a);
    await trials.create(b);
    const before = (await trials.listUnfinished({ limit: 100 })).items.map((t) => t.id);
    expect(before.indexOf(a.id)).toBeLessThan(before.indexOf(b.id));
    await trials.transition(a.id, ['Scheduled'], 'Stop Initiated');
    await trials.transition(a.id, ['Stop Initiated'], 'Stopped');
    const after = (await trials.listUnfinished({ limit: 100 })).items.map((t) => t.id);
    expect(after).not.toContain(a.id);
    expect(after).toContain(b.id);
  });

  it('summarises the trials of a schedule', async () => {
    const t = trial('s', { schedule_id: 'sched-1', initiated_from: 'schedule' });
    await trials.create(t);
    const page = await trials.listBySchedule('sched-1', { limit: 10 });
    expect(page.items).toEqual([{ id: t.id, status: 'Scheduled', executed_at: null }]);
  });
});
