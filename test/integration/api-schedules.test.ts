import type { Schedule } from '../../functions/domain/schedule.js';
import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;
let api: Harness;
let experimentId: string;
const base = () => `/experiment/${experimentId}/schedule`;

beforeEach(async () => {
  api = await startApiHarness();
  experimentId = String(((await api.call('POST', '/experiment', experimentBody())).body as Body)['id']);
});
afterEach(() => api.close());

async function createSchedule(body: Body = { recurrence_pattern: '*/5 * * * *', recurrence_count: 2 }): Promise<Body> {
  const res = await api.call('POST', base(), body);
  expect(res.status).toBe(201);
  return res.body as Body;
}

describe('POST /experiment/{experiment_id}/schedule', () => {
  it('answers 201 with the schedule as the seed document shows it, and arms it', async () => {
    const res = await api.call('POST', base(), { recurrence_pattern: '*/5 * * * *', recurrence_count: 1, metadata: { env: 'staging' }, parameters: { p: 1 }, ticket: { id: 'CHG-9' } });
    expect(res.status).toBe(201);
    const schedule = res.body as Body;
    expect(Object.keys(schedule).sort()).toEqual(
      [
        ...['created_at', 'created_by', 'experiment_id', 'generation', 'id', 'metadata', 'parameters', 'recurrence_count', 'recurrence_left', 'recurrence_pattern', 'ticket', 'trials', 'updated_at', 'updated_by'],
        ...['timezone', 'state', 'start_date', 'end_date', 'jitter_seconds', 'overlap', 'starting_deadline_seconds', 'catch_up', 'firing_counts', 'next_fire_time'],
      ].sort(),
    );
    expect(schedule).toMatchObject({
      experiment_id: experimentId,
      metadata: { team: 'payments', env: 'staging' },
      parameters: { p: 1 },
      ticket: { id: 'CHG-9' },
      recurrence_pattern: '*/5 * * * *',
      recurrence_count: 1,
      recurrence_left: 1,
      generation: 1,
      created_by: 'anonymous',
      trials: [],
    });
    expect(res.headers['Location']).toBe(`/prod${base()}/${String(schedule['id'])}`);
    expect([...api.cloud.armed.keys()]).toEqual([schedule['id']]);
  });

  it('treats an absent recurrence_count as forever', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '0 9 * * MON-FRI' });
    expect(schedule).toMatchObject({ recurrence_count: null, recurrence_left: null });
  });

  it.each([
    ['0 * * * * *', 'expected 5 fields'],
    ['61 * * * *', 'minute'],
    ['0 0 31 2 *', 'never fires'],
    ['every day', ''],
  ])('answers 400 naming recurrence_pattern for %p and stores nothing', async (pattern, fragment) => {
    const res = await api.call('POST', base(), { recurrence_pattern: pattern });
    expect(res.status).toBe(400);
    const errors = (res.body as Body)['errors'] as { path: string; message: string }[];
    expect(errors[0]?.path).toBe('recurrence_pattern');
    expect(errors[0]?.message).toContain(fragment);
    expect((await api.schedules.listByExperiment(experimentId, { limit: 10 })).items).toEqual([]);
    expect(api.cloud.armed.size).toBe(0);
  });

  it('answers 400 for a missing pattern and a bad count', async () => {
    expect((await api.call('POST', base(), {})).status).toBe(400);
    const res = await api.call('POST', base(), { recurrence_pattern: '* * * * *', recurrence_count: 0 });
    expect(res.status).toBe(400);
    expect((res.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'recurrence_count' })]);
  });

  it('answers 404 for an unknown or deleted experiment', async () => {
    expect((await api.call('POST', '/experiment/3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1/schedule', { recurrence_pattern: '* * * * *' })).status).toBe(404);
    await api.call('DELETE', `/experiment/${experimentId}`);
    expect((await api.call('POST', base(), { recurrence_pattern: '* * * * *' })).status).toBe(404);
  });

  it('keeps the stored schedule when the scheduler refuses (reconciliation arms it), and answers 201', async () => {
    api.cloud.failNext = true;
    const res = await api.call('POST', base(), { recurrence_pattern: '* * * * *' });
    expect(res.status).toBe(201);
    expect((await api.schedules.listByExperiment(experimentId, { limit: 10 })).items.map((s) => s.id)).toEqual([(res.body as Body)['id']]);
    expect(api.cloud.armed.size).toBe(0);
  });

  it('answers 400 naming recurrence_count above 1,000,000 and stores nothing', async () => {
    const res = await api.call('POST', base(), { recurrence_pattern: '* * * * *', recurrence_count: 1_000_000_000 });
    expect(res.status).toBe(400);
    expect((res.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'recurrence_count' })]);
    expect((await api.schedules.listByExperiment(experimentId, { limit: 10 })).items).toEqual([]);
  });
});

