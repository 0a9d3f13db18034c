/**
 * Hostile requests through the real local server (Node HTTP, the embedded
 * DynamoDB, the sequential worker), as a client on the wire sends them: keys
 * JavaScript gives a meaning, very long and non-Unicode keys, bodies sent
 * chunked at any byte (inside a UTF-8 character too), bodies over the limit sent
 * chunked, bytes that are not UTF-8, content codings the server does not decode
 * and HTTP framing it cannot parse. Every refusal is a 4xx in the error shape
 * and leaves the table, the queue and the logs as they were.
 */
import fc from 'fast-check';
import { DEFAULT_MAX_BODY_BYTES } from '../../functions/api/app.js';
import { INPUT_LIMITS } from '../../functions/domain/input-limits.js';
import type { AppLogger } from '../../functions/logging.js';
import { sendChunks, sendRaw, splitAt, type WireAnswer } from '../support/http-wire.js';
import { startLocal, type Body, type LocalHarness } from '../support/local-server.js';

/** A few seconds idle; the budget is for two loaded cores (never a retry). */
const RUNS = { keys: 200, chunked: 100, oversize: 10, encodings: 120, framing: 60, roundTrip: 60 };
const PROPERTY_BUDGET_MS = 120_000;

const errors: string[] = [];
const logger: AppLogger = { info: () => undefined, warn: () => undefined, error: (message, extra) => errors.push(`${message} ${JSON.stringify(extra)}`) };

let local: LocalHarness;
let experimentId: string;
let scheduleId: string;
let snapshot: string;

beforeAll(async () => {
  local = await startLocal({ logger });
  const experiment = await local.call('POST', '/experiment', { name: 'seed', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
  experimentId = String((experiment.body as Body)['id']);
  // Once a year (1 January): no firing during the test.
  const schedule = await local.call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '0 0 1 1 *' });
  scheduleId = String((schedule.body as Body)['id']);
  snapshot = await local.tableContents();
});
afterAll(() => local.close());

