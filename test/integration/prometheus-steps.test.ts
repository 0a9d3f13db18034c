import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setHttpPolicy } from '../../functions/modules/cm/http.js';
import { parseEgressAllowList } from '../../functions/net/egress.js';
import { parseTime } from '../../functions/modules/prom/time.js';
import { queryInterval } from '../../functions/modules/prom/query-interval.js';
import { query } from '../../functions/modules/prom/query.js';
import { ModuleRegistry } from '../../functions/modules/registry.js';
import { StepFailedError } from '../../functions/modules/types.js';
import { runModule } from '../support/aws.js';

/** A local server speaking the Prometheus HTTP API (the documented JSON envelope). */
interface Seen {
  path: string;
  params: Record<string, string>;
  headers: IncomingMessage['headers'];
}
let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: { status: number; body: string } = { status: 200, body: '' };

const VECTOR = { status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'shop' }, value: [1767322800, '1'] }] } };
const MATRIX = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { job: 'shop' }, values: [[1767322800, '0.5'], [1767322850, '0.7']] }] } };

beforeAll(async () => {
  setHttpPolicy({ allowLinkLocal: false, blockLoopback: false });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    seen.push({ path: url.pathname, params: Object.fromEntries(url.searchParams), headers: req.headers });
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  answer = { status: 200, body: JSON.stringify(VECTOR) };
});

const near = (iso: string | undefined, expectedMs: number) => expect(Math.abs(Date.parse(iso ?? '') - expectedMs)).toBeLessThan(10_000);