describe('GET schedules', () => {
  it('lists the experiment schedules and gets one with its trials, newest first', async () => {
    const schedule = await createSchedule();
    const list = await api.call('GET', base());
    expect((list.body as Body[]).map((s) => s['id'])).toEqual([schedule['id']]);
    const one = await api.call('GET', `${base()}/${String(schedule['id'])}`);
    expect(one.body).toEqual(schedule);
  });

  it('answers 404 for an unknown schedule, or one under another experiment', async () => {
    const schedule = await createSchedule();
    expect((await api.call('GET', `${base()}/3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1`)).status).toBe(404);
    const other = String(((await api.call('POST', '/experiment', experimentBody({ name: 'other' }))).body as Body)['id']);
    expect((await api.call('GET', `/experiment/${other}/schedule/${String(schedule['id'])}`)).status).toBe(404);
  });

  it('answers 400 naming next_token when a token of the schedule list is given to the firings list, or the reverse', async () => {
    const schedule = await createSchedule();
    await createSchedule();
    const list = await api.call('GET', `${base()}?limit=1`);
    const token = /next_token=([^&>]+)/.exec(list.headers['Link'] ?? '')?.[1];
    expect(token).toBeDefined();
    const firings = await api.call('GET', `${base()}/${String(schedule['id'])}/firings?next_token=${token ?? ''}`);
    expect(firings.status).toBe(400);
    expect((firings.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'next_token' })]);
    // A token of the shape the firings list issues (its sort key a firing's), given to the schedule list.
    const firingToken = Buffer.from(JSON.stringify({ pk: `EXPERIMENT#${experimentId}`, sk: `FIRING#${String(schedule['id'])}#2026-01-01T00:00:00Z` })).toString('base64url');
    const schedules = await api.call('GET', `${base()}?limit=1&next_token=${firingToken}`);
    expect(schedules.status).toBe(400);
    expect((schedules.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'next_token' })]);
  });
});

