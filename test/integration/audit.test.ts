import { ConflictError } from '../../functions/domain/errors.js';
import { emptyTrialRecord, FINAL_STATUSES, TRIAL_STATUSES, type Trial, type TrialStatus } from '../../functions/domain/trial.js';
import { LocalScheduler } from '../../functions/adapters/local/local-scheduler.js';
import { cloudScheduleName } from '../../functions/adapters/scheduler/cloud-schedule-name.js';
import type { Authenticator } from '../../functions/api/identity.js';
import type { ScheduleFiring } from '../../functions/ports.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { systemClock, uuidIds } from '../../functions/wiring.js';
import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;

/** The caller named by an X-User header, so each request can act as someone else. */
const asUser: Authenticator = { authenticate: async (event) => ({ id: event.headers?.['X-User'] ?? 'anonymous' }) };
const user = (id: string) => ({ 'X-User': id });
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let api: Harness;
beforeEach(async () => {
  api = await startApiHarness({ authenticator: asUser });
});
afterEach(() => api.close());

async function createExperiment(by = 'alice'): Promise<string> {
  const res = await api.call('POST', '/experiment', experimentBody(), user(by));
  expect(res.status).toBe(201);
  return String((res.body as Body)['id']);
}

async function createSchedule(experimentId: string, by = 'alice', body: Body = { recurrence_pattern: '*/5 * * * *' }): Promise<string> {
  const res = await api.call('POST', `/experiment/${experimentId}/schedule`, body, user(by));
  expect(res.status).toBe(201);
  return String((res.body as Body)['id']);
}

function message(res: { body: unknown }): string {
  return String((res.body as Body)['message']);
}

describe('finished trials are immutable', () => {
  async function finishedTrial(status: TrialStatus): Promise<Trial> {
    const experimentId = await createExperiment();
    const id = String(((await api.call('POST', '/trial', { experiment: experimentId })).body as Body)['id']);
    const record = emptyTrialRecord();
    record.result.push({ step_name: 'result', step_parameters: {}, logs: ['[2026-01-01T00:00:00.000Z - INFO] done'] });
    if (status === 'Invalid' || status === 'Aborted') {
      await api.trials.transition(id, ['Scheduled'], status, { completed_at: '2026-01-01T00:01:00.000Z', trial_record: record });
    } else if (status === 'Stopped') {
      await api.trials.transition(id, ['Scheduled'], 'Stop Initiated');
      await api.trials.transition(id, ['Stop Initiated'], 'Stopped', { completed_at: '2026-01-01T00:01:00.000Z', trial_record: record });
    } else {
      await api.trials.transition(id, ['Scheduled'], 'In Progress', { executed_at: '2026-01-01T00:00:00.000Z' });
      await api.trials.transition(id, ['In Progress'], status, { completed_at: '2026-01-01T00:01:00.000Z', trial_record: record });
    }
    const trial = (await api.trials.get(id)) as Trial;
    expect(trial.status).toBe(status);
    return trial;
  }

  it.each([...FINAL_STATUSES])('refuses every store write to a %s trial, even one that names its status', async (status) => {
    const before = await finishedTrial(status);
    const tampered = emptyTrialRecord();
    tampered.steps.push({ step_name: 'forged', step_parameters: {}, logs: ['[2026-01-01T00:00:00.000Z - INFO] forged'] });

    for (const to of TRIAL_STATUSES) {
      expect(await api.trials.transition(before.id, [status], to, { trial_record: tampered, completed_at: '2030-01-01T00:00:00.000Z', parameters: { forged: true } })).toBeUndefined();
      expect(await api.trials.transition(before.id, [...TRIAL_STATUSES], to, { trial_record: tampered })).toBeUndefined();
    }
    expect(await api.trials.updateRuntime(before.id, { slice: 'running', checkpoint: { phase: 'steps', index: 0, post_failed: [] }, lease_until: '2030-01-01T00:00:00.000Z' }, { replace: true })).toBeUndefined();
    await expect(api.trials.create({ ...before, status: 'Scheduled', trial_record: tampered })).rejects.toBeInstanceOf(ConflictError);
    expect(await api.trials.get(before.id)).toEqual(before);
  });

  it('offers no endpoint that changes or deletes a finished trial', async () => {
    const trial = await finishedTrial('Succeeded');
    const stop = await api.call('PUT', `/trial/${trial.id}/stop`);
    expect(stop.status).toBe(403);
    for (const method of ['DELETE', 'PUT', 'PATCH', 'POST']) {
      const res = await api.call(method, `/trial/${trial.id}`, { status: 'Failed' });
      expect([method, res.status, res.headers['Allow']]).toEqual([method, 405, 'GET']);
    }
    expect(await api.trials.get(trial.id)).toEqual(trial);
  });
});

