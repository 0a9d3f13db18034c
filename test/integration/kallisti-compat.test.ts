/**
 * A Kallisti client against the local server, with Kallisti's own test payloads
 * and documented examples, under the root and under Kallisti's `/api/v1/`
 * prefix (with Django's trailing slashes). Each case names the original test
 * (jpmorganchase/kallisti-core `tests/kallisticore/views/…`, or
 * jpmorganchase/kallisti `tests/kallisti/views/…` and `docs/…`).
 */
import { jest } from '@jest/globals';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import { waitFor } from '../support/local-server.js';

jest.setTimeout(60_000);

const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const UNKNOWN = '3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1';
type Body = Record<string, unknown>;

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

describe.each([
  ['the root', ''],
  ['Kallisti\u2019s /api/v1/ prefix', '/api/v1'],
])('a Kallisti client under %s', (_name, prefix) => {
  let server: LocalServer;

  /** `/experiment/{id}` → `/api/v1/experiment/{id}/` (Django REST framework's trailing slash) or `/experiment/{id}`. */
  function url(path: string): string {
    const [route, query] = path.split('?');
    const full = prefix ? `${prefix}${route}/` : String(route);
    return `${server.url}${full}${query ? `?${query}` : ''}`;
  }

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await fetch(url(path), {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  const idOf = (answer: Answer): string => String((answer.body as Body)['id']);

  /** `Experiment.create(name=…, description=…)` of the original tests, through the API. */
  async function experiment(extra: Body = {}): Promise<string> {
    const created = await call('POST', '/experiment', { name: 'kill-my-web-cf-app-instance', description: 'HA experiment', steps: [], ...extra });
    expect(created.status).toBe(201);
    return idOf(created);
  }

  beforeAll(async () => {
    server = await startLocalServer({ port: 0, logger: quiet });
  });
  afterAll(async () => {
    await server.close();
  });

  describe('docs at Kallisti\u2019s paths (kallisti config/urls.py: swagger.json, swagger/, redoc/)', () => {
    it('serves the OpenAPI document, Swagger UI and ReDoc', async () => {
      const spec = await fetch(`${server.url}/swagger.json`);
      expect(spec.status).toBe(200);
      const doc = (await spec.json()) as { openapi: string; paths: Record<string, unknown>; servers: { url: string }[] };
      expect(doc.openapi).toMatch(/^3\.0\./);
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/info', '/notification', '/swagger.json', '/swagger', '/redoc']));
      expect(doc.servers.map((s) => s.url)).toEqual(['/', '/api/v1']);
      const swagger = await fetch(`${server.url}/swagger/`);
      expect([swagger.status, swagger.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await swagger.text()).toContain('swagger-ui-bundle.js');
      const redoc = await fetch(`${server.url}/redoc/`);
      expect(redoc.status).toBe(200);
      const page = await redoc.text();
      expect(page).toContain('<redoc spec-url="/openapi.json">');
      // The pinned CDN copy is checked by the browser (Subresource Integrity).
      expect(page).toMatch(/<script src="https:\/\/cdn\.jsdelivr\.net\/npm\/redoc@2\.5\.4\/bundles\/redoc\.standalone\.js" integrity="sha384-[A-Za-z0-9+/]{64}" crossorigin="anonymous"><\/script>/);
    });
  });

  describe('empty lists (test_experiment.py test_list_empty_experiments, test_trial.py test_list_empty_trial)', () => {
    it('answer []', async () => {
      expect(await call('GET', '/experiment')).toMatchObject({ status: 200, body: [] });
      expect(await call('GET', '/trial')).toMatchObject({ status: 200, body: [] });
    });
  });

  describe('experiments (kallisti-core tests/kallisticore/views/test_experiment.py)', () => {
    it('test_post_with_valid_details: "steps": [] is accepted', async () => {
      const data = {
        name: 'go-redirection-would-work-when-database-dies',
        description: 'This experiment would prove go redirection would be resilient to DB failures',
        parameters: {},
        steps: [],
      };
      const res = await call('POST', '/experiment', data);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject(data);
      expect(res.headers.get('location')).toBe(`${prefix}/experiment/${idOf(res)}`);
    });

    it('test_post_with_invalid_data: {} is a 400', async () => {
      expect((await call('POST', '/experiment', {})).status).toBe(400);
    });

    it('test_list_experiments: both appear', async () => {
      const one = await experiment();
      const two = await experiment({ name: 'stop-my-web-cf-app', description: 'DR experiment' });
      const ids = ((await call('GET', '/experiment')).body as Body[]).map((e) => e['id']);
      expect(ids).toEqual(expect.arrayContaining([one, two]));
    });

    it('test_get_details / test_get_details_with_invalid_id: 404 body carries "detail": "Not found."', async () => {
      const id = await experiment();
      expect(await call('GET', `/experiment/${id}`)).toMatchObject({ status: 200, body: { id, name: 'kill-my-web-cf-app-instance' } });
      const missing = await call('GET', `/experiment/${UNKNOWN}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ detail: 'Not found.', message: expect.any(String) });
    });

    it('test_patch / test_patch_with_invalid_id', async () => {
      const id = await experiment();
      const data = { description: 'This experiment would prove go redirection would be resilient to DB failures' };
      expect(await call('PATCH', `/experiment/${id}`, data)).toMatchObject({ status: 200, body: data });
      expect(await call('PATCH', `/experiment/${UNKNOWN}`, data)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    });

    it('test_delete / test_delete_with_invalid_id; a deleted experiment stays readable by id (views/experiment.py get_queryset_all) and leaves the list', async () => {
      const id = await experiment();
      expect((await call('DELETE', `/experiment/${id}`)).status).toBe(204);
      expect(await call('DELETE', `/experiment/${UNKNOWN}`)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
      const read = await call('GET', `/experiment/${id}`);
      expect(read).toMatchObject({ status: 200, body: { id, deleted_by: 'anonymous', deleted_at: expect.any(String) } });
      expect(((await call('GET', '/experiment')).body as Body[]).map((e) => e['id'])).not.toContain(id);
    });

    it('a GET answer edited and PUT back is accepted: read-only fields are ignored (serializers.py ExperimentSerializer)', async () => {
      const id = await experiment({ metadata: { team: 'payments' } });
      const read = (await call('GET', `/experiment/${id}`)).body as Body;
      const put = await call('PUT', `/experiment/${id}`, { ...read, description: 'edited', id: UNKNOWN, created_by: 'mallory' });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ id, description: 'edited', created_by: 'anonymous', created_at: read['created_at'] });
      const patched = await call('PATCH', `/experiment/${id}`, { ...read, name: 'renamed', created_at: '2000-01-01T00:00:00Z' });
      expect(patched).toMatchObject({ status: 200, body: { id, name: 'renamed', created_at: read['created_at'] } });
    });

    it('metadata values are any JSON (serializers.py: metadata = DictField)', async () => {
      const metadata = { team: 'payments', tier: 1, critical: true, owners: ['a', 'b'], links: { runbook: 'https://example.com' } };
      const id = await experiment({ metadata });
      expect((await call('GET', `/experiment/${id}`)).body).toMatchObject({ metadata });
    });

    it('a step command Kallisti has but this product does not (docs/how-to-use.md, k8s.terminate_pods) is a 400 naming the step, at save time', async () => {
      const res = await call('POST', '/experiment', {
        name: 'Terminate a hello world pod',
        description: "Terminate a pod and validate the status of the application's health endpoint.",
        steps: [
          {
            step: 'Terminate pod',
            do: 'k8s.terminate_pods',
            where: { label_selector: 'app=hello-world', qty: 1, ns: 'my-namespace', credentials: { type: 'ENV_VAR_USERNAME_PASSWORD', password_key: 'K8S_PASSWORD', username_key: 'K8S_USERNAME' } },
          },
          { step: 'HTTP health check', do: 'cm.http_probe', where: { url: 'https://hello-world.com/health' } },
        ],
      });
      expect(res.status).toBe(400);
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('steps[0].do');
    });
  });

  describe('trials (kallisti-core tests/kallisticore/views/test_trial.py)', () => {
    it('test_create, test_get_trial_details, test_list_trials; initiated_from is writable (serializers.py TrialSerializer)', async () => {
      const experimentId = await experiment();
      const created = await call('POST', '/trial', { experiment: experimentId, initiated_from: 'ui', status: 'Succeeded', initiated_by: 'mallory' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ experiment: experimentId, status: 'Scheduled', initiated_from: 'ui', initiated_by: 'anonymous' });
      const id = idOf(created);
      expect(created.headers.get('location')).toBe(`${prefix}/trial/${id}`);
      expect(await call('GET', `/trial/${id}`)).toMatchObject({ status: 200, body: { id } });
      expect(((await call('GET', '/trial')).body as Body[]).map((t) => t['id'])).toContain(id);
    });

    it('test_get_non_existing_trial: 404 with "detail": "Not found."', async () => {
      expect(await call('GET', `/trial/${UNKNOWN}`)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    });

    it('test_create_for_deleted_experiment: 400', async () => {
      const experimentId = await experiment();
      await call('DELETE', `/experiment/${experimentId}`);
      expect((await call('POST', '/trial', { experiment: experimentId })).status).toBe(400);
    });

    it('test_list_trials_with_soft_deleted_experiment / test_get_trial_with_soft_deleted_experiment', async () => {
      const experimentId = await experiment();
      const id = idOf(await call('POST', '/trial', { experiment: experimentId }));
      await call('DELETE', `/experiment/${experimentId}`);
      expect(((await call('GET', '/trial')).body as Body[]).map((t) => t['id'])).not.toContain(id);
      expect(((await call('GET', '/trial?include_deleted=true')).body as Body[]).map((t) => t['id'])).toContain(id);
      expect(await call('GET', `/trial/${id}`)).toMatchObject({ status: 200, body: { id } });
    });
  });

  describe('stop (kallisti-core tests/kallisticore/views/test_stop.py)', () => {
    it('test_stop_status, test_trial_already_started, test_trial_not_started, test_no_trial_id', async () => {
      const experimentId = await experiment({ steps: [{ step: 'pause', do: 'cm.wait', where: { time_in_seconds: 5 } }] });
      const id = idOf(await call('POST', '/trial', { experiment: experimentId }));
      // Kallisti answers Stop Initiated for a running trial; wait until the worker has it.
      await waitFor(async () => (((await call('GET', `/trial/${id}`)).body as Body)['status'] === 'In Progress' ? true : undefined));
      expect(await call('PUT', `/trial/${id}/stop`)).toMatchObject({ status: 200, body: { status: 'Stop Initiated' } });
      expect(await call('PUT', `/trial/${id}/stop`)).toMatchObject({ status: 200, body: { status: 'Stop Initiated' } });
      // Unlike Kallisti, the stop ends the trial Stopped; a stop after that is refused with Kallisti's words.
      await waitFor(async () => (((await call('GET', `/trial/${id}`)).body as Body)['status'] === 'Stopped' ? true : undefined));
      const late = await call('PUT', `/trial/${id}/stop`);
      expect(late.status).toBe(403);
      expect((late.body as Body)['message']).toBe('Trial has either not started or already set to stop.');
      expect((await call('PUT', '/trial/test-trial-id/stop')).status).toBe(404);
    });
  });

  describe('schedules (kallisti-core tests/kallisticore/views/test_trial_schedule.py)', () => {
    it('test_list_empty_schedule, test_create, test_list_schedules, test_detail_entry, test_patch, test_delete', async () => {
      const experimentId = await experiment({ metadata: { team: 'payments', env: 'uat' } });
      expect(await call('GET', `/experiment/${experimentId}/schedule`)).toMatchObject({ status: 200, body: [] });
      const created = await call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '0 0 1 1 *', metadata: { env: 'prod' } });
      expect(created.status).toBe(201);
      // The schedule inherits the experiment's metadata, its own on top (models/trial_schedule.py update_metadata).
      expect(created.body).toMatchObject({ experiment_id: experimentId, metadata: { team: 'payments', env: 'prod' }, recurrence_left: null });
      const id = idOf(created);
      expect(((await call('GET', `/experiment/${experimentId}/schedule`)).body as Body[]).map((s) => s['id'])).toEqual([id]);
      const read = await call('GET', `/experiment/${experimentId}/schedule/${id}`);
      expect(read).toMatchObject({ status: 200, body: { id, trials: [] } });
      // Sent back as read, with one change: read-only fields (id, experiment_id, recurrence_left, trials…) are ignored.
      const put = await call('PUT', `/experiment/${experimentId}/schedule/${id}`, { ...(read.body as Body), recurrence_count: 3 });
      expect(put).toMatchObject({ status: 200, body: { id, recurrence_count: 3, recurrence_left: 3, metadata: { team: 'payments', env: 'prod' } } });
      expect(await call('PATCH', `/experiment/${experimentId}/schedule/${id}`, { recurrence_pattern: '5 * * * *' })).toMatchObject({
        status: 200,
        body: { recurrence_pattern: '5 * * * *' },
      });
      expect((await call('DELETE', `/experiment/${experimentId}/schedule/${id}`)).status).toBe(204);
      expect(await call('GET', `/experiment/${experimentId}/schedule`)).toMatchObject({ status: 200, body: [] });
    });

    it('test_create_with_invalid_details, test_create_with_invalid_experiment_id, test_create_on_deleted_experiment', async () => {
      const experimentId = await experiment();
      expect((await call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: 'invalid-cron-pattern' })).status).toBe(400);
      expect((await call('POST', '/experiment/non-existing-experiment-id/schedule', { recurrence_pattern: '* * * * *' })).status).toBe(404);
      await call('DELETE', `/experiment/${experimentId}`);
      expect((await call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '* * * * *' })).status).toBe(404);
    });

    it('test_detail_with_non_existing_pk, test_detail_with_non_existing_experiment_id, test_delete_with_invalid_id, test_patch_with_invalid_id', async () => {
      const experimentId = await experiment();
      const id = idOf(await call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '0 0 1 1 *' }));
      expect((await call('GET', `/experiment/${experimentId}/schedule/${UNKNOWN}`)).status).toBe(404);
      expect((await call('GET', `/experiment/${UNKNOWN}/schedule/${id}`)).status).toBe(404);
      expect(await call('DELETE', `/experiment/${UNKNOWN}/schedule/${UNKNOWN}`)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
      expect(await call('PATCH', `/experiment/${UNKNOWN}/schedule/${UNKNOWN}`, { recurrence_pattern: '5 * * * *' })).toMatchObject({
        status: 404,
        body: { detail: 'Not found.' },
      });
    });

    it('test_detail_with_soft_deleted_experiment, test_list_schedules_with_deleted_experiment', async () => {
      const experimentId = await experiment();
      const id = idOf(await call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '0 0 1 1 *' }));
      await call('DELETE', `/experiment/${experimentId}`);
      expect(await call('GET', `/experiment/${experimentId}/schedule/${id}`)).toMatchObject({ status: 200, body: { id, deleted_at: expect.any(String) } });
      expect(await call('GET', `/experiment/${experimentId}/schedule`)).toMatchObject({ status: 200, body: [] });
    });
  });

  describe('report (kallisti-core tests/kallisticore/renderers/test_xml_renderer.py, views/test_report.py)', () => {
    it('starts with the report title before <root>, and narrows to one trial with trial-id', async () => {
      const experimentId = await experiment({ name: 'test-experiment-1', description: 'Test experiment 1.' });
      const first = idOf(await call('POST', '/trial', { experiment: experimentId }));
      await call('POST', '/trial', { experiment: experimentId });
      const res = await call('GET', `/report?trial-id=${first}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/xml');
      expect(res.text).toMatch(/<report-title>Kallisti Report<\/report-title>\s*<root>/);
      expect(res.text.match(/<trials>/g)).toHaveLength(1);
      expect(res.text).toContain(`<id>${first}</id>`);
    });
  });

  describe('info (kallisti tests/kallisti/views/test_info.py, views/info.py)', () => {
    it('answers exactly version and platform, whose TOKEN_URL and AUTHORIZE_URL are "" with no authentication (config/settings.py KALLISTI_INFO_API_PLATFORM)', async () => {
      const res = await call('GET', '/info');
      expect(res.status).toBe(200);
      expect(Object.keys(res.body as Body)).toEqual(['version', 'platform']);
      expect(res.body).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), platform: { TOKEN_URL: '', AUTHORIZE_URL: '' } });
    });
  });

  describe('notification (kallisti-core tests/kallisticore/views/test_notification.py)', () => {
    it('test_list_empty, test_put, test_list', async () => {
      expect(await call('GET', '/notification')).toMatchObject({ status: 200, body: { emails: [] } });
      expect(await call('PUT', '/notification', { emails: ['123@email.com'] })).toMatchObject({ status: 200, body: { emails: ['123@email.com'] } });
      expect(await call('PUT', '/notification', { emails: ['sample@test.com'] })).toMatchObject({ status: 200 });
      expect(await call('GET', '/notification')).toMatchObject({ status: 200, body: { emails: ['sample@test.com'] } });
      const bad = await call('PUT', '/notification', { emails: ['not an address'] });
      expect(bad.status).toBe(400);
      expect((bad.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['emails[0]']);
    });
  });

  describe('health (kallisti tests/kallisti/views/test_health.py)', () => {
    it('answers {"status": "up"}', async () => {
      expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'up' } });
    });
  });
});