describe('PUT and PATCH schedule', () => {
  it('PATCH of recurrence_count resets recurrence_left, whatever has run', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '* * * * *', recurrence_count: 3 });
    const id = String(schedule['id']);
    await api.schedules.applyFiring({ kind: 'schedule-firing', schedule_id: id, experiment_id: experimentId, generation: 1, schedule_arn: 'a', scheduled_time: '2027-01-01T00:00:00Z' });
    expect(((await api.call('GET', `${base()}/${id}`)).body as Body)['recurrence_left']).toBe(2);
    const patched = await api.call('PATCH', `${base()}/${id}`, { recurrence_count: 5 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ recurrence_count: 5, recurrence_left: 5 });
  });

  it('PATCH of other fields keeps the count left and re-arms a changed pattern', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '* * * * *', recurrence_count: 3 });
    const id = String(schedule['id']);
    await api.schedules.applyFiring({ kind: 'schedule-firing', schedule_id: id, experiment_id: experimentId, generation: 1, schedule_arn: 'a', scheduled_time: '2027-01-01T00:00:00Z' });
    const patched = await api.call('PATCH', `${base()}/${id}`, { recurrence_pattern: '0 9 * * 1-5', ticket: { id: 'T' } });
    expect(patched.body).toMatchObject({ recurrence_pattern: '0 9 * * 1-5', recurrence_count: 3, recurrence_left: 2, ticket: { id: 'T' }, metadata: schedule['metadata'] });
    expect(api.cloud.armed.get(id)?.recurrence_pattern).toBe('0 9 * * 1-5');
  });

  it('PUT replaces everything: an omitted count means forever', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '* * * * *', recurrence_count: 3, ticket: { id: 'T' } });
    const res = await api.call('PUT', `${base()}/${String(schedule['id'])}`, { recurrence_pattern: '*/10 * * * *' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ recurrence_pattern: '*/10 * * * *', recurrence_count: null, recurrence_left: null, ticket: {}, created_at: schedule['created_at'] });
  });

  it('raising the count of an exhausted schedule arms it again', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '* * * * *', recurrence_count: 1 });
    const id = String(schedule['id']);
    await api.schedules.applyFiring({ kind: 'schedule-firing', schedule_id: id, experiment_id: experimentId, generation: 1, schedule_arn: 'a', scheduled_time: '2027-01-01T00:00:00Z' });
    await api.cloud.disarm({ id, generation: 1 });
    await api.call('PATCH', `${base()}/${id}`, { recurrence_count: 2 });
    expect(api.cloud.armed.get(id)).toMatchObject({ recurrence_left: 2 });
  });

  it('keeps the store change when the scheduler refuses the update: the older generation stays armed until repaired', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '* * * * *', recurrence_count: 3 });
    const id = String(schedule['id']);
    api.cloud.failNext = true;
    const res = await api.call('PATCH', `${base()}/${id}`, { recurrence_pattern: '0 0 * * *' });
    expect(res.status).toBe(200);
    expect((await api.call('GET', `${base()}/${id}`)).body).toMatchObject({ recurrence_pattern: '0 0 * * *', recurrence_left: 3, generation: 2 });
    expect(api.cloud.armed.get(id)).toMatchObject({ generation: 1, recurrence_pattern: '* * * * *' });
  });

  it('answers 409 to an edit based on a generation another edit already replaced', async () => {
    const schedule = await createSchedule({ recurrence_pattern: '* * * * *', recurrence_count: 3 });
    const id = String(schedule['id']);
    const current = await api.schedules.get(experimentId, id);
    await api.schedules.update({ ...(current as Schedule), ticket: { id: 'first' }, generation: 2 }, false);
    await expect(api.schedules.update({ ...(current as Schedule), ticket: { id: 'second' }, generation: 2 }, false)).rejects.toThrow(/changed by another request/);
    expect(await api.schedules.get(experimentId, id)).toMatchObject({ ticket: { id: 'first' }, generation: 2 });
  });

  it('answers 400 for an invalid pattern in a PATCH and changes nothing', async () => {
    const schedule = await createSchedule();
    const res = await api.call('PATCH', `${base()}/${String(schedule['id'])}`, { recurrence_pattern: '0 0 30 2 *' });
    expect(res.status).toBe(400);
    expect((await api.call('GET', `${base()}/${String(schedule['id'])}`)).body).toMatchObject({ recurrence_pattern: '*/5 * * * *' });
  });
});

describe('DELETE schedule', () => {
  it('removes the schedule and its cloud schedule; afterwards it reads with its deletion fields and is gone from the list', async () => {
    const schedule = await createSchedule();
    const id = String(schedule['id']);
    expect((await api.call('DELETE', `${base()}/${id}`)).status).toBe(204);
    expect((await api.call('GET', `${base()}/${id}`)).body).toMatchObject({ id, deleted_by: 'anonymous' });
    expect((await api.call('GET', base())).body).toEqual([]);
    expect(api.cloud.armed.size).toBe(0);
    expect((await api.call('DELETE', `${base()}/${id}`)).status).toBe(404);
  });

  it('deletes the schedule even when the scheduler refuses to remove its cloud schedule', async () => {
    const schedule = await createSchedule();
    api.cloud.failNext = true;
    expect((await api.call('DELETE', `${base()}/${String(schedule['id'])}`)).status).toBe(204);
    // Deleted, yet readable by id with its deletion fields (as Kallisti), and gone from the list.
    expect((await api.call('GET', `${base()}/${String(schedule['id'])}`)).body).toMatchObject({ deleted_by: 'anonymous' });
    expect((await api.call('GET', base())).body).toEqual([]);
    expect((await api.schedules.get(experimentId, String(schedule['id']), { includeDeleted: true }))?.generation).toBe(2);
  });

  it('cascades from the experiment: deleting it removes every schedule, store and cloud', async () => {
    const a = await createSchedule();
    const b = await createSchedule({ recurrence_pattern: '0 0 1 * 1' });
    expect((await api.call('DELETE', `/experiment/${experimentId}`)).status).toBe(204);
    expect(api.cloud.armed.size).toBe(0);
    expect(api.cloud.calls).toEqual(expect.arrayContaining([`disarm ${String(a['id'])}`, `disarm ${String(b['id'])}`]));
    expect((await api.schedules.listByExperiment(experimentId, { limit: 10 })).items).toEqual([]);
  });
});
