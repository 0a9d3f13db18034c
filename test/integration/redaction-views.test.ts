import { TRIAL_STATUSES, emptyTrialRecord, type Trial } from '../../functions/domain/trial.js';
import type { JsonObject } from '../../functions/domain/types.js';
import { startApiHarness } from '../support/api-harness.js';

/**
 * One redaction rule in every view: a secret parameter (by name or by use in a
 * secret position) and a literal credential in a step never show in experiments,
 * schedules, trials (every status) or reports; GET → PUT keeps the stored secret.
 */
type Harness = Awaited<ReturnType<typeof startApiHarness>>;
let api: Harness;
let experimentId: string;

const SECRETS = ['named-secret-value', 'positional-secret-value', 'literal-header-value', 'nested-password-value', 'schedule-named-value', 'schedule-positional-value', 'trial-named-value', 'trial-positional-value'];

const experiment = {
  name: 'secrets',
  parameters: { api_token: 'named-secret-value', t: 'positional-secret-value', db: { password: 'nested-password-value' }, base: 'http://127.0.0.1:9' },
  steps: [
    {
      step: 'call',
      do: 'cm.http_request',
      where: { url: '{{ base }}/x', headers: { Authorization: 'Bearer {{ t }}', 'X-Api-Key': 'literal-header-value', 'X-Trace': 'visible-trace' } },
    },
  ],
};

function expectNoSecret(text: string, what: string): void {
  for (const secret of SECRETS) if (text.includes(secret)) throw new Error(`${what} shows ${secret}: ${text.slice(0, 400)}`);
}

beforeAll(async () => {
  api = await startApiHarness();
  const created = await api.call('POST', '/experiment', experiment);
  expect(created.status).toBe(201);
  expectNoSecret(created.text, 'POST /experiment');
  experimentId = String((created.body as JsonObject)['id']);
});
afterAll(() => api.close());

describe('experiments', () => {
  it('mask secret parameters (by name, nested, by use) and literal credentials in steps, but show templates and the rest', async () => {
    for (const path of [`/experiment/${experimentId}`, '/experiment']) {
      const res = await api.call('GET', path);
      expectNoSecret(res.text, `GET ${path}`);
      expect(res.text).toContain('Bearer {{ t }}');
      expect(res.text).toContain('visible-trace');
      expect(res.text).toContain('http://127.0.0.1:9');
    }
    const read = (await api.call('GET', `/experiment/${experimentId}`)).body as JsonObject;
    expect(read['parameters']).toEqual({ api_token: '***', t: '***', db: { password: '***' }, base: 'http://127.0.0.1:9' });
  });

  it('keep the stored secrets when a client sends back what it read (GET → PUT, PATCH)', async () => {
    const read = (await api.call('GET', `/experiment/${experimentId}`)).body as JsonObject;
    const { name, parameters, steps } = read;
    const put = await api.call('PUT', `/experiment/${experimentId}`, { name, parameters, steps, description: 'edited' });
    expect(put.status).toBe(200);
    expectNoSecret(put.text, 'PUT /experiment');
    const patch = await api.call('PATCH', `/experiment/${experimentId}`, { parameters: { ...(parameters as JsonObject), base: 'http://127.0.0.1:10' } });
    expect(patch.status).toBe(200);
    expectNoSecret(patch.text, 'PATCH /experiment');
    const stored = await api.experiments.get(experimentId);
    expect(stored?.parameters).toEqual({ ...experiment.parameters, base: 'http://127.0.0.1:10' });
    expect(stored?.steps[0]?.where).toEqual(experiment.steps[0]?.where);
  });

  it('store a new value sent in place of a masked one', async () => {
    const created = await api.call('POST', '/experiment', experiment);
    const id = String((created.body as JsonObject)['id']);
    await api.call('PATCH', `/experiment/${id}`, { parameters: { ...experiment.parameters, api_token: 'rotated' } });
    expect((await api.experiments.get(id))?.parameters['api_token']).toBe('rotated');
  });
});

describe('schedules', () => {
  it('mask secret parameters in every view and keep them on PUT/PATCH of what was read', async () => {
    const body = { recurrence_pattern: '0 0 * * *', parameters: { api_token: 'schedule-named-value', t: 'schedule-positional-value' } };
    const created = await api.call('POST', `/experiment/${experimentId}/schedule`, body);
    expect(created.status).toBe(201);
    expectNoSecret(created.text, 'POST schedule');
    const id = String((created.body as JsonObject)['id']);
    for (const path of [`/experiment/${experimentId}/schedule/${id}`, `/experiment/${experimentId}/schedule`]) expectNoSecret((await api.call('GET', path)).text, `GET ${path}`);
    const read = (await api.call('GET', `/experiment/${experimentId}/schedule/${id}`)).body as JsonObject;
    expect(read['parameters']).toEqual({ api_token: '***', t: '***' });
    expectNoSecret((await api.call('PUT', `/experiment/${experimentId}/schedule/${id}`, { recurrence_pattern: '0 1 * * *', parameters: read['parameters'] })).text, 'PUT schedule');
    expectNoSecret((await api.call('PATCH', `/experiment/${experimentId}/schedule/${id}`, { parameters: read['parameters'] })).text, 'PATCH schedule');
    expect((await api.schedules.get(experimentId, id))?.parameters).toEqual(body.parameters);
  });
});

describe('trials', () => {
  const parameters = { password: 'trial-named-value', t: 'trial-positional-value' };

  it.each(TRIAL_STATUSES)('are masked while %s, in GET /trial/{id}, GET /trial and every report format', async (status) => {
    const trial: Trial = {
      id: `30000000-0000-4000-8000-${String(TRIAL_STATUSES.indexOf(status)).padStart(12, '0')}`,
      experiment: experimentId,
      parameters,
      metadata: {},
      ticket: {},
      status,
      trial_record: emptyTrialRecord(),
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, TRIAL_STATUSES.indexOf(status))).toISOString(),
      executed_at: null,
      completed_at: null,
      initiated_by: 'alice',
      initiated_from: 'api',
      schedule_id: null,
    };
    await api.trials.create(trial);
    const one = await api.call('GET', `/trial/${trial.id}`);
    expect((one.body as JsonObject)['parameters']).toEqual({ password: '***', t: '***' });
    for (const path of [`/trial/${trial.id}`, `/trial?experiment=${experimentId}`, '/trial', `/report?trial-id=${trial.id}`, `/report?experiment=${experimentId}`, '/report?format=json', '/report?format=junit']) {
      const res = await api.call('GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expectNoSecret(res.text, `GET ${path} (${status})`);
    }
  });

  it('are masked when created, and a trial Aborted at enqueue keeps no secret in the store', async () => {
    const created = await api.call('POST', '/trial', { experiment: experimentId, parameters });
    expect(created.status).toBe(201);
    expectNoSecret(created.text, 'POST /trial');
    api.queue.failNext = true;
    const refused = await api.call('POST', '/trial', { experiment: experimentId, parameters });
    expect(refused.status).toBe(503);
    const { items } = await api.trials.list({ experiment: experimentId }, { limit: 100 });
    const aborted = items.find((t) => t.status === 'Aborted' && t.initiated_from === 'api' && !t.id.startsWith('30000000-0000-4000-8000-'));
    expect(aborted?.parameters).toEqual({ password: '***', t: '***' });
  });
});
