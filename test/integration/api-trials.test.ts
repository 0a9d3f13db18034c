import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;
let api: Harness;
let experimentId: string;

beforeEach(async () => {
  api = await startApiHarness();
  experimentId = String(((await api.call('POST', '/experiment', experimentBody())).body as Body)['id']);
});
afterEach(() => api.close());

describe('POST /trial', () => {
  it('answers 201 with a Scheduled trial, merged metadata, and hands it to the queue', async () => {
    const res = await api.call('POST', '/trial', { experiment: experimentId, parameters: { base_url: 'http://svc' }, ticket: { id: 'CHG-1' }, metadata: { run: 'first' } });
    expect(res.status).toBe(201);
    const trial = res.body as Body;
    expect(trial).toMatchObject({
      experiment: experimentId,
      status: 'Scheduled',
      metadata: { team: 'payments', run: 'first' },
      ticket: { id: 'CHG-1' },
      parameters: { base_url: 'http://svc' },
      initiated_by: 'anonymous',
      initiated_from: 'api',
      executed_at: null,
      trial_record: { pre_steps: [], steps: [], post_steps: [], result: [] },
    });
    expect(api.queue.sent).toEqual([trial['id']]);
    expect(res.headers['Location']).toBe(`/prod/trial/${String(trial['id'])}`);
  });

  it('lets trial metadata win over experiment metadata', async () => {
    const res = await api.call('POST', '/trial', { experiment: experimentId, metadata: { team: 'override' } });
    expect((res.body as Body)['metadata']).toEqual({ team: 'override' });
  });

  it('answers 400 naming experiment when it is missing, malformed, unknown or deleted', async () => {
    const missing = await api.call('POST', '/trial', {});
    expect(missing.status).toBe(400);
    expect((missing.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'experiment' })]);
    const malformed = await api.call('POST', '/trial', { experiment: 'abc' });
    expect(malformed.status).toBe(400);
    const unknown = await api.call('POST', '/trial', { experiment: '3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1' });
    expect(unknown.status).toBe(400);
    await api.call('DELETE', `/experiment/${experimentId}`);
    const deleted = await api.call('POST', '/trial', { experiment: experimentId });
    expect(deleted.status).toBe(400);
    expect(api.queue.sent).toEqual([]);
    expect((await api.trials.list({}, { limit: 10 })).items).toEqual([]);
  });

  it('records the trial as Aborted with the reason and answers 503 when the queue fails', async () => {
    api.queue.failNext = true;
    const res = await api.call('POST', '/trial', { experiment: experimentId });
    expect(res.status).toBe(503);
    const [stored] = (await api.trials.list({}, { limit: 10 })).items;
    expect(stored?.status).toBe('Aborted');
    expect(stored?.trial_record.result[0]?.logs[0]).toContain('could not be queued');
  });
});

describe('GET /trial', () => {
  it('lists newest first and filters by experiment', async () => {
    const other = String(((await api.call('POST', '/experiment', experimentBody({ name: 'other' }))).body as Body)['id']);
    const a = (await api.call('POST', '/trial', { experiment: experimentId })).body as Body;
    const b = (await api.call('POST', '/trial', { experiment: other })).body as Body;
    const c = (await api.call('POST', '/trial', { experiment: experimentId })).body as Body;
    const all = await api.call('GET', '/trial');
    expect((all.body as Body[]).map((t) => t['id'])).toEqual([c['id'], b['id'], a['id']]);
    const filtered = await api.call('GET', `/trial?experiment=${experimentId}&limit=1`);
    expect((filtered.body as Body[]).map((t) => t['id'])).toEqual([c['id']]);
    expect(filtered.headers['Link']).toContain(`experiment=${experimentId}`);
  });

  it('answers 400 for a malformed experiment filter', async () => {
    const res = await api.call('GET', '/trial?experiment=zzz');
    expect(res.status).toBe(400);
    expect((res.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'experiment' })]);
  });
});