describe('prom.query', () => {
  it('runs an instant query at "5 minutes ago" (Kallisti docs example) and returns Prometheus’ answer as is', async () => {
    const { output } = await runModule(query, { base_url: `${base}/`, query: 'firehose_container_metric_cpu_percentage', when: '5 minutes ago' });
    expect(output).toEqual(VECTOR);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe('/api/v1/query');
    expect(Object.keys(seen[0]?.params ?? {}).sort()).toEqual(['query', 'time']);
    expect(seen[0]?.params['query']).toBe('firehose_container_metric_cpu_percentage');
    near(seen[0]?.params['time'], Date.now() - 5 * 60_000);
    expect(seen[0]?.headers['accept']).toBe('application/json');
  });

  it('sends no time without `when`, passes `timeout`, keeps a path prefix of base_url, and sends the bearer token', async () => {
    await runModule(query, { base_url: `${base}/prometheus`, query: 'sum(rate(http_requests_total[5m]))', timeout: '10s', authentication: { type: 'bearer', token: 'tok-123' } });
    expect(seen[0]?.path).toBe('/prometheus/api/v1/query');
    expect(seen[0]?.params).toEqual({ query: 'sum(rate(http_requests_total[5m]))', timeout: '10s' });
    expect(seen[0]?.headers['authorization']).toBe('Bearer tok-123');
  });

  it('fails the step with Prometheus’ errorType and error on a 400, keeping the answer as output', async () => {
    answer = { status: 400, body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error' }) };
    const failure = runModule(query, { base_url: base, query: 'up{' });
    await expect(failure).rejects.toThrow('Prometheus query failed with status 400: bad_data: invalid parameter "query": 1:5: parse error');
    await expect(failure).rejects.toMatchObject({ output: { status: 'error', errorType: 'bad_data' } });
  });

  it('fails on a 200 that is not Prometheus JSON (a login page in front of it, say)', async () => {
    answer = { status: 200, body: '<html>sign in</html>' };
    await expect(runModule(query, { base_url: base, query: 'up' })).rejects.toBeInstanceOf(StepFailedError);
  });

  it('obeys the HTTP steps’ address rules: the metadata service is refused before connecting', async () => {
    await expect(runModule(query, { base_url: 'http://169.254.169.254', query: 'up' })).rejects.toThrow('Refusing to connect to 169.254.169.254');
    setHttpPolicy({ allowLinkLocal: false, blockLoopback: true });
    try {
      await expect(runModule(query, { base_url: base, query: 'up' })).rejects.toThrow('loopback addresses are not allowed on AWS Lambda');
    } finally {
      setHttpPolicy({ allowLinkLocal: false, blockLoopback: false });
    }
    expect(seen).toHaveLength(0);
  });

  it('obeys the egress allow-list of HTTP steps', async () => {
    setHttpPolicy({ allowLinkLocal: false, blockLoopback: false, allow: parseEgressAllowList('prometheus.internal.example') });
    try {
      await expect(runModule(query, { base_url: base, query: 'up' })).rejects.toThrow(/Refusing to connect to 127\.0\.0\.1/);
    } finally {
      setHttpPolicy({ allowLinkLocal: false, blockLoopback: false });
    }
    expect(seen).toHaveLength(0);
    setHttpPolicy({ allowLinkLocal: false, blockLoopback: false, allow: parseEgressAllowList('127.0.0.1') });
    try {
      await runModule(query, { base_url: base, query: 'up' });
    } finally {
      setHttpPolicy({ allowLinkLocal: false, blockLoopback: false });
    }
    expect(seen).toHaveLength(1);
  });
});

describe('prom.query_interval', () => {
  it('runs a range query from "5 minutes ago" to "now" every 50 s (Kallisti docs example)', async () => {
    answer = { status: 200, body: JSON.stringify(MATRIX) };
    const { output } = await runModule(queryInterval, { base_url: base, query: 'firehose_container_metric_cpu_percentage', start: '5 minutes ago', end: 'now', step: 50 });
    expect(output).toEqual(MATRIX);
    expect(seen[0]?.path).toBe('/api/v1/query_range');
    expect(Object.keys(seen[0]?.params ?? {}).sort()).toEqual(['end', 'query', 'start', 'step']);
    expect(seen[0]?.params['step']).toBe('50');
    near(seen[0]?.params['start'], Date.now() - 5 * 60_000);
    near(seen[0]?.params['end'], Date.now());
  });

  it('takes RFC 3339 dates and a duration step, as given', async () => {
    await runModule(queryInterval, { base_url: base, query: 'up', start: '2026-01-02T03:00:00Z', end: '2026-01-02T04:00:00+01:00', step: '15s' });
    expect(seen[0]?.params).toMatchObject({ start: '2026-01-02T03:00:00.000Z', end: '2026-01-02T03:00:00.000Z', step: '15s' });
  });

  it('rejects, when the experiment is saved, times it cannot read and a missing end', async () => {
    const registry = new ModuleRegistry([query, queryInterval]);
    expect(await registry.validateWhere('prom.query_interval', { base_url: base, query: 'up', start: 'the other day', end: 'now' }, 'steps[1].where', true)).toEqual([
      { path: 'steps[1].where.start', message: expect.stringContaining('is not a time Kallisti understands') },
    ]);
    expect(await registry.validateWhere('prom.query_interval', { base_url: base, query: 'up', start: '{{ since }}', end: 'now' }, 'steps[1].where', true)).toEqual([]);
    expect(await registry.validateWhere('prom.query_interval', { base_url: base, query: 'up', start: 'now' }, 'w', true)).toEqual([{ path: 'w.end', message: 'is required' }]);
    expect(await registry.validateWhere('prom.query', { query: 'up' }, 'w', true)).toEqual([{ path: 'w.base_url', message: 'is required' }]);
  });
});

describe('parseTime', () => {
  const now = new Date('2026-01-02T03:04:05.000Z');
  it.each([
    ['now', '2026-01-02T03:04:05.000Z'],
    ['5 minutes ago', '2026-01-02T02:59:05.000Z'],
    ['1 hour 30 minutes ago', '2026-01-02T01:34:05.000Z'],
    ['2 days ago', '2025-12-31T03:04:05.000Z'],
    ['30s ago', '2026-01-02T03:03:35.000Z'],
    ['in 10 seconds', '2026-01-02T03:04:15.000Z'],
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T10:00:00', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T10:00:00-05:00', '2026-01-01T15:00:00.000Z'],
    ['1767322800', '2026-01-02T03:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseTime(text, now)?.toISOString()).toBe(iso);
  });
  it.each(['yesterday-ish', '5 fortnights ago', 'in 5 minutes ago', '5 minutes', ''])('refuses %s', (text) => {
    expect(parseTime(text, now)).toBeUndefined();
  });
});
