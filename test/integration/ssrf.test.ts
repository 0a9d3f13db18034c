import { stepContext } from '../support/step-context.js';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Trial } from '../../functions/domain/trial.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { isForbiddenAddress } from '../../functions/net/address-policy.js';
import { parseEgressAllowList } from '../../functions/net/egress.js';
import { httpRequest } from '../../functions/modules/cm/http-request.js';
import { setHttpPolicy, type HostResolver } from '../../functions/modules/cm/http.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { JsonObject } from '../../functions/domain/types.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Test DNS: names mapped to chosen addresses, as a hostile or misconfigured zone could answer. */
const ZONE: Record<string, LookupAddress[]> = {
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'mapped.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
  'imds-v6.test': [{ address: 'fd00:ec2::254', family: 6 }],
  'link-local-v6.test': [{ address: 'fe80::1', family: 6 }],
  'ecs-credentials.test': [{ address: '169.254.170.2', family: 4 }],
  'mixed.test': [
    { address: '127.0.0.1', family: 4 },
    { address: '169.254.169.254', family: 4 },
  ],
  'loopback.test': [{ address: '127.0.0.1', family: 4 }],
  // Only used where loopback is refused, so no pooled keep-alive socket to it exists.
  'runtime-api.test': [{ address: '127.0.0.1', family: 4 }],
  'zero.test': [{ address: '0.0.0.0', family: 4 }],
  'zero-v6.test': [{ address: '::', family: 6 }],
  'zero-mapped.test': [{ address: '::ffff:0.0.0.0', family: 6 }],
  'allowed.test': [{ address: '127.0.0.1', family: 4 }],
  'api.allowed.test': [{ address: '127.0.0.1', family: 4 }],
  // Only used where loopback is refused, so no pooled keep-alive socket to it exists.
  'fresh.allowed.test': [{ address: '127.0.0.1', family: 4 }],
  'elsewhere.test': [{ address: '127.0.0.1', family: 4 }],
  'allowed-to-metadata.test': [{ address: '169.254.169.254', family: 4 }],
};
const lookups: string[] = [];
const testResolver: HostResolver = async (hostname) => {
  lookups.push(hostname);
  const found = ZONE[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found;
};

let server: http.Server;
let port: number;
let base: string;
const received: { path: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    received.push({ path: url.pathname, headers: req.headers });
    const to = url.searchParams.get('to');
    if (url.pathname === '/redirect' && to) {
      res.writeHead(302, { location: to });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: url.pathname, authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  setHttpPolicy({ allowLinkLocal: false });
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  setHttpPolicy({ allowLinkLocal: false, resolve: testResolver });
  lookups.length = 0;
  received.length = 0;
});

const context = () => stepContext();

async function refusedQuickly(where: JsonObject, fragment = 'Refusing to connect'): Promise<string> {
  const started = Date.now();
  const error = await httpRequest.run(where, context()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message).toContain(fragment);
  expect(Date.now() - started).toBeLessThan(1000);
  return message;
}

describe('address policy', () => {
  it.each([
    '169.254.169.254',
    '169.254.0.1',
    '169.254.170.2',
    'fd00:ec2::254',
    'fd00:0ec2:0:0:0:0:0:0254',
    'FD00:EC2::254',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '[::ffff:a9fe:a9fe]',
    '::a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    '2002:a9fe:a9fe::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
  ])('forbids %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['127.0.0.1', '::1', '10.0.0.1', '169.253.255.255', '169.255.0.1', '::ffff:127.0.0.1', 'fd00:ec2::253', 'fec0::1', 'example.com'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });
});

describe('http steps and the metadata service', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://169.254.170.2/v2/credentials/abc',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fe80::1]/',
    'http://2852039166/',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://169.254.169.254./',
    'https://169.254.169.254/',
  ])('refuses the literal address in %s before connecting', async (url) => {
    await refusedQuickly({ url });
    expect(lookups).toEqual([]);
  });

  it.each(['metadata.test', 'mapped.test', 'imds-v6.test', 'link-local-v6.test', 'ecs-credentials.test', 'mixed.test'])('refuses %s, which resolves to a forbidden address', async (host) => {
    const message = await refusedQuickly({ url: `http://${host}:${port}/latest/meta-data/` });
    expect(message).toContain(host);
    expect(lookups).toContain(host);
    expect(received).toEqual([]);
  });

  it('connects through the same resolver when the address is allowed', async () => {
    const output = (await httpRequest.run({ url: `http://loopback.test:${port}/ok` }, context())) as JsonObject;
    expect(output['status_code']).toBe(200);
    expect(lookups).toEqual(['loopback.test']);
  });

  it.each([
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/', 'Refusing to connect to 169.254.169.254'],
    ['an IPv4-mapped metadata address', 'http://[::ffff:169.254.169.254]/', 'Refusing to connect'],
    ['the IPv6 metadata address', 'http://[fd00:ec2::254]/', 'Refusing to connect'],
    ['a name resolving to it', 'http://metadata.test/latest/meta-data/', 'Refusing to connect to metadata.test (169.254.169.254)'],
    ['a file URL', 'file:///etc/passwd', 'Only http and https URLs are allowed'],
  ])('refuses a redirect from a loopback server to %s', async (_name, target, fragment) => {
    await refusedQuickly({ url: `${base}/redirect?to=${encodeURIComponent(target)}` }, fragment);
    expect(received.map((r) => r.path)).toEqual(['/redirect']);
  });

  it('records the refusal in the trial, which fails', async () => {
    const trials = new MemoryTrialStore();
    const experiments = new MemoryExperimentStore();
    const experiment = makeExperiment({ steps: [{ step: 'steal', do: 'cm.http_probe', where: { url: `${base}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/api/token')}` } }] });
    await experiments.create(experiment);
    const trial = makeTrial(experiment.id);
    await trials.create(trial);
    await makeRunTrial({ trials, experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: new FakeClock(), logger: silent })(trial.id);
    const done = trials.items.get(trial.id) as Trial;
    expect(done.status).toBe('Failed');
    expect(done.trial_record.steps[0]?.logs.join('\n')).toContain('Refusing to connect to 169.254.169.254');
  });

  it('allows link-local addresses only when configured to', async () => {
    setHttpPolicy({ allowLinkLocal: true, resolve: testResolver });
    const error = await httpRequest.run({ url: 'http://metadata.test/', timeout: 0.3 }, context()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // Nothing answers there in a test; what matters is that the policy did not refuse.
    expect(error?.message ?? '').not.toContain('Refusing');
    expect(lookups).toEqual(['metadata.test']);
  });

  it('refuses loopback when blockLoopback is on (the default on AWS Lambda, where the runtime API listens), literal or resolved', async () => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, blockLoopback: true });
    await refusedQuickly({ url: `${base}/ok` }, 'loopback addresses are not allowed on AWS Lambda (0.0.0.0 and :: reach loopback too)');
    await refusedQuickly({ url: 'http://[::1]:9001/2018-06-01/runtime/invocation/next' }, 'loopback addresses are not allowed');
    await refusedQuickly({ url: `http://runtime-api.test:${port}/ok` }, 'Refusing to connect to runtime-api.test (127.0.0.1)');
    expect(received).toEqual([]);
  });

  it.each([
    'http://0.0.0.0:9001/2018-06-01/runtime/invocation/next',
    'http://0:9001/2018-06-01/runtime/invocation/next',
    'http://0x0:9001/',
    'http://0.0.0.1:9001/',
    'http://[::]:9001/',
    'http://[::ffff:0.0.0.0]:9001/',
    'http://[::ffff:0:0]:9001/',
    'http://[0:0:0:0:0:ffff:7f00:1]:9001/',
    'http://[::127.0.0.1]:9001/',
    'http://[::ffff:0:127.0.0.1]:9001/',
  ])('on AWS Lambda refuses %s, which reaches loopback on Linux', async (url) => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, blockLoopback: true });
    await refusedQuickly({ url }, 'are not allowed on AWS Lambda');
    expect(lookups).toEqual([]);
  });

  it.each(['zero.test', 'zero-v6.test', 'zero-mapped.test'])('on AWS Lambda refuses %s, which resolves to the unspecified address', async (host) => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, blockLoopback: true });
    await refusedQuickly({ url: `http://${host}:9001/` }, `Refusing to connect to ${host}`);
    expect(lookups).toEqual([host]);
  });

  it('keeps credentials on a same-origin redirect and drops them on a cross-origin one', async () => {
    const where = { headers: { Authorization: 'Bearer same-origin-secret', Cookie: 'sid=abc' } };
    const same = (await httpRequest.run({ ...where, url: `${base}/redirect?to=/echo` }, context())) as JsonObject;
    expect(same['response']).toMatchObject({ path: '/echo', authorization: 'Bearer same-origin-secret', cookie: 'sid=abc' });

    const other = `http://loopback.test:${port}/echo`;
    const cross = (await httpRequest.run({ ...where, url: `${base}/redirect?to=${encodeURIComponent(other)}` }, context())) as JsonObject;
    expect(cross['response']).toMatchObject({ path: '/echo', authorization: null, cookie: null });

    const basic = (await httpRequest.run({ authentication: { type: 'basic', username: 'u', password: 'p' }, url: `${base}/redirect?to=${encodeURIComponent(other)}` }, context())) as JsonObject;
    expect(basic['response']).toMatchObject({ authorization: null });
  });

  it('drops every header the redaction rule calls secret on a cross-origin redirect, and keeps the others', async () => {
    const headers = { 'X-Api-Key': 'k-123', 'X-Auth-Token': 't-456', 'X-Client-Secret': 's-789', Authorization: 'Bearer b', 'Proxy-Authorization': 'Basic p', Cookie: 'c=1', 'X-Trace': 'visible' };
    const other = `http://loopback.test:${port}/echo`;
    const cross = (await httpRequest.run({ headers, url: `${base}/redirect?to=${encodeURIComponent(other)}` }, context())) as JsonObject;
    const seen = (cross['response'] as { headers: Record<string, string> }).headers;
    expect(seen['x-trace']).toBe('visible');
    for (const name of ['x-api-key', 'x-auth-token', 'x-client-secret', 'authorization', 'proxy-authorization', 'cookie']) expect(seen[name]).toBeUndefined();

    const same = (await httpRequest.run({ headers, url: `${base}/redirect?to=/echo` }, context())) as JsonObject;
    expect((same['response'] as { headers: Record<string, string> }).headers['x-api-key']).toBe('k-123');
  });

  it('rejects non-http URLs when the experiment is saved', async () => {
    const registry = new ModuleRegistry(DEFAULT_MODULES);
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://127.0.0.1:6379/_INFO', 'javascript:alert(1)']) {
      expect(await registry.validateWhere('cm.http_request', { url }, 'steps[0].where', true)).toEqual([expect.objectContaining({ path: 'steps[0].where.url' })]);
    }
  });
});