describe('/trial/{trial_id}', () => {
  it('GET answers the trial, 404 for an unknown one', async () => {
    const created = (await api.call('POST', '/trial', { experiment: experimentId })).body as Body;
    expect((await api.call('GET', `/trial/${String(created['id'])}`)).body).toEqual(created);
    expect((await api.call('GET', '/trial/3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1')).status).toBe(404);
  });

  it('has no DELETE: 405', async () => {
    const created = (await api.call('POST', '/trial', { experiment: experimentId })).body as Body;
    const res = await api.call('DELETE', `/trial/${String(created['id'])}`);
    expect(res.status).toBe(405);
    expect(res.headers['Allow']).toBe('GET');
    expect((await api.call('GET', `/trial/${String(created['id'])}`)).status).toBe(200);
  });

  it('PUT /stop ends a Scheduled trial Stopped at once, and is 403 once finished', async () => {
    const created = (await api.call('POST', '/trial', { experiment: experimentId })).body as Body;
    const id = String(created['id']);
    const first = await api.call('PUT', `/trial/${id}/stop`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id, status: 'Stopped', executed_at: null, trial_record: { pre_steps: [], steps: [], post_steps: [] } });
    expect(String((first.body as Body)['completed_at'])).toMatch(/^\d{4}-/);
    const result = ((first.body as { trial_record: { result: { logs: string[] }[] } }).trial_record.result[0]?.logs ?? []).join(' ');
    expect(result).toContain('no step was run');
    const late = await api.call('PUT', `/trial/${id}/stop`);
    expect(late.status).toBe(403);
    // Kallisti's words in `message` (kallisticore tests/kallisticore/views/test_stop.py), ours in `detail`.
    expect(late.body).toEqual({ message: 'Trial has either not started or already set to stop.', detail: expect.stringContaining('Stopped') });
    expect((await api.call('PUT', '/trial/3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1/stop')).status).toBe(404);
  });

  it('PUT /stop of a Scheduled trial keeps no credential parameter in the stored trial, as every other end of a trial does', async () => {
    const steps = [{ step: 'call', do: 'cm.http_request', where: { url: '{{ base_url }}/x', authentication: { type: 'basic', username: 'svc', password: '{{ pass }}' } } }];
    const secretive = String(((await api.call('POST', '/experiment', experimentBody({ name: 'uses a password', steps }))).body as Body)['id']);
    const id = String(((await api.call('POST', '/trial', { experiment: secretive, parameters: { pass: 'pw-Secret-1234', api_token: 'tok-Secret-5678', region: 'eu' } })).body as Body)['id']);
    expect((await api.call('PUT', `/trial/${id}/stop`)).body).toMatchObject({ id, status: 'Stopped' });
    expect((await api.trials.get(id))?.parameters).toEqual({ pass: '***', api_token: '***', region: 'eu' });
  });

  it('PUT /stop moves an In Progress trial to Stop Initiated and is idempotent', async () => {
    const id = String(((await api.call('POST', '/trial', { experiment: experimentId })).body as Body)['id']);
    await api.trials.transition(id, ['Scheduled'], 'In Progress', { executed_at: new Date().toISOString() });
    expect((await api.call('PUT', `/trial/${id}/stop`)).body).toMatchObject({ id, status: 'Stop Initiated' });
    expect((await api.call('PUT', `/trial/${id}/stop`)).body).toMatchObject({ id, status: 'Stop Initiated' });
  });

  it('keeps the experiment as it was when the trial was created, whatever edits follow', async () => {
    const before = (await api.call('GET', `/experiment/${experimentId}`)).body as Body;
    const id = String(((await api.call('POST', '/trial', { experiment: experimentId })).body as Body)['id']);
    const edit = await api.call('PATCH', `/experiment/${experimentId}`, { steps: [{ step: 'other', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    expect(edit.status).toBe(200);

    const trial = (await api.call('GET', `/trial/${id}`)).body as Body;
    expect(trial['invocations']).toBe(0);
    expect(trial['experiment_snapshot']).toMatchObject({ name: before['name'], steps: before['steps'], updated_at: before['updated_at'] });
  });
});
