import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { INPUT_LIMITS } from '../../functions/domain/input-limits.js';
import type { AppLogger } from '../../functions/logging.js';
import { startApiHarness, type CallResult } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

/**
 * Throws generated malformed requests at every endpoint through the real router
 * on dynalite: each must be answered 4xx with the error shape, never 5xx, and
 * none may leave anything behind in the table, the queue or the scheduler.
 */

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;

const RUNS = { bodies: 4000, queries: 2000, paths: 2000 };
/**
 * Each property test's own budget: idle it takes a few seconds, but on two shared cores with
 * CPU-bound work beside the suite it can take ten times that. A budget, never a retry.
 */
const PROPERTY_BUDGET_MS = 180_000;

let api: Harness;
let experimentId: string;
let trialId: string;
let scheduleId: string;
let snapshot: string;
const unhandled: string[] = [];
const logger: AppLogger = { info: () => undefined, warn: () => undefined, error: (message, extra) => unhandled.push(`${message} ${JSON.stringify(extra)}`) };

async function tableContents(): Promise<string> {
  const { Items = [] } = await api.dynamo.documentClient.send(new ScanCommand({ TableName: api.dynamo.tableName, ConsistentRead: true }));
  return JSON.stringify(Items.map((item) => JSON.stringify(item)).sort());
}

beforeAll(async () => {
  api = await startApiHarness({ logger });
  experimentId = String(((await api.call('POST', '/experiment', experimentBody())).body as Body)['id']);
  trialId = String(((await api.call('POST', '/trial', { experiment: experimentId })).body as Body)['id']);
  scheduleId = String(((await api.call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '*/5 * * * *' })).body as Body)['id']);
  snapshot = await tableContents();
});

afterAll(() => api.close());

