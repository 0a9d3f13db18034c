import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { emptyTrialRecord, type Trial } from '../../functions/domain/trial.js';
import { httpRequest } from '../../functions/modules/cm/http-request.js';
import type { JsonObject } from '../../functions/domain/types.js';
import type { AppLogger } from '../../functions/logging.js';
import { startApiHarness } from '../support/api-harness.js';

/**
 * `__proto__` and `constructor` are legal JSON keys that JavaScript gives a
 * meaning; every endpoint answers 400 naming the field (never 500, never a
 * polluted prototype), while other Object.prototype names are ordinary data.
 */
type Harness = Awaited<ReturnType<typeof startApiHarness>>;
let api: Harness;
let experimentId: string;
let scheduleId: string;
const errors: string[] = [];
const logger: AppLogger = { info: () => undefined, warn: () => undefined, error: (message, extra) => errors.push(`${message} ${JSON.stringify(extra)}`) };

const experimentText = (key: string, where: 'metadata' | 'parameters' | 'headers' | 'expect' | 'nested') => {
  const metadata = where === 'metadata' ? `{"${key}":"m"}` : '{}';
  const parameters = where === 'parameters' ? `{"${key}":"v"}` : where === 'nested' ? `{"o":{"a":[{"${key}":{"x":1}}]}}` : '{}';
  const steps = where === 'headers' ? `[{"step":"s","do":"cm.http_request","where":{"url":"http://a.test/","headers":{"${key}":"h"}}}]`
    : where === 'expect' ? `[{"step":"s","do":"cm.http_request","where":{"url":"http://a.test/"},"expect":[{"operator":"eq","${key}":1}]}]`
    : '[{"step":"s","do":"cm.wait","where":{"time_in_seconds":1}}]';
  return `{"name":"x","metadata":${metadata},"parameters":${parameters},"steps":${steps}}`;
};
const expectedPath: Record<string, (key: string) => string> = {
  metadata: (key) => `metadata.${key}`,
  parameters: (key) => `parameters.${key}`,
  headers: (key) => `steps[0].where.headers.${key}`,
  expect: (key) => `steps[0].expect[0].${key}`,
  nested: (key) => `parameters.o.a[0].${key}`,
};

beforeAll(async () => {
  api = await startApiHarness({ logger });
  experimentId = String(((await api.call('POST', '/experiment', experimentText('plain', 'metadata'))).body as JsonObject)['id']);
  scheduleId = String(((await api.call('POST', `/experiment/${experimentId}/schedule`, '{"recurrence_pattern":"*/5 * * * *"}')).body as JsonObject)['id']);
});
afterAll(() => api.close());
afterEach(() => {
  expect(errors).toEqual([]);
  expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
});

describe.each(['__proto__', 'constructor'])('a %s key', (key) => {
  it.each(Object.keys(expectedPath))('in an experiment\'s %s answers 400 naming it, on POST, PUT and PATCH', async (where) => {
    const text = experimentText(key, where as Parameters<typeof experimentText>[1]);
    for (const [method, path] of [['POST', '/experiment'], ['PUT', `/experiment/${experimentId}`], ['PATCH', `/experiment/${experimentId}`]] as const) {
      const res = await api.call(method, path, text);
      expect({ method, status: res.status }).toEqual({ method, status: 400 });
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(expectedPath[where]?.(key));
    }
  });

  it.each(['parameters', 'ticket', 'metadata'])('in a trial\'s or schedule\'s %s answers 400 naming it', async (field) => {
    const trial = await api.call('POST', '/trial', `{"experiment":"${experimentId}","${field}":{"${key}":"v"}}`);
    expect(trial.status).toBe(400);
    expect(trial.text).toContain(`"path":"${field}.${key}"`);
    if (field === 'metadata') return;
    for (const [method, path] of [['POST', `/experiment/${experimentId}/schedule`], ['PUT', `/experiment/${experimentId}/schedule/${scheduleId}`], ['PATCH', `/experiment/${experimentId}/schedule/${scheduleId}`]] as const) {
      const res = await api.call(method, path, `{"recurrence_pattern":"*/5 * * * *","${field}":{"${key}":{"x":"v"}}}`);
      expect({ method, status: res.status }).toEqual({ method, status: 400 });
      expect(res.text).toContain(`${field}.${key}`);
    }
    expect(api.queue.sent).toEqual([]);
  });
});

describe.each(['prototype', 'toString', 'hasOwnProperty', 'valueOf'])('a %s key', (key) => {
  it('round-trips as data through experiments, trials and schedules', async () => {
    const created = await api.call('POST', '/experiment', experimentText(key, 'parameters').replace('"metadata":{}', `"metadata":{"${key}":"m"}`));
    expect(created.status).toBe(201);
    const id = String((created.body as JsonObject)['id']);
    const read = (await api.call('GET', `/experiment/${id}`)).body as JsonObject;
    expect(read['metadata']).toEqual({ [key]: 'm' });
    expect(read['parameters']).toEqual({ [key]: 'v' });
    const trial = await api.call('POST', '/trial', `{"experiment":"${id}","ticket":{"${key}":{"${key}":1}},"metadata":{"${key}":"t"}}`);
    expect(trial.status).toBe(201);
    const trialRead = (await api.call('GET', `/trial/${String((trial.body as JsonObject)['id'])}`)).body as JsonObject;
    expect(trialRead['ticket']).toEqual({ [key]: { [key]: 1 } });
    const schedule = await api.call('POST', `/experiment/${id}/schedule`, `{"recurrence_pattern":"0 0 * * *","ticket":{"${key}":"k"}}`);
    expect(schedule.status).toBe(201);
    expect((schedule.body as JsonObject)['ticket']).toEqual({ [key]: 'k' });
  });
});

describe('keys from outside (a step response)', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"constructor":{"name":"c"},"__proto__":{"polluted":true},"toString":"t"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('are stored in the trial record without a prototype taking effect (the raw text keeps __proto__)', async () => {
    const output = (await httpRequest.run({ url }, { signal: new AbortController().signal, log: () => undefined })) as JsonObject;
    const response = output['response'] as JsonObject;
    expect(Object.getPrototypeOf(response)).toBe(Object.prototype);
    expect(response).toEqual({ constructor: { name: 'c' }, toString: 't' });
    expect(output['response_text']).toContain('"__proto__"');

    const record = emptyTrialRecord();
    record.steps.push({ step: 's', do: 'cm.http_request', status: 'Succeeded', output, logs: [] } as unknown as (typeof record.steps)[number]);
    const trial: Trial = {
      id: '20000000-0000-4000-8000-000000000001',
      experiment: experimentId,
      parameters: {},
      metadata: {},
      ticket: {},
      status: 'Succeeded',
      trial_record: record,
      created_at: '2026-01-01T00:00:00.000Z',
      executed_at: null,
      completed_at: null,
      initiated_by: 'alice',
      initiated_from: 'api',
      schedule_id: null,
    };
    await api.trials.create(trial);
    const stored = (await api.trials.get(trial.id)) as Trial;
    expect((stored.trial_record.steps[0] as unknown as { output: JsonObject }).output['response']).toEqual({ constructor: { name: 'c' }, toString: 't' });
  });
});
