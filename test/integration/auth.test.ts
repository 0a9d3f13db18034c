import fc from 'fast-check';
import { SignJWT } from 'jose';
import { readAuthConfig, type AuthConfig } from '../../functions/api/auth/auth-config.js';
import { createJwtAuthenticator } from '../../functions/api/auth/jwt-authenticator.js';
import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';
import { bearer, makeKey, nowSeconds, TestIdentityProvider, type TestKey, type TokenOptions } from '../support/identity-provider.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;

let idp: TestIdentityProvider;
let ISSUER: string;
let AUDIENCE: string;
let rsa: TestKey;
let ec: TestKey;
let stranger: TestKey;
let config: AuthConfig;
let api: Harness;

const token = (options?: TokenOptions): Promise<string> => idp.token(options);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  idp = await TestIdentityProvider.start();
  ({ issuer: ISSUER, audience: AUDIENCE, rsa, ec } = idp);
  // Same kid as the published RSA key, different key pair: a forger's key.
  stranger = await makeKey('rsa-1', 'RS256');
  config = readAuthConfig(
    idp.env({
      KALLISTI_AUTH_GROUPS_CLAIM: 'cognito:groups',
      KALLISTI_AUTH_READ_GROUPS: 'chaos-readers',
      KALLISTI_AUTH_WRITE_GROUPS: 'chaos-engineers, chaos-admins',
    }),
  ) as AuthConfig;
});

afterAll(() => idp.stop());

beforeEach(async () => {
  api = await startApiHarness({ authenticator: createJwtAuthenticator(config, { unknownKeyBackoffSeconds: 0 }) });
});
afterEach(() => api.close());

function expectInvalidToken(res: { status: number; headers: Record<string, string>; body: unknown }, description: string): void {
  expect(res.status).toBe(401);
  expect(res.headers['WWW-Authenticate']).toBe(`Bearer realm="kallisti", error="invalid_token", error_description="${description}"`);
  expect((res.body as Body)['message']).toBe(`Unauthorized: ${description}.`);
}

