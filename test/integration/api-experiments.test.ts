import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
let api: Harness;
beforeEach(async () => {
  api = await startApiHarness();
});
afterEach(() => api.close());

type Body = Record<string, unknown>;

async function countExperiments(): Promise<number> {
  return (await api.experiments.list({ limit: 100 })).items.length;
}

describe('POST /experiment', () => {
  it('answers 201 with the stored experiment, its id and its creator', async () => {
    const res = await api.call('POST', '/experiment', experimentBody());
    expect(res.status).toBe(201);
    const body = res.body as Body;
    expect(body).toMatchObject({ name: experimentBody().name, created_by: 'anonymous', metadata: { team: 'payments' } });
    expect(body['id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(String(body['created_at']))).not.toBeNaN();
    const stored = await api.call('GET', `/experiment/${String(body['id'])}`);
    expect(stored.body).toEqual(body);
  });

  it('answers 400 naming every bad field and stores nothing', async () => {
    const res = await api.call('POST', '/experiment', { description: 5, steps: [{ step: 'x', do: 'cm.wait' }], extra: true });
    expect(res.status).toBe(400);
    const paths = ((res.body as Body)['errors'] as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'description', 'steps[0].where', 'extra']));
    expect(await countExperiments()).toBe(0);
  });

  it('rejects an unknown step namespace or command, naming the step', async () => {
    const res = await api.call('POST', '/experiment', experimentBody({ steps: [{ step: 'Kill pod', do: 'k9s.kill', where: {} }] }));
    expect(res.status).toBe(400);
    expect((res.body as Body)['errors']).toEqual([{ path: 'steps[0].do', message: expect.stringContaining('Kill pod') }]);
    expect(await countExperiments()).toBe(0);
  });

  it("rejects a step whose where does not fit its command, but accepts placeholders for later", async () => {
    const bad = await api.call('POST', '/experiment', experimentBody({ steps: [{ step: 'w', do: 'cm.wait', where: { seconds: 3 } }] }));
    expect(bad.status).toBe(400);
    expect(((bad.body as Body)['errors'] as { path: string }[]).map((e) => e.path)).toEqual(
      expect.arrayContaining(['steps[0].where.time_in_seconds', 'steps[0].where.seconds']),
    );
    const templated = await api.call('POST', '/experiment', experimentBody({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: '{{ pause }}' } }] }));
    expect(templated.status).toBe(201);
  });

  it('refuses a step that cannot fit one worker invocation, naming its timeout, and accepts one that fits', async () => {
    const slow = await api.call('POST', '/experiment', experimentBody({ steps: [{ step: 'slow call', do: 'cm.http_probe', where: { url: 'http://x.test', timeout: 840 } }] }));
    expect(slow.status).toBe(400);
    expect((slow.body as Body)['errors']).toEqual([{ path: 'steps[0].where.timeout', message: expect.stringMatching(/"slow call".*841 s.*780 s/) }]);
    expect(await countExperiments()).toBe(0);
    const fits = await api.call('POST', '/experiment', experimentBody({ steps: [{ step: 'call', do: 'cm.http_probe', where: { url: 'http://x.test', timeout: 779 } }] }));
    expect(fits.status).toBe(201);
    // A PATCH is judged with what it leaves in place.
    const id = String((fits.body as Body)['id']);
    const patched = await api.call('PATCH', `/experiment/${id}`, { post_steps: [{ step: 'undo', do: 'cm.http_request', where: { url: 'http://x.test', timeout: 900 } }] });
    expect(patched.status).toBe(400);
    expect(((patched.body as Body)['errors'] as { path: string }[]).map((e) => e.path)).toEqual(['post_steps[0].where.timeout']);
  });

  it('accepts waits of any length (they are split across slices) up to the longest a trial may run, and names the step past it', async () => {
    const day = (n: number) => ({ step: `day ${n}`, do: 'cm.wait', where: { time_in_seconds: 86_400 } });
    const twelve = Array.from({ length: 12 }, (_, i) => day(i));
    expect((await api.call('POST', '/experiment', experimentBody({ pre_steps: [], steps: twelve }))).status).toBe(201);
    const res = await api.call('POST', '/experiment', experimentBody({ pre_steps: [], steps: twelve, post_steps: [day(12)] }));
    expect(res.status).toBe(400);
    expect((res.body as Body)['errors']).toEqual([{ path: 'post_steps[0]', message: expect.stringMatching(/up to 312 h .* \(288 h: the queue keeps a trial's message 14 days\)/) }]);
  });

  it('rejects an invalid expectation operator', async () => {
    const res = await api.call('POST', '/experiment', experimentBody({ steps: [{ step: 'p', do: 'cm.http_request', where: { url: 'http://x.test' }, expect: [{ operator: 'approx', status_code: 200 }] }] }));
    expect(res.status).toBe(400);
    expect(((res.body as Body)['errors'] as { path: string }[]).map((e) => e.path)).toContain('steps[0].expect[0].operator');
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await api.call('POST', '/experiment', '{"name": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ message: 'Request body is not valid JSON', errors: [{ path: 'body' }] });
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await api.call('POST', '/experiment', experimentBody({ description: 'x'.repeat(300 * 1024) }));
    expect(res.status).toBe(413);
    expect(await countExperiments()).toBe(0);
  });
});

describe('GET /experiment', () => {
  it('answers a plain array, paginated with limit and a Link to the next page', async () => {
    for (let i = 0; i < 3; i += 1) await api.call('POST', '/experiment', experimentBody({ name: `e${i}` }));
    const first = await api.call('GET', '/experiment?limit=2');
    expect(first.status).toBe(200);
    expect((first.body as Body[]).map((e) => e['name'])).toEqual(['e2', 'e1']);
    const link = first.headers['Link'];
    expect(link).toMatch(/^<\/prod\/experiment\?limit=2&next_token=[^>]+>; rel="next"$/);
    const next = /<([^>]+)>/.exec(link ?? '')?.[1]?.replace('/prod', '') ?? '';
    const second = await api.call('GET', next);
    expect((second.body as Body[]).map((e) => e['name'])).toEqual(['e0']);
  });

  it('without limit answers every experiment in one response, as Kallisti does (past one store page)', async () => {
    const stamp = '2024-01-01T00:00:00.000Z';
    const ids = Array.from({ length: 105 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const steps = [{ step: 'pause', do: 'cm.wait', where: { time_in_seconds: 1 } }];
    await Promise.all(
      ids.map((id, i) =>
        api.experiments.create({ id, name: `all${i}`, description: '', metadata: {}, parameters: {}, pre_steps: [], steps, post_steps: [], created_by: 'a', created_at: stamp, updated_by: 'a', updated_at: stamp }),
      ),
    );
    const all = await api.call('GET', '/experiment');
    expect(all.status).toBe(200);
    expect((all.body as Body[]).length).toBe(105);
    expect(all.headers['Link']).toBeUndefined();
  });

  it('answers 400 naming limit when it is out of range or not a number', async () => {
    for (const bad of ['0', '1000', 'ten']) {
      const res = await api.call('GET', `/experiment?limit=${bad}`);
      expect(res.status).toBe(400);
      expect((res.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'limit' })]);
    }
  });

  it('answers 400 naming next_token when it is forged', async () => {
    const res = await api.call('GET', '/experiment?next_token=garbage');
    expect(res.status).toBe(400);
    expect((res.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'next_token' })]);
  });
});

describe('/experiment/{experiment_id}', () => {
  async function create(): Promise<Body> {
    return (await api.call('POST', '/experiment', experimentBody())).body as Body;
  }

  it('PUT replaces the definition and keeps the creator', async () => {
    const created = await create();
    const res = await api.call('PUT', `/experiment/${String(created['id'])}`, { name: 'new', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: created['id'], name: 'new', metadata: {}, pre_steps: [], created_at: created['created_at'], created_by: 'anonymous' });
  });

  it('PATCH changes only the given fields', async () => {
    const created = await create();
    const res = await api.call('PATCH', `/experiment/${String(created['id'])}`, { description: 'patched' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: created['name'], description: 'patched', steps: created['steps'] });
  });

  it('PATCH with an empty body is a 400', async () => {
    const created = await create();
    const res = await api.call('PATCH', `/experiment/${String(created['id'])}`, {});
    expect(res.status).toBe(400);
  });

  it('DELETE is soft: 204, then readable by id only, gone from the list, 404 to changes, while its trials stay readable', async () => {
    const created = await create();
    const trial = (await api.call('POST', '/trial', { experiment: created['id'] })).body as Body;
    const res = await api.call('DELETE', `/experiment/${String(created['id'])}`);
    expect(res.status).toBe(204);
    expect((await api.call('GET', `/experiment/${String(created['id'])}`)).body).toMatchObject({ id: created['id'], deleted_by: 'anonymous' });
    expect((await api.call('DELETE', `/experiment/${String(created['id'])}`)).status).toBe(404);
    expect((await api.call('PUT', `/experiment/${String(created['id'])}`, experimentBody())).status).toBe(404);
    expect(((await api.call('GET', '/experiment')).body as Body[]).map((e) => e['id'])).not.toContain(created['id']);
    expect((await api.call('GET', `/trial/${String(trial['id'])}`)).status).toBe(200);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    expect((await api.call('GET', '/experiment/3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1')).status).toBe(404);
    const malformed = await api.call('GET', '/experiment/not-a-uuid');
    expect(malformed.status).toBe(404);
    expect(malformed.body).toMatchObject({ message: expect.any(String) });
  });

  it('answers 405 with Allow for a method the path does not have', async () => {
    const res = await api.call('POST', '/experiment/3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1');
    expect(res.status).toBe(405);
    expect(res.headers['Allow']).toBe('GET, PUT, PATCH, DELETE');
  });
});

describe('unknown paths', () => {
  it('answer 404 in the error shape', async () => {
    const res = await api.call('GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ message: 'No route for GET /nope' });
  });
});

describe('GET /health and /docs', () => {
  it('answers up (as Kallisti) and serves Swagger UI pointing at the spec behind the stage', async () => {
    expect((await api.call('GET', '/health')).body).toEqual({ status: 'up' });
    const docs = await api.call('GET', '/docs');
    expect(docs.headers['Content-Type']).toContain('text/html');
    expect(docs.text).toContain('"/prod/openapi.json"');
    const spec = await api.call('GET', '/openapi.json');
    expect(spec.body).toMatchObject({ openapi: expect.stringMatching(/^3\.0\./), servers: [{ url: '/prod' }, { url: '/prod/api/v1' }] });
  });
});