/** 4xx, JSON, `{ message, errors? }` and nothing else. */
function expectRefused(answer: WireAnswer | undefined, what: string, status?: number): Body {
  if (!answer) throw new Error(`${what}: no answer`);
  if (answer.status < 400 || answer.status >= 500 || (status !== undefined && answer.status !== status)) {
    throw new Error(`${what} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  }
  expect(answer.headers['content-type']).toBe('application/json');
  const body = JSON.parse(answer.body) as Body;
  expect(typeof body['message']).toBe('string');
  expect(Object.keys(body).every((key) => key === 'message' || key === 'errors')).toBe(true);
  for (const error of (body['errors'] as Body[] | undefined) ?? []) expect(error).toEqual({ path: expect.any(String), message: expect.any(String) });
  return body;
}

const describeBody = (method: string, path: string, text: string) => `${method} ${path} ${text.slice(0, 200)}`;

// ---------------------------------------------------------------- hostile keys

/** Where a key goes, with the error path that must name it ('' when the error is the body's). */
interface Placement {
  method: string;
  path: () => string;
  /** The body with `@KEY@` where the key goes. */
  template: Body;
  prefix: string;
}

const KEY = '@KEY@';
const experimentWith = (change: (body: Body, step: Body) => void): Body => {
  const step: Body = { step: 's', do: 'cm.http_request', where: { url: 'http://192.0.2.1/', headers: { Accept: 'application/json' } }, expect: [{ operator: 'eq', status_code: 200 }] };
  const body: Body = { name: 'hostile', metadata: {}, parameters: {}, steps: [step] };
  change(body, step);
  return body;
};
const experimentPlaces: [Body, string][] = [
  [experimentWith((b) => (b['metadata'] = { [KEY]: 'm' })), 'metadata'],
  [experimentWith((b) => (b['parameters'] = { [KEY]: 'v' })), 'parameters'],
  [experimentWith((b) => (b['parameters'] = { o: { list: [{ [KEY]: 1 }] } })), 'parameters'],
  [experimentWith((b) => (b[KEY] = 'top')), ''],
  [experimentWith((_b, s) => (s[KEY] = 1)), 'steps'],
];
/** Keys refused wherever they appear: JavaScript's own, and those that are not Unicode text. */
const deepExperimentPlaces: [Body, string][] = [
  [experimentWith((_b, s) => ((s['where'] as Body)['headers'] = { [KEY]: 'h' })), 'steps[0].where.headers'],
  [experimentWith((_b, s) => (s['expect'] = [{ operator: 'eq', [KEY]: 1 }])), 'steps[0].expect[0]'],
];
const mapPlaces = (make: () => Body, fields: string[]): [Body, string][] => [...fields.map((field): [Body, string] => [{ ...make(), [field]: { [KEY]: 'x' } }, field]), [{ ...make(), [KEY]: 1 }, '']];
const trialPlaces = mapPlaces(() => ({ experiment: experimentId }), ['parameters', 'ticket', 'metadata']);
const schedulePlaces = mapPlaces(() => ({ recurrence_pattern: '0 0 1 1 *' }), ['parameters', 'ticket', 'metadata']);

const placements = (deep: boolean): Placement[] => [
  ...[...experimentPlaces, ...(deep ? deepExperimentPlaces : [])].flatMap(([template, prefix]) => [
    { method: 'POST', path: () => '/experiment', template, prefix },
    { method: 'PUT', path: () => `/experiment/${experimentId}`, template, prefix },
    { method: 'PATCH', path: () => `/experiment/${experimentId}`, template, prefix },
  ]),
  // Built when the seeded ids exist.
  ...[0, 1, 2, 3].map((i) => ({ method: 'POST', path: () => '/trial', template: {}, prefix: `trial:${i}` })),
  ...[0, 1, 2, 3].flatMap((i) =>
    (['POST', 'PUT', 'PATCH'] as const).map((method) => ({
      method,
      path: () => (method === 'POST' ? `/experiment/${experimentId}/schedule` : `/experiment/${experimentId}/schedule/${scheduleId}`),
      template: {},
      prefix: `schedule:${i}`,
    })),
  ),
];

/** The template and error prefix of a placement, resolving those that need the seeded ids. */
function resolve(placement: Placement): { template: Body; prefix: string } {
  const [kind, index] = placement.prefix.split(':');
  if (kind === 'trial' || kind === 'schedule') {
    const [template, prefix] = (kind === 'trial' ? trialPlaces : schedulePlaces)[Number(index)] as [Body, string];
    return { template: kind === 'trial' ? { ...template, experiment: experimentId } : template, prefix };
  }
  return { template: placement.template, prefix: placement.prefix };
}

/** The body text with the key in place, written as a client would (`__proto__` as a plain JSON key). */
const bodyText = (template: Body, key: string): string => JSON.stringify(template).replace(JSON.stringify(KEY), JSON.stringify(key));

const unicodeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 });
const loneSurrogate = fc.tuple(fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 4 }), fc.boolean()).map(([code, rest, before]) => (before ? String.fromCharCode(code) + rest : rest + String.fromCharCode(code)));
const longKey = fc.tuple(fc.integer({ min: INPUT_LIMITS.maxKeyLength + 1, max: 4000 }), fc.constantFrom('k', 'é', '😀')).map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)));
/** Refused in every position. */
const alwaysRefused = fc.oneof(fc.constantFrom('__proto__', 'constructor'), loneSurrogate);
/** Refused where keys are names (top level, a step) or bounded in length (metadata, parameters, ticket). */
const refusedAtTop = fc.oneof(alwaysRefused, longKey, fc.constantFrom('prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '$ref', 'nAme', 'name ', '\u0000', '\u202ename'), unicodeText);

const hostileCases = fc.oneof(
  fc.tuple(fc.constantFrom(...placements(true)), alwaysRefused),
  // Key length is bounded for the maps' own keys (deeper ones count towards the map's size).
  fc.tuple(fc.constantFrom(...placements(false).filter((p) => !('o' in ((resolve(p).template['parameters'] as Body | undefined) ?? {})))), fc.oneof(alwaysRefused, longKey)),
  fc.tuple(fc.constantFrom(...placements(false).filter((p) => resolve(p).prefix === '' || p.prefix === 'steps')), refusedAtTop),
);

describe('hostile requests through the local server', () => {
  it('refuses hostile keys in every body with 400 naming where they are', async () => {
    await fc.assert(
      fc.asyncProperty(hostileCases, async ([placement, key]) => {
        const { template, prefix } = resolve(placement);
        const text = bodyText(template, key);
        const what = describeBody(placement.method, placement.path(), text);
        const body = expectRefused(await sendChunks(local.server.url, { method: placement.method, path: placement.path(), chunks: [Buffer.from(text)], chunked: false }), what, 400);
        const paths = ((body['errors'] as Body[] | undefined) ?? []).map((e) => String(e['path']));
        if (!paths.some((path) => path.startsWith(prefix) || (prefix === '' && path === 'body'))) throw new Error(`${what}: errors ${JSON.stringify(paths)} do not name ${prefix || 'the body'}`);
      }),
      { numRuns: RUNS.keys },
    );
  }, PROPERTY_BUDGET_MS);

  it('answers the same to those bodies sent chunked, cut at any byte (inside a UTF-8 character too)', async () => {
    await fc.assert(
      fc.asyncProperty(hostileCases, fc.array(fc.nat(), { maxLength: 12 }), async ([placement, key], cuts) => {
        const text = Buffer.from(bodyText(resolve(placement).template, key));
        const chunks = splitAt(text, cuts.map((c) => c % text.length));
        expectRefused(await sendChunks(local.server.url, { method: placement.method, path: placement.path(), chunks, chunked: true }), describeBody(placement.method, placement.path(), text.toString()), 400);
      }),
      { numRuns: RUNS.chunked },
    );
  }, PROPERTY_BUDGET_MS);

  it('answers 413 to bodies over the limit, chunked or declared, without reading them whole', async () => {
    const endpoints = () => [
      ['POST', '/experiment'],
      ['PATCH', `/experiment/${experimentId}`],
      ['POST', '/trial'],
      ['PUT', `/experiment/${experimentId}/schedule/${scheduleId}`],
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(3), fc.integer({ min: 1, max: 2 * DEFAULT_MAX_BODY_BYTES }), fc.integer({ min: 512, max: 96 * 1024 }), fc.boolean(), fc.boolean(), async (which, over, chunkSize, chunked, json) => {
        const [method = 'POST', path = '/experiment'] = endpoints()[which] ?? [];
        const size = DEFAULT_MAX_BODY_BYTES + over;
        const body = json ? Buffer.from(`{"name":"${'n'.repeat(size - 11)}"}`) : Buffer.alloc(size, 0xff);
        const cuts = Array.from({ length: Math.ceil(size / chunkSize) }, (_, i) => i * chunkSize);
        const answer = await sendChunks(local.server.url, { method, path, chunks: splitAt(body, cuts), chunked });
        const refused = expectRefused(answer, `${method} ${path} ${size} bytes (chunked: ${chunked})`, 413);
        expect(refused).toEqual({ message: `Request body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes, the limit.` });
      }),
      { numRuns: RUNS.oversize },
    );
  }, PROPERTY_BUDGET_MS);

  const valid = () => JSON.stringify({ name: 'encoded', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
  /** Byte sequences no UTF-8 decoder accepts: stray continuation, overlong, surrogate (CESU-8), cut short, past U+10FFFF, never used. */
  const notUtf8 = fc.constantFrom([0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff]);

  it('refuses bodies that are not UTF-8 JSON, and content codings it does not decode', async () => {
    const encodings = fc.oneof(
      // Bytes that are not UTF-8 inside the name: 400, never stored with U+FFFD in their place.
      fc.tuple(notUtf8, fc.nat(), fc.boolean()).map(([bad, at, chunked]) => {
        const text = Buffer.from(valid());
        const inName = 9 + (at % 7); // inside "encoded"
        return { body: Buffer.concat([text.subarray(0, inName), Buffer.from(bad), text.subarray(inName)]), headers: {}, chunked, status: 400 };
      }),
      fc.tuple(fc.constantFrom<BufferEncoding>('utf16le', 'latin1'), fc.boolean()).map(([encoding, bom]) => ({
        body: Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(valid().replace('encoded', 'encodé'), encoding)]),
        headers: {},
        chunked: false,
        status: 400,
      })),
      fc.constant({ body: Buffer.from(`\ufeff${valid()}`), headers: {}, chunked: false, status: 400 }),
      fc.tuple(fc.constantFrom('gzip', 'deflate', 'br', 'compress', 'x-gzip', 'gzip, identity', 'zstd'), fc.boolean()).map(([coding, chunked]) => ({ body: Buffer.from(valid()), headers: { 'Content-Encoding': coding }, chunked, status: 415 })),
      fc.constantFrom('gzip, chunked', 'deflate, chunked').map((coding) => ({ body: Buffer.from(valid()), headers: { 'Transfer-Encoding': coding }, chunked: true, status: 415 })),
    );
    await fc.assert(
      fc.asyncProperty(encodings, fc.constantFrom('/experiment', `/api/v1/experiment`), async ({ body, headers, chunked, status }, path) => {
        const answer = await sendChunks(local.server.url, { method: 'POST', path, chunks: [body], chunked, headers });
        expectRefused(answer, `POST ${path} ${JSON.stringify(headers)} ${body.toString('hex').slice(0, 120)}`, status);
      }),
      { numRuns: RUNS.encodings },
    );
  }, PROPERTY_BUDGET_MS);

  it('answers HTTP it cannot parse in the error shape, and keeps serving', async () => {
    const head = (lines: string[]) => `POST /experiment HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
    const framings = fc.oneof(
      fc.constantFrom('zz', '-1', '0x10', 'ffffffffffffffffffff', '4;' + 'e'.repeat(20_000), ' 4').map((size) => ({ bytes: `${head(['Transfer-Encoding: chunked'])}${size}\r\n{"a"\r\n0\r\n\r\n`, status: [400, 413] })),
      fc.constant({ bytes: `${head(['Transfer-Encoding: chunked', 'Content-Length: 5'])}5\r\n{"a":\r\n0\r\n\r\n`, status: [400] }),
      fc.constantFrom('abc', '-5', '1e3', '5, 6', '99999999999999999999').map((length) => ({ bytes: `${head([`Content-Length: ${length}`])}{"a":1}`, status: [400, 413] })),
      fc.constant({ bytes: `${head([`X-Big: ${'h'.repeat(20_000)}`, 'Content-Length: 2'])}{}`, status: [431] }),
      fc.constantFrom(`POST /experiment HTTP/9.9\r\n\r\n`, `POST  /experiment HTTP/1.1\r\nHost: x\r\n\r\n`, `PO ST /experiment HTTP/1.1\r\n\r\n`, `POST /experiment HTTP/1.1\r\nBad Header\r\n\r\n`, `POST /experiment HTTP/1.1\r\nHost: a\u0000b\r\n\r\n`).map((bytes) => ({ bytes, status: [400, 505] })),
    );
    await fc.assert(
      fc.asyncProperty(framings, async ({ bytes, status }) => {
        const answer = await sendRaw(local.server.url, Buffer.from(bytes, 'latin1'));
        const body = expectRefused(answer, JSON.stringify(bytes.slice(0, 120)));
        if (!(status as number[]).includes(answer?.status ?? 0)) throw new Error(`${JSON.stringify(bytes.slice(0, 120))} answered ${answer?.status}: ${JSON.stringify(body)}`);
      }),
      { numRuns: RUNS.framing },
    );
    // A client that hangs up half-way through its body gets no answer, and the server carries on.
    expect(await sendRaw(local.server.url, Buffer.from(`${head(['Content-Length: 100'])}{"name":`), 300)).toBeUndefined();
    expect((await local.call('GET', '/health')).status).toBe(200);
  }, PROPERTY_BUDGET_MS);

  it('left nothing behind: the table, the queue and the error log are as before', async () => {
    expect(await local.tableContents()).toBe(snapshot);
    expect(local.server.worker.size).toBe(0);
    expect(errors).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('stores odd but legal keys as data and gives them back unchanged, however the body was chunked', async () => {
    const oddKey = fc.oneof(
      fc.constantFrom('prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '\u0000', '\u202eevil', 'e\u0301', '😀', '👩‍👩‍👧', '$ref', ' '),
      unicodeText,
      fc.constantFrom('k', 'é', '😀').map((unit) => unit.repeat(Math.floor(INPUT_LIMITS.maxKeyLength / unit.length))),
    );
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(oddKey, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 16 }), async (keys, cuts) => {
        const metadata = Object.fromEntries(keys.map((key, i) => [key, { [key]: i }]));
        // Metadata, not parameters: a parameter named like a secret (`key`, `token`) is shown masked.
        const text = Buffer.from(JSON.stringify({ name: 'odd keys', metadata, steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] }));
        const created = await sendChunks(local.server.url, { method: 'POST', path: '/experiment', chunks: splitAt(text, cuts.map((c) => c % text.length)), chunked: true });
        if (created.status !== 201) throw new Error(`${text.toString().slice(0, 200)} answered ${created.status}: ${created.body}`);
        const read = (await local.call('GET', `/experiment/${String((JSON.parse(created.body) as Body)['id'])}`)).body as Body;
        expect(read['metadata']).toEqual(metadata);
      }),
      { numRuns: RUNS.roundTrip },
    );
    expect(errors).toEqual([]);
  }, PROPERTY_BUDGET_MS);
});