describe('experiments keep who changed and deleted them', () => {
  it('records updated_by / updated_at on every change; a deleted one reads with who and when, and changes answer 404 naming them', async () => {
    const id = await createExperiment('alice');
    const patched = await api.call('PATCH', `/experiment/${id}`, { description: 'edited' }, user('bob'));
    expect(patched.body).toMatchObject({ created_by: 'alice', updated_by: 'bob', updated_at: expect.stringMatching(ISO) });
    const replaced = await api.call('PUT', `/experiment/${id}`, experimentBody(), user('carol'));
    expect(replaced.body).toMatchObject({ created_by: 'alice', updated_by: 'carol' });

    expect((await api.call('DELETE', `/experiment/${id}`, undefined, user('dave'))).status).toBe(204);
    const stored = await api.experiments.get(id, { includeDeleted: true });
    expect(stored).toMatchObject({ deleted_by: 'dave', deleted_at: expect.stringMatching(ISO), updated_by: 'dave', created_by: 'alice' });

    const expected = `Experiment ${id} not found: it was deleted by dave at ${String(stored?.deleted_at)}`;
    // Read by id, a deleted experiment still answers (as Kallisti's views do), with its deletion fields.
    const read = await api.call('GET', `/experiment/${id}`, undefined, user('erin'));
    expect([read.status, read.body]).toEqual([200, expect.objectContaining({ id, deleted_by: 'dave', deleted_at: stored?.deleted_at })]);
    for (const [method, body] of [
      ['PUT', experimentBody()],
      ['PATCH', { name: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await api.call(method, `/experiment/${id}`, body, user('erin'));
      expect([method, res.status, message(res)]).toEqual([method, 404, expected]);
    }
    expect(await api.call('GET', `/experiment/${id}/schedule`)).toMatchObject({ status: 200, body: [] });
    const trial = await api.call('POST', '/trial', { experiment: id });
    expect(trial.status).toBe(400);
    expect((trial.body as Body)['errors']).toEqual([{ path: 'experiment', message: `experiment ${id} was deleted by dave at ${String(stored?.deleted_at)}` }]);
    expect((await api.call('GET', '/experiment')).body).toEqual([]);
  });
});

describe('schedules are deleted softly', () => {
  it('records who changed and deleted a schedule, hides it from lists and firings, reads it by id and answers 404 to changes naming them', async () => {
    const experimentId = await createExperiment();
    const keep = await createSchedule(experimentId, 'alice');
    const id = await createSchedule(experimentId, 'alice', { recurrence_pattern: '0 * * * *', recurrence_count: 3 });
    const patched = await api.call('PATCH', `/experiment/${experimentId}/schedule/${id}`, { recurrence_count: 5 }, user('bob'));
    expect(patched.body).toMatchObject({ created_by: 'alice', updated_by: 'bob' });

    expect((await api.call('DELETE', `/experiment/${experimentId}/schedule/${id}`, undefined, user('carol'))).status).toBe(204);
    expect(api.cloud.armed.has(id)).toBe(false);
    expect(api.cloud.armed.has(keep)).toBe(true);

    const stored = await api.schedules.get(experimentId, id, { includeDeleted: true });
    expect(stored).toMatchObject({ deleted_by: 'carol', deleted_at: expect.stringMatching(ISO), updated_by: 'carol', created_by: 'alice', recurrence_count: 5 });
    expect(await api.schedules.get(experimentId, id)).toBeUndefined();

    const expected = `Schedule ${id} not found: it was deleted by carol at ${String(stored?.deleted_at)}`;
    const path = `/experiment/${experimentId}/schedule/${id}`;
    const read = await api.call('GET', path, undefined, user('erin'));
    expect([read.status, read.body]).toEqual([200, expect.objectContaining({ id, deleted_by: 'carol', deleted_at: stored?.deleted_at })]);
    for (const [method, body] of [
      ['PUT', { recurrence_pattern: '* * * * *' }],
      ['PATCH', { recurrence_count: 1 }],
      ['DELETE', undefined],
    ] as const) {
      const res = await api.call(method, path, body, user('erin'));
      expect([method, res.status, message(res)]).toEqual([method, 404, expected]);
    }
    expect(((await api.call('GET', `/experiment/${experimentId}/schedule`)).body as Body[]).map((s) => s['id'])).toEqual([keep]);
    expect((await api.schedules.listAll({ limit: 10 })).items.map((s) => s.id)).toEqual([keep]);
    expect(await api.schedules.get(experimentId, id, { includeDeleted: true })).toEqual(stored);
  });

  it('never fires nor arms a deleted schedule', async () => {
    const experimentId = await createExperiment();
    const id = await createSchedule(experimentId, 'alice', { recurrence_pattern: '* * * * *', recurrence_count: 3 });
    const live = await createSchedule(experimentId);
    await api.call('DELETE', `/experiment/${experimentId}/schedule/${id}`, undefined, user('carol'));

    const firing: ScheduleFiring = { kind: 'schedule-firing', schedule_id: id, experiment_id: experimentId, schedule_arn: 'arn:test', scheduled_time: '2030-01-01T00:00:00Z' };
    expect(await api.schedules.applyFiring(firing)).toEqual({ outcome: 'missing' });
    const fire = makeFireSchedule({ schedules: api.schedules, experiments: api.experiments, trials: api.trials, cloud: api.cloud, clock: systemClock, ids: uuidIds });
    expect(await fire({ ...firing, scheduled_time: '2030-01-01T00:01:00Z' })).toBeUndefined();
    expect((await api.trials.list({}, { limit: 10 })).items).toEqual([]);
    expect((await api.schedules.get(experimentId, id, { includeDeleted: true }))?.recurrence_left).toBe(3);

    const fired: string[] = [];
    const scheduler = new LocalScheduler({ clock: systemClock, fire: (f) => fired.push(f.schedule_id) });
    try {
      expect(await scheduler.armAll(api.schedules)).toBe(1);
      expect(scheduler.size).toBe(1);
      expect((await api.schedules.listAll({ limit: 10 })).items.map((s) => s.id)).toEqual([live]);
    } finally {
      scheduler.stop();
    }
  });

  it('deletes the schedule even when the scheduler refuses; its next firing removes the cloud schedule left behind', async () => {
    const experimentId = await createExperiment();
    const id = await createSchedule(experimentId);
    api.cloud.failNext = true;
    expect((await api.call('DELETE', `/experiment/${experimentId}/schedule/${id}`, undefined, user('carol'))).status).toBe(204);
    expect(await api.schedules.get(experimentId, id)).toBeUndefined();
    expect(api.cloud.armed.has(id)).toBe(true);

    const fire = makeFireSchedule({ schedules: api.schedules, experiments: api.experiments, trials: api.trials, cloud: api.cloud, clock: systemClock, ids: uuidIds });
    const arn = `arn:aws:scheduler:eu-west-1:123456789012:schedule/kallisti-test/${cloudScheduleName(id, 1, 0)}`;
    expect(await fire({ kind: 'schedule-firing', schedule_id: id, experiment_id: experimentId, generation: 1, schedule_arn: arn, scheduled_time: '2030-01-01T00:00:00Z' })).toBeUndefined();
    expect(api.cloud.armed.has(id)).toBe(false);
    expect((await api.trials.list({}, { limit: 10 })).items).toEqual([]);
  });

  it('cascades an experiment delete to its schedules, marking them with the same caller and disarming them', async () => {
    const experimentId = await createExperiment();
    const ids = [await createSchedule(experimentId), await createSchedule(experimentId), await createSchedule(experimentId)];
    await api.call('DELETE', `/experiment/${experimentId}/schedule/${ids[0]}`, undefined, user('bob'));
    expect((await api.call('DELETE', `/experiment/${experimentId}`, undefined, user('dave'))).status).toBe(204);
    expect(api.cloud.armed.size).toBe(0);
    const markers = await Promise.all(ids.map(async (id) => (await api.schedules.get(experimentId, id, { includeDeleted: true }))?.deleted_by));
    expect(markers).toEqual(['bob', 'dave', 'dave']);
    expect((await api.schedules.listAll({ limit: 10 })).items).toEqual([]);
  });

  it('fills a page of live schedules past deleted ones, and pages on from there', async () => {
    const experimentId = await createExperiment();
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push(await createSchedule(experimentId));
    const sorted = [...ids].sort();
    for (const id of sorted.slice(0, 4)) await api.schedules.markDeleted(experimentId, id, 'bob', '2030-01-01T00:00:00.000Z');

    const first = await api.schedules.listByExperiment(experimentId, { limit: 2 });
    expect(first.items.map((s) => s.id)).toEqual(sorted.slice(4, 6));
    const second = await api.schedules.listByExperiment(experimentId, { limit: 2, nextToken: first.nextToken });
    expect(second.items.map((s) => s.id)).toEqual(sorted.slice(6));
    expect(second.nextToken).toBeUndefined();
  });
});