/** Every rejection: 4xx, JSON, `{ message, errors? }` and nothing else. */
function expectRejected(res: CallResult, what: string): void {
  if (res.status < 400 || res.status >= 500) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 500)}`);
  expect(res.headers['Content-Type']).toBe('application/json');
  const body = res.body as Body;
  expect(body).toEqual(expect.objectContaining({ message: expect.any(String) }));
  // `detail` is Kallisti's key, beside ours, on 401/403/404/405.
  expect(Object.keys(body).every((key) => key === 'message' || key === 'errors' || key === 'detail')).toBe(true);
  if ('errors' in body) {
    expect(Array.isArray(body['errors'])).toBe(true);
    for (const error of body['errors'] as Body[]) expect(error).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
}

const describeCall = (method: string, path: string, body: unknown): string => `${method} ${path} ${typeof body === 'string' ? body : JSON.stringify(body)}`.slice(0, 300);

// ---------------------------------------------------------------- building blocks

const json = fc.jsonValue({ maxDepth: 2 });
const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
/** Text that is not JSON (a raw string body is sent as it is). */
const notJsonText = fc.oneof(
  fc.string({ maxLength: 40 }).filter((s) => s.trim() !== '' && !isJson(s)),
  fc.constantFrom('{', '{"name": }', '[1, 2', '{"a": 1,}', "{'a': 1}", '{"a": NaN}', '\u0000', '{"steps": [}'),
);
const nonObject = fc.oneof(fc.array(json, { maxLength: 4 }), fc.string({ maxLength: 20 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
/** Metadata values are any JSON (Kallisti's DictField); what is still invalid: not an object, bad keys, too many, too big or deep. */
const badMetadata = fc.oneof(
  nonObject,
  tooBigMetadata(),
  fc.integer({ min: 1, max: 40 }).map((extra) => ({ ['k'.repeat(INPUT_LIMITS.maxKeyLength + extra)]: 'v' })),
  fc.constant({ '': 'empty key' }),
  fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']))),
);
/** Numbers DynamoDB (or the SDK) cannot store. */
function tooBigMetadata() {
  return fc.integer({ min: 1, max: 2000 }).map((extra) => ({ blob: 'x'.repeat(INPUT_LIMITS.maxMetadataBytes + extra) }));
}
const badNumber = fc.constantFrom(1e20, -1e20, 2 ** 53 + 2, 1e-200, -1e-131, Number.MAX_VALUE, 1e300);
const nest = (levels: number, leaf: unknown = 1): unknown => (levels === 0 ? leaf : { a: nest(levels - 1, leaf) });
const tooDeep = fc.integer({ min: INPUT_LIMITS.maxDepth + 1, max: INPUT_LIMITS.maxDepth + 40 }).map((levels) => nest(levels));
const tooBig = (bytes: number) => fc.integer({ min: 1, max: 2000 }).map((extra) => ({ blob: 'x'.repeat(bytes + extra) }));
const badParameters = fc.oneof(
  nonObject,
  fc.integer({ min: 1, max: 40 }).map((extra) => ({ ['p'.repeat(INPUT_LIMITS.maxKeyLength + extra)]: 1 })),
  fc.constant(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, i]))),
  tooDeep.map((value) => ({ deep: value })),
  tooBig(INPUT_LIMITS.maxParametersBytes),
  badNumber.map((n) => ({ n })),
  badNumber.map((n) => ({ list: [1, { n }] })),
  fc.constant({ '': 1 }),
);
const badTicket = fc.oneof(nonObject, tooBig(INPUT_LIMITS.maxTicketBytes), tooDeep.map((value) => ({ deep: value })), badNumber.map((n) => ({ n })), fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, i]))));
const tooLong = (max: number) => fc.integer({ min: 1, max: 50 }).map((extra) => 'x'.repeat(max + extra));
const randomKey = (allowed: readonly string[]) => fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !allowed.includes(key));
const withField = <T>(base: () => Body, field: string, values: fc.Arbitrary<T>) => values.map((value) => ({ ...base(), [field]: value }));
const withUnknownKey = (base: () => Body, allowed: readonly string[]) => fc.tuple(randomKey(allowed), json).map(([key, value]) => ({ ...base(), [key]: value }));

// ---------------------------------------------------------------- bodies

// Read-only fields are accepted and ignored (as Django REST framework does), so they are not "unknown".
const EXPERIMENT_FIELDS = ['name', 'description', 'metadata', 'parameters', 'pre_steps', 'steps', 'post_steps', 'id', 'created_by', 'created_at', 'updated_by', 'updated_at', 'deleted_by', 'deleted_at', 'creator'];
const validStep = () => ({ step: 'probe', do: 'cm.http_request', where: { url: 'http://127.0.0.1:9/x' } });
const withStep = (mutate: (step: Body) => unknown) => ({ ...experimentBody(), steps: [validStep(), mutate(validStep())] });

const badStep = fc.oneof(
  nonObject,
  fc.constantFrom('step', 'do', 'where').map((field) => withStep((step) => ({ ...step, [field]: undefined }))),
  fc.tuple(randomKey(['step', 'do', 'where', 'expect']), json).map(([key, value]) => withStep((step) => ({ ...step, [key]: value }))),
  fc.string({ maxLength: 20 }).filter((s) => !/^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/.test(s)).map((command) => withStep((step) => ({ ...step, do: command }))),
  fc.stringMatching(/^[a-z]{1,8}\.[a-z]{1,8}$/).filter((command) => !['cm.http_probe', 'cm.http_request', 'cm.wait'].includes(command)).map((command) => withStep((step) => ({ ...step, do: command }))),
  tooLong(256).map((label) => withStep((step) => ({ ...step, step: label }))),
  fc.constantFrom('', 42, null).map((label) => withStep((step) => ({ ...step, step: label }))),
  notString.map((where) => withStep((step) => ({ ...step, where }))),
  fc.constantFrom({}, { url: 'ftp://x/y' }, { url: 'file:///etc/passwd' }, { url: 'not a url' }, { url: 'http://x', method: 'TRACE' }, { url: 'http://x', bogus: 1 }).map((where) => withStep((step) => ({ ...step, where }))),
  tooDeep.map((deep) => withStep((step) => ({ ...step, where: { url: 'http://127.0.0.1:9/', request_body: deep } }))),
  fc.integer({ min: 1, max: 3000 }).map((extra) => withStep((step) => ({ ...step, where: { url: 'http://127.0.0.1:9/', request_body: 'b'.repeat(INPUT_LIMITS.maxWhereBytes + extra) } }))),
  badNumber.map((n) => withStep(() => ({ step: 'wait', do: 'cm.wait', where: { time_in_seconds: n } }))),
  fc.constant(withStep((step) => ({ ...step, where: { url: 'http://127.0.0.1:9/', headers: { '': 'empty header name' } } }))),
  fc.oneof(fc.constant('nope'), fc.constant(null), fc.constant([{ operator: 'eq' }]), fc.constant([{ operator: 'matches', value: 1 }]), fc.constant([{ operator: 'eq', a: 1, b: 2 }]), fc.constant(Array.from({ length: 51 }, () => ({ operator: 'eq', status_code: 200 })))).map((expect) =>
    withStep((step) => ({ ...step, expect })),
  ),
  fc.integer({ min: 1, max: 200 }).map((extra) => withStep((step) => ({ ...step, expect: [{ operator: 'eq', status_code: 'x'.repeat(INPUT_LIMITS.maxExpectationBytes + extra) }] }))),
);

/** Invalid as a PATCH, and so as a POST or PUT too. */
const badExperimentPatch = fc.oneof(
  withUnknownKey(experimentBody, EXPERIMENT_FIELDS),
  withField(experimentBody, 'name', fc.oneof(notString, tooLong(256), fc.constant(''))),
  withField(experimentBody, 'description', fc.oneof(notString, tooLong(4096))),
  withField(experimentBody, 'metadata', badMetadata),
  withField(experimentBody, 'parameters', badParameters),
  withField(experimentBody, 'steps', fc.oneof(nonObject.filter((v) => !Array.isArray(v) || v.length > 0), fc.constant(Array.from({ length: 101 }, validStep)))),
  withField(experimentBody, 'pre_steps', fc.oneof(nonObject.filter((v) => !Array.isArray(v) || v.length > 0), fc.constant(Array.from({ length: 101 }, validStep)))),
  badStep,
);
const badExperiment = fc.oneof(
  badExperimentPatch,
  fc.constantFrom('name', 'steps').map((field) => ({ ...experimentBody(), [field]: undefined })),
);

const TRIAL_FIELDS = ['experiment', 'parameters', 'ticket', 'metadata', 'initiated_from', 'id', 'status', 'trial_record', 'created_at', 'executed_at', 'completed_at', 'initiated_by', 'initiator', 'schedule_id'];
const trialBody = () => ({ experiment: experimentId });
const badTrial = fc.oneof(
  withUnknownKey(trialBody, TRIAL_FIELDS),
  withField(trialBody, 'initiated_from', fc.oneof(notString, fc.constant(''), tooLong(20))),
  withField(trialBody, 'experiment', fc.oneof(notString, fc.string({ maxLength: 40 }), fc.uuid())),
  fc.constant({ parameters: {} }),
  withField(trialBody, 'parameters', badParameters),
  withField(trialBody, 'ticket', badTicket),
  withField(trialBody, 'metadata', badMetadata),
);

const SCHEDULE_FIELDS = ['recurrence_pattern', 'recurrence_count', 'metadata', 'parameters', 'ticket', 'id', 'experiment_id', 'recurrence_left', 'created_by', 'created_at', 'updated_by', 'updated_at', 'deleted_by', 'deleted_at', 'creator', 'trials', 'generation'];
const scheduleBody = () => ({ recurrence_pattern: '*/5 * * * *', recurrence_count: 2 });
const badSchedule = fc.oneof(
  withUnknownKey(scheduleBody, SCHEDULE_FIELDS),
  withField(
    scheduleBody,
    'recurrence_pattern',
    fc.oneof(notString, fc.constant(''), tooLong(256), fc.string({ maxLength: 30 }).map((s) => `x${s}`), fc.constantFrom('* * * * * *', '61 * * * *', '0 0 31 2 *', '@reboot', '*/0 * * * *')),
  ),
  withField(scheduleBody, 'recurrence_count', fc.oneof(fc.integer({ max: 0 }), fc.double({ min: 1.01, max: 99.9, noNaN: true }).filter((n) => !Number.isInteger(n)), fc.constant(2 ** 31), fc.constant(1_000_001), fc.constant('3'), fc.constant(true))),
  withField(scheduleBody, 'metadata', badMetadata),
  withField(scheduleBody, 'parameters', badParameters),
  withField(scheduleBody, 'ticket', badTicket),
);

type BodyCase = { method: string; path: () => string; body: unknown };

const anyOf = <T>(common: fc.Arbitrary<unknown>, specific: fc.Arbitrary<T>) => fc.oneof({ arbitrary: common, weight: 1 }, { arbitrary: specific, weight: 4 });
const malformed = fc.oneof(notJsonText, nonObject, fc.constant(''));

const bodyCases: fc.Arbitrary<BodyCase> = fc.oneof(
  anyOf(malformed, badExperiment).map((body) => ({ method: 'POST', path: () => '/experiment', body })),
  anyOf(malformed, badExperiment).map((body) => ({ method: 'PUT', path: () => `/experiment/${experimentId}`, body })),
  anyOf(fc.oneof(malformed, fc.constant({})), badExperimentPatch).map((body) => ({ method: 'PATCH', path: () => `/experiment/${experimentId}`, body })),
  anyOf(malformed, badTrial).map((body) => ({ method: 'POST', path: () => '/trial', body })),
  anyOf(malformed, badSchedule).map((body) => ({ method: 'POST', path: () => `/experiment/${experimentId}/schedule`, body })),
  anyOf(fc.oneof(malformed, fc.constant({ recurrence_count: 3 })), badSchedule).map((body) => ({ method: 'PUT', path: () => `/experiment/${experimentId}/schedule/${scheduleId}`, body })),
  anyOf(fc.oneof(malformed, fc.constant({})), badSchedule).map((body) => ({ method: 'PATCH', path: () => `/experiment/${experimentId}/schedule/${scheduleId}`, body })),
);

// ---------------------------------------------------------------- query strings

const notInteger = fc.oneof(
  fc.integer({ max: 0 }).map(String),
  fc.integer({ min: 101 }).map(String),
  fc.constantFrom('1.5', 'ten', '', '-', '1e9', 'NaN', 'Infinity', '[]'),
  fc.string({ minLength: 1, maxLength: 10 }).map((s) => `a${s}`),
);
const notToken = fc.oneof(fc.string({ maxLength: 60 }), fc.base64String({ maxLength: 80 }), fc.constant(''), fc.constant('x'.repeat(2049)), fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url')));
const notUuid = fc.oneof(fc.string({ maxLength: 40 }).filter((s) => !/^[0-9a-f-]{36}$/i.test(s)), fc.constantFrom('', '00000000-0000-0000-0000-00000000000g', "' OR 1=1 --"));
const notDateTime = fc.oneof(fc.string({ maxLength: 30 }).filter((s) => !/^\d{4}-/.test(s)), fc.constantFrom('2024-13-01T00:00:00Z', '2024-01-01', 'yesterday', ''));

const queryCases = fc.oneof(
  fc.constantFrom('/experiment', '/trial', 'schedules', 'schedule').chain((which) =>
    fc.oneof(notInteger.map((v) => ({ limit: v })), notToken.map((v) => ({ next_token: v }))).map((query) => ({
      path: () => (which === 'schedules' ? `/experiment/${experimentId}/schedule` : which === 'schedule' ? `/experiment/${experimentId}/schedule/${scheduleId}` : which),
      query,
    })),
  ),
  notUuid.map((v) => ({ path: () => '/trial', query: { experiment: v } })),
  fc.oneof(
    notUuid.map((v) => ({ 'trial-id': v })),
    notUuid.map((v) => ({ experiment: v })),
    notDateTime.map((v) => ({ from: v })),
    notDateTime.map((v) => ({ to: v })),
    fc.string({ maxLength: 10 }).filter((v) => !['xml', 'junit', 'json'].includes(v)).map((v) => ({ format: v })),
  ).map((query) => ({ path: () => '/report', query })),
);

// ---------------------------------------------------------------- path ids

const badId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.uuid(),
  fc.constantFrom('..', '.', '%2e%2e', '%00', '%', '%zz', '\u0000', 'a/b', '../../etc/passwd', ' ', 'undefined', 'null', '__proto__', 'constructor', 'x'.repeat(5000)),
  fc.string({ maxLength: 20 }).map((s) => `${s}/${s}`),
);
/** An id that is there (an empty one would name the list), percent-encoded or raw. */
const encodeMaybe = fc
  .tuple(badId, fc.boolean())
  .map(([id, raw]) => (raw ? id.replace(/[?#]/g, '') : encodeURIComponent(id)))
  .filter((id) => id.replace(/\//g, '') !== '');

type PathCase = { method: string; path: string; body: unknown; fixed?: boolean };

const pathCases: fc.Arbitrary<PathCase> = fc.oneof(
  encodeMaybe.chain((id) =>
    fc.constantFrom<[string, unknown]>(['GET', undefined], ['PUT', experimentBody()], ['PATCH', { name: 'renamed' }], ['DELETE', undefined]).map(([method, body]) => ({ method, path: `/experiment/${id}`, body })),
  ),
  encodeMaybe.chain((id) => fc.constantFrom<[string, unknown]>(['GET', undefined], ['POST', { recurrence_pattern: '* * * * *' }]).map(([method, body]) => ({ method, path: `/experiment/${id}/schedule`, body }))),
  fc.tuple(encodeMaybe, fc.boolean()).chain(([id, inExperiment]) =>
    fc
      .constantFrom<[string, unknown]>(['GET', undefined], ['PUT', { recurrence_pattern: '* * * * *' }], ['PATCH', { recurrence_count: 4 }], ['DELETE', undefined])
      .map(([method, body]) => ({ method, path: inExperiment ? `/experiment/${experimentId}/schedule/${id}` : `/experiment/${id}/schedule/${scheduleId}`, body })),
  ),
  encodeMaybe.chain((id) => fc.constantFrom<[string, unknown]>(['GET', undefined], ['PUT', undefined], ['DELETE', undefined], ['PATCH', { status: 'Failed' }]).map(([method, body]) => ({ method, path: `/trial/${id}`, body }))),
  encodeMaybe.map((id) => ({ method: 'PUT', path: `/trial/${id}/stop`, body: undefined as unknown })),
  // Methods the API does not have on paths it does have: 405, never a change.
  fc.constantFrom<[string, string]>(['DELETE', '/trial/{trial}'], ['POST', '/experiment/{experiment}'], ['PUT', '/trial'], ['DELETE', '/experiment'], ['POST', '/health'], ['PATCH', '/trial/{trial}/stop']).map(([method, path]) => ({
    method,
    path,
    body: undefined as unknown,
    fixed: true,
  })),
);

/** Paths of what exists: a fuzzed id must not resolve to one of them. */
const seededPaths = (): string[] => [
  '',
  '/trial',
  '/experiment',
  `/experiment/${experimentId}`,
  `/experiment/${experimentId}/schedule`,
  `/experiment/${experimentId}/schedule/${scheduleId}`,
  `/trial/${trialId}`,
  `/trial/${trialId}/stop`,
  '/health',
  '/docs',
  '/openapi.json',
  '/report',
];

/** The 405 cases name seeded resources, filled in once they exist. */
function resolvePath(path: string): string {
  return path.replace('{trial}', trialId).replace('{experiment}', experimentId);
}

describe('fuzzing every endpoint with malformed requests', () => {
  it('rejects malformed bodies with 4xx and the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(bodyCases, async ({ method, path, body }) => {
        const res = await api.call(method, path(), body);
        expectRejected(res, describeCall(method, path(), body));
      }),
      { numRuns: RUNS.bodies },
    );
  }, PROPERTY_BUDGET_MS);

  it('rejects oversized bodies with 413', async () => {
    for (const [method, path] of [
      ['POST', '/experiment'],
      ['PATCH', `/experiment/${experimentId}`],
      ['POST', '/trial'],
      ['PUT', `/experiment/${experimentId}/schedule/${scheduleId}`],
    ] as const) {
      const res = await api.call(method, path, { ...experimentBody(), description: 'd'.repeat(300 * 1024) });
      expect(res.status).toBe(413);
      expectRejected(res, `${method} ${path} (300 KiB)`);
    }
  });

  it('rejects malformed query strings with 4xx and the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(queryCases, fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }), async ({ path, query }, noise) => {
        const params = new URLSearchParams({ ...noise, ...query });
        const url = `${path()}?${params.toString()}`;
        expectRejected(await api.call('GET', url), `GET ${url}`);
      }),
      { numRuns: RUNS.queries },
    );
  }, PROPERTY_BUDGET_MS);

  it('rejects unknown and malformed path ids with 4xx and the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(pathCases, async ({ method, path, body, fixed }) => {
        const target = fixed ? resolvePath(path) : path;
        // URL parsing resolves dot segments and drops trailing controls, as clients and gateways do: `/trial/.` is
        // the list and `/experiment/<id>/schedule/..` the experiment. Such ids name real resources, so they are not malformed.
        const effective = new URL(target, 'http://api.test').pathname.replace(/\/$/, '');
        if (!fixed) fc.pre(!seededPaths().includes(effective));
        expectRejected(await api.call(method, target, body), describeCall(method, target, body));
      }),
      { numRuns: RUNS.paths },
    );
  }, PROPERTY_BUDGET_MS);

  it('left nothing behind: the table, the queue and the scheduler are as before', async () => {
    expect(await tableContents()).toBe(snapshot);
    expect(api.queue.sent).toEqual([trialId]);
    expect([...api.cloud.armed.keys()]).toEqual([scheduleId]);
    expect(api.cloud.calls).toEqual([`arm ${scheduleId}`]);
    expect(unhandled).toEqual([]);
  });
});