describe('the egress allow-list', () => {
  const allow = parseEgressAllowList('allowed.test, *.allowed.test, 10.0.0.0/8, allowed-to-metadata.test');

  it('lets steps reach listed hosts and their listed subdomains', async () => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, allow });
    for (const host of ['allowed.test', 'api.allowed.test']) {
      const output = (await httpRequest.run({ url: `http://${host}:${port}/ok` }, context())) as JsonObject;
      expect(output['status_code']).toBe(200);
    }
  });

  it('refuses other hosts and addresses, before connecting', async () => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, allow });
    await refusedQuickly({ url: `http://elsewhere.test:${port}/ok` }, 'Refusing to connect to elsewhere.test (127.0.0.1): not on the egress allow-list (allowed.test, *.allowed.test, 10.0.0.0/8');
    await refusedQuickly({ url: `${base}/ok` }, 'not on the egress allow-list');
    await refusedQuickly({ url: 'http://[::ffff:127.0.0.1]/ok' }, 'not on the egress allow-list');
    expect(received).toEqual([]);
  });

  it('checks every redirect hop', async () => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, allow });
    await refusedQuickly({ url: `http://allowed.test:${port}/redirect?to=${encodeURIComponent(`http://elsewhere.test:${port}/ok`)}` }, 'Refusing to connect to elsewhere.test');
    expect(received.map((r) => r.path)).toEqual(['/redirect']);
  });

  it('still refuses link-local and (on Lambda) loopback for a listed host', async () => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, allow });
    await refusedQuickly({ url: 'http://allowed-to-metadata.test/' }, 'cloud metadata and link-local addresses are not allowed');
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, allow, blockLoopback: true });
    await refusedQuickly({ url: `http://fresh.allowed.test:${port}/ok` }, 'not allowed on AWS Lambda');
  });

  it('lets CIDR entries match the resolved address of any name', async () => {
    setHttpPolicy({ allowLinkLocal: false, resolve: testResolver, allow: parseEgressAllowList('127.0.0.0/30') });
    const output = (await httpRequest.run({ url: `http://elsewhere.test:${port}/ok` }, context())) as JsonObject;
    expect(output['status_code']).toBe(200);
  });
});