describe('JWT authentication', () => {
  it('lets /health, /docs and /openapi.json through without a token', async () => {
    for (const path of ['/health', '/docs', '/openapi.json']) expect((await api.call('GET', path)).status).toBe(200);
  });

  it('answers 401 with a bare Bearer challenge when the Authorization header is missing', async () => {
    const res = await api.call('GET', '/experiment');
    expect(res.status).toBe(401);
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="kallisti"');
    expect(res.body).toEqual({ message: expect.stringContaining('Authorization: Bearer'), detail: 'Authentication credentials were not provided or are invalid.' });
  });

  it('authenticates before it looks at ids or bodies', async () => {
    expect((await api.call('GET', '/experiment/not-a-uuid')).status).toBe(401);
    expect((await api.call('POST', '/experiment', '{ not json')).status).toBe(401);
  });

  it.each([
    ['an expired token', async () => token({ expiresAt: nowSeconds() - 120 }), 'the token has expired'],
    ['a token not valid yet', async () => token({ claims: { nbf: nowSeconds() + 120 } }), 'the token is not valid yet'],
    ['a token from another issuer', async () => token({ issuer: 'https://evil.example.test/' }), 'the token issuer is not accepted'],
    ['a token for another audience', async () => token({ audience: 'someone-else' }), 'the token audience is not accepted'],
    ['a token without an audience or client_id', async () => token({ audience: null }), 'the token audience is not accepted'],
    ['a token without exp', async () => token({ expiresAt: null }), 'the token has no expiry (exp)'],
    ['a token signed by the wrong key under a known kid', async () => token({ signWith: stranger }), 'the token signature is invalid'],
    ['a token signed by an unknown key', async () => token({ key: { ...stranger, kid: 'nobody' } }), 'the token is not signed by a known key'],
    ['an unsigned token with alg none', async () => `${b64({ alg: 'none', kid: 'rsa-1', typ: 'JWT' })}.${b64({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300, scope: 'kallisti/write' })}.`, 'the token is malformed'],
    [
      'a token with alg none and a signature',
      async () => `${b64({ alg: 'none', kid: 'rsa-1', typ: 'JWT' })}.${b64({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300, scope: 'kallisti/write' })}.c2lnbmF0dXJl`,
      'the token signature algorithm is not accepted',
    ],
    [
      'a token with alg HS256',
      async () => `${b64({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' })}.${b64({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300 })}.c2lnbmF0dXJl`,
      'the token signature algorithm is not accepted',
    ],
    [
      'a token whose payload was changed after signing',
      async () => {
        const [header, , signature] = (await token({ claims: { scope: 'kallisti/read' } })).split('.');
        return `${header}.${b64({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowSeconds() + 300, scope: 'kallisti/write' })}.${signature}`;
      },
      'the token signature is invalid',
    ],
    ['garbage', async () => 'not-a-jwt', 'the token is malformed'],
    ['three garbage parts', async () => 'abc.def.ghi', 'the token is malformed'],
    ['a token without kid', async () => new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(rsa.privateKey), 'the token is not signed by a known key'],
  ])('answers 401 invalid_token for %s', async (_name, make, description) => {
    const res = await api.call('POST', '/experiment', experimentBody(), bearer(await make()));
    expectInvalidToken(res, description);
    expect((await api.experiments.list({ limit: 10 })).items).toEqual([]);
  });

  it('answers 401 invalid_token for another scheme or an empty bearer', async () => {
    expectInvalidToken(await api.call('GET', '/experiment', undefined, { Authorization: 'Basic YWxpY2U6c2VjcmV0' }), 'the Authorization header must be: Bearer <token>');
    expectInvalidToken(await api.call('GET', '/experiment', undefined, { Authorization: 'Bearer' }), 'the Authorization header must be: Bearer <token>');
    expectInvalidToken(await api.call('GET', '/experiment', undefined, { Authorization: `Bearer ${'a'.repeat(9000)}.b.c` }), 'the token is malformed');
  });

  it('tolerates a small clock skew on exp', async () => {
    const res = await api.call('GET', '/experiment', undefined, bearer(await token({ expiresAt: nowSeconds() - 10 })));
    expect(res.status).toBe(200);
  });

  it('accepts RS256 and ES256 tokens, fetching the JWKS once', async () => {
    const before = idp.fetches;
    expect((await api.call('GET', '/experiment', undefined, bearer(await token()))).status).toBe(200);
    expect((await api.call('GET', '/experiment', undefined, bearer(await token({ key: ec })))).status).toBe(200);
    expect((await api.call('GET', '/trial', undefined, bearer(await token()))).status).toBe(200);
    expect(idp.fetches - before).toBe(1);
  });

  it('records the identity claim as created_by of an experiment and initiated_by of a trial', async () => {
    const auth = bearer(await token({ claims: { sub: 'alice@example.test' } }));
    const experiment = await api.call('POST', '/experiment', experimentBody(), auth);
    expect(experiment.status).toBe(201);
    expect(experiment.body).toMatchObject({ created_by: 'alice@example.test', updated_by: 'alice@example.test' });
    const id = String((experiment.body as Body)['id']);

    const trial = await api.call('POST', '/trial', { experiment: id }, bearer(await token({ key: ec, claims: { sub: 'bob' } })));
    expect(trial.status).toBe(201);
    expect(trial.body).toMatchObject({ initiated_by: 'bob', initiated_from: 'api' });
    expect((await api.trials.get(String((trial.body as Body)['id'])))?.initiated_by).toBe('bob');

    const patched = await api.call('PATCH', `/experiment/${id}`, { name: 'renamed' }, bearer(await token({ claims: { sub: 'carol' } })));
    expect(patched.body).toMatchObject({ created_by: 'alice@example.test', updated_by: 'carol' });
  });

  it('never takes the identity from the request body', async () => {
    // Read-only fields a client echoes back are ignored, as Django REST framework does: never trusted.
    const auth = bearer(await token({ claims: { sub: 'alice@example.test' } }));
    const experiment = await api.call('POST', '/experiment', { ...experimentBody(), created_by: 'mallory' }, auth);
    expect(experiment.status).toBe(201);
    expect(experiment.body).toMatchObject({ created_by: 'alice@example.test' });

    const id = String((experiment.body as Body)['id']);
    const trial = await api.call('POST', '/trial', { experiment: id, initiated_by: 'mallory' }, auth);
    expect(trial.status).toBe(201);
    expect(trial.body).toMatchObject({ initiated_by: 'alice@example.test' });
    expect((await api.trials.get(String((trial.body as Body)['id'])))?.initiated_by).toBe('alice@example.test');
    const schedule = await api.call('POST', `/experiment/${id}/schedule`, { recurrence_pattern: '* * * * *', created_by: 'mallory' }, auth);
    expect(schedule.status).toBe(201);
    expect(schedule.body).toMatchObject({ created_by: 'alice@example.test' });
    const patch = await api.call('PATCH', `/experiment/${id}`, { updated_by: 'mallory' }, auth);
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ updated_by: 'alice@example.test' });
  });

  it('answers 401 when the identity claim is missing', async () => {
    const res = await api.call('GET', '/experiment', undefined, bearer(await token({ claims: { sub: undefined } })));
    expectInvalidToken(res, 'the token has no usable sub claim');
  });

  describe('authorization', () => {
    const read = async (claims: Record<string, unknown>) => (await api.call('GET', '/experiment', undefined, bearer(await token({ claims })))).status;
    const write = async (claims: Record<string, unknown>) => (await api.call('POST', '/experiment', experimentBody(), bearer(await token({ claims })))).status;

    it('answers 403 insufficient_scope for a token without a Kallisti scope or group', async () => {
      const res = await api.call('GET', '/experiment', undefined, bearer(await token({ claims: { scope: 'openid profile' } })));
      expect(res.status).toBe(403);
      expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="kallisti", error="insufficient_scope", scope="kallisti/read"');
      expect((res.body as Body)['message']).toContain('kallisti/read');
    });

    it('answers 403 to a read scope on every write endpoint, and lets it read', async () => {
      const auth = bearer(await token({ claims: { scope: 'kallisti/read' } }));
      const writer = bearer(await token());
      const experimentId = String(((await api.call('POST', '/experiment', experimentBody(), writer)).body as Body)['id']);
      const trialId = String(((await api.call('POST', '/trial', { experiment: experimentId }, writer)).body as Body)['id']);
      const scheduleId = String(((await api.call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '* * * * *' }, writer)).body as Body)['id']);
      const writes: [string, string, unknown][] = [
        ['POST', '/experiment', experimentBody()],
        ['PUT', `/experiment/${experimentId}`, experimentBody()],
        ['PATCH', `/experiment/${experimentId}`, { name: 'x' }],
        ['DELETE', `/experiment/${experimentId}`, undefined],
        ['POST', '/trial', { experiment: experimentId }],
        ['PUT', `/trial/${trialId}/stop`, undefined],
        ['POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '* * * * *' }],
        ['PUT', `/experiment/${experimentId}/schedule/${scheduleId}`, { recurrence_pattern: '* * * * *' }],
        ['PATCH', `/experiment/${experimentId}/schedule/${scheduleId}`, { recurrence_count: 3 }],
        ['DELETE', `/experiment/${experimentId}/schedule/${scheduleId}`, undefined],
      ];
      for (const [method, path, body] of writes) {
        const res = await api.call(method, path, body, auth);
        expect([method, path, res.status, res.headers['WWW-Authenticate']]).toEqual([method, path, 403, 'Bearer realm="kallisti", error="insufficient_scope", scope="kallisti/write"']);
      }
      for (const path of ['/experiment', `/experiment/${experimentId}`, '/trial', `/trial/${trialId}`, `/experiment/${experimentId}/schedule`, `/experiment/${experimentId}/schedule/${scheduleId}`]) {
        expect([path, (await api.call('GET', path, undefined, auth)).status]).toEqual([path, 200]);
      }
      expect((await api.trials.get(trialId))?.status).toBe('Scheduled');
      expect((await api.experiments.get(experimentId))?.name).toBe(experimentBody().name);
    });

    it('lets kallisti/write read as well', async () => {
      expect(await read({ scope: 'kallisti/write' })).toBe(200);
    });

    it('reads scopes from an scp array too', async () => {
      expect(await write({ scope: undefined, scp: ['kallisti/write'] })).toBe(201);
      expect(await write({ scope: undefined, scp: ['kallisti/read'] })).toBe(403);
    });

    it('maps configured groups to read and write', async () => {
      expect(await write({ scope: undefined, 'cognito:groups': ['chaos-engineers'] })).toBe(201);
      expect(await write({ scope: undefined, 'cognito:groups': ['other', 'chaos-admins'] })).toBe(201);
      expect(await write({ scope: undefined, 'cognito:groups': ['chaos-readers'] })).toBe(403);
      expect(await read({ scope: undefined, 'cognito:groups': ['chaos-readers'] })).toBe(200);
      expect(await read({ scope: undefined, 'cognito:groups': ['strangers'] })).toBe(403);
    });
  });

  it('accepts a Cognito access token: no aud, the app client in client_id', async () => {
    const ok = await token({ audience: null, claims: { client_id: AUDIENCE, token_use: 'access', 'cognito:groups': ['chaos-engineers'], scope: undefined } });
    expect((await api.call('POST', '/experiment', experimentBody(), bearer(ok))).status).toBe(201);
    const other = await token({ audience: null, claims: { client_id: 'another-client' } });
    expectInvalidToken(await api.call('GET', '/experiment', undefined, bearer(other)), 'the token audience is not accepted');
  });

  it('picks up a rotated key: a token signed by a key added to the JWKS later is accepted after the rotation', async () => {
    const next = await makeKey(`rsa-${Date.now()}`, 'RS256');
    const early = await token({ key: next });
    expectInvalidToken(await api.call('GET', '/experiment', undefined, bearer(early)), 'the token is not signed by a known key');

    idp.publish(next);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await api.call('GET', '/experiment', undefined, bearer(early))).status).toBe(200);
    // The old key keeps working alongside the new one.
    expect((await api.call('GET', '/experiment', undefined, bearer(await token()))).status).toBe(200);
    idp.withdraw(next);
  });

  it('stops trusting a withdrawn key once the cached JWKS is older than its max age', async () => {
    const temporary = await makeKey('temporary', 'ES256');
    idp.publish(temporary);
    const short = await startApiHarness({ authenticator: createJwtAuthenticator(config, { unknownKeyBackoffSeconds: 0, jwksMaxAgeMs: 50 }) });
    try {
      const auth = bearer(await token({ key: temporary }));
      expect((await short.call('GET', '/experiment', undefined, auth)).status).toBe(200);
      idp.withdraw(temporary);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expectInvalidToken(await short.call('GET', '/experiment', undefined, auth), 'the token is not signed by a known key');
    } finally {
      await short.close();
    }
  });

  it('answers 503, not 401, when the signing keys cannot be loaded', async () => {
    idp.failing = true;
    try {
      const res = await api.call('GET', '/experiment', undefined, bearer(await token()));
      expect(res.status).toBe(503);
      expect(res.headers['WWW-Authenticate']).toBeUndefined();
    } finally {
      idp.failing = false;
    }
  });

  it('answers 401 to any garbage in the Authorization header, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.stringMatching(/^Bearer [A-Za-z0-9._~+/=-]{0,80}$/), fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => `Bearer ${p.join('.')}`)), async (header) => {
        const res = await api.call('GET', '/experiment', undefined, { Authorization: header });
        expect(res.status).toBe(401);
        expect(res.headers['WWW-Authenticate']).toMatch(/^Bearer realm="kallisti"/);
      }),
      { numRuns: 300 },
    );
  });
});
