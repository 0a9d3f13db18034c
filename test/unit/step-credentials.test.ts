import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AwsSecretSource } from '../../functions/adapters/secrets/aws-secret-source.js';
import { lazySecretSource, policyFromEnv, resolveCredential, setCredentialPolicy, type SecretSource } from '../../functions/modules/cm/credentials.js';
import { clearTokenCache, resolveAuthentication } from '../../functions/modules/cm/step-auth.js';
import { StepFailedError } from '../../functions/modules/types.js';
import type { JsonObject } from '../../functions/domain/types.js';

const secretsManager = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
afterEach(() => {
  secretsManager.reset();
  ssm.reset();
  setCredentialPolicy(policyFromEnv({}));
});

describe('Kallisti credential types (kallisti-core lib/credential.py)', () => {
  it('ENV_VAR_USERNAME_PASSWORD reads only allow-listed variables, never AWS_*', async () => {
    process.env['CHAOS_SVC_USER'] = 'svc';
    process.env['CHAOS_SVC_PASS'] = 'pass-123';
    process.env['OTHER_SECRET'] = 'nope';
    try {
      setCredentialPolicy(policyFromEnv({ KALLISTI_CREDENTIAL_ENV_ALLOW: 'CHAOS_SVC_*, AWS_*' }));
      expect(await resolveCredential({ type: 'ENV_VAR_USERNAME_PASSWORD', username_key: 'CHAOS_SVC_USER', password_key: 'CHAOS_SVC_PASS' })).toEqual({ username: 'svc', password: 'pass-123' });
      await expect(resolveCredential({ type: 'ENV_VAR_USERNAME_PASSWORD', username_key: 'CHAOS_SVC_USER', password_key: 'OTHER_SECRET' })).rejects.toThrow('Credential environment variable OTHER_SECRET is not allowed');
      await expect(resolveCredential({ type: 'ENV_VAR_USERNAME_PASSWORD', username_key: 'AWS_ACCESS_KEY_ID', password_key: 'AWS_SECRET_ACCESS_KEY' })).rejects.toThrow('AWS_ACCESS_KEY_ID is not allowed');
    } finally {
      delete process.env['CHAOS_SVC_USER'];
      delete process.env['CHAOS_SVC_PASS'];
      delete process.env['OTHER_SECRET'];
    }
  });

  it('TOKEN_FILE reads files inside KALLISTI_CREDENTIAL_FILE_DIR only, links included; off without it', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'kallisti-cred-'));
    try {
      const dir = path.join(root, 'tokens');
      await import('node:fs/promises').then((fs) => fs.mkdir(dir));
      await writeFile(path.join(dir, 'svc.token'), 'tok-abc\n');
      await writeFile(path.join(root, 'outside.token'), 'tok-outside');
      await symlink(path.join(root, 'outside.token'), path.join(dir, 'escape.token'));
      await expect(resolveCredential({ type: 'TOKEN_FILE', token_path: 'svc.token' })).rejects.toThrow('TOKEN_FILE credentials are not enabled');
      setCredentialPolicy(policyFromEnv({ KALLISTI_CREDENTIAL_FILE_DIR: dir }));
      expect(await resolveCredential({ type: 'TOKEN_FILE', token_path: 'svc.token' })).toEqual({ token: 'tok-abc' });
      expect(await resolveCredential({ type: 'TOKEN_FILE', token_path: path.join(dir, 'svc.token') })).toEqual({ token: 'tok-abc' });
      await expect(resolveCredential({ type: 'TOKEN_FILE', token_path: '../outside.token' })).rejects.toBeInstanceOf(StepFailedError);
      await expect(resolveCredential({ type: 'TOKEN_FILE', token_path: 'escape.token' })).rejects.toThrow('is outside');
      await expect(resolveCredential({ type: 'TOKEN_FILE', token_path: '/etc/passwd' })).rejects.toThrow('is outside');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a secret reference reads a JSON secret\u2019s username/password, a named key, or the whole string as a token', async () => {
    const values: Record<string, string> = { a: '{"username":"u","password":"p-1"}', b: '{"api":{"token":"t-2"},"other":"x"}', c: 'plain-token-3' };
    const source: SecretSource = { read: async (_type, id) => values[id] ?? '' };
    setCredentialPolicy(policyFromEnv({}, source));
    expect(await resolveCredential({ type: 'secretsmanager', id: 'a' })).toEqual({ username: 'u', password: 'p-1' });
    expect(await resolveCredential({ type: 'ssm', id: 'b', key: 'api' })).toEqual({ token: 't-2' });
    expect(await resolveCredential({ type: 'ssm', id: 'c' })).toEqual({ token: 'plain-token-3' });
    await expect(resolveCredential({ type: 'secretsmanager', id: 'a', key: 'missing' })).rejects.toThrow('has no string field "missing"');
    setCredentialPolicy(policyFromEnv({}));
    await expect(resolveCredential({ type: 'secretsmanager', id: 'a' })).rejects.toThrow('secretsmanager credentials are not available here');
  });
});

describe('AwsSecretSource', () => {
  const source = (now: () => number) => new AwsSecretSource(new SecretsManagerClient({ region: 'eu-west-1' }), new SSMClient({ region: 'eu-west-1' }), { prefix: '/kallisti/dev/', now });

  it('reads Secrets Manager and SSM (decrypted) by name or ARN under the prefix, with exactly these inputs', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 's-value' });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/kallisti/dev/p', Type: 'SecureString', Value: 'p-value' } });
    const aws = source(() => 0);
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kallisti/dev/db-AbCdEf';
    expect(await aws.read('secretsmanager', 'kallisti/dev/db')).toBe('s-value');
    expect(await aws.read('secretsmanager', secretArn)).toBe('s-value');
    expect(await aws.read('ssm', '/kallisti/dev/p')).toBe('p-value');
    expect(await aws.read('ssm', 'arn:aws:ssm:eu-west-1:123456789012:parameter/kallisti/dev/q')).toBe('p-value');
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'kallisti/dev/db' }, { SecretId: secretArn }]);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: '/kallisti/dev/p', WithDecryption: true },
      { Name: 'arn:aws:ssm:eu-west-1:123456789012:parameter/kallisti/dev/q', WithDecryption: true },
    ]);
  });

  it('refuses names outside the prefix without asking AWS', async () => {
    const aws = source(() => 0);
    await expect(aws.read('secretsmanager', 'kallisti/prod/db')).rejects.toThrow('is outside the prefix /kallisti/dev/');
    await expect(aws.read('ssm', 'arn:aws:ssm:eu-west-1:123456789012:parameter/other/x')).rejects.toThrow('is outside the prefix');
    expect(secretsManager.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('reuses a value for 60 s, then reads it again (a rotation is seen within a minute)', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolves({ SecretString: 'v2' });
    let now = 1_000;
    const aws = source(() => now);
    expect(await aws.read('secretsmanager', 'kallisti/dev/db')).toBe('v1');
    now += 59_999;
    expect(await aws.read('secretsmanager', 'kallisti/dev/db')).toBe('v1');
    now += 1;
    expect(await aws.read('secretsmanager', 'kallisti/dev/db')).toBe('v2');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('fails the step with the error\u2019s name only, and on a binary secret', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(Object.assign(new Error('User: arn:aws:sts::123:assumed-role/x is not authorized'), { name: 'AccessDeniedException' }));
    await expect(source(() => 0).read('secretsmanager', 'kallisti/dev/db')).rejects.toThrow(new StepFailedError('Could not read secretsmanager kallisti/dev/db: AccessDeniedException.'));
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(source(() => 0).read('secretsmanager', 'kallisti/dev/bin')).rejects.toThrow('has no string value');
  });

  it('loads lazily: nothing until the first read, once after', async () => {
    let loads = 0;
    const lazy = lazySecretSource(async () => {
      loads += 1;
      return { read: async () => 'x' };
    });
    expect(loads).toBe(0);
    await lazy.read('ssm', 'a');
    await lazy.read('ssm', 'b');
    expect(loads).toBe(1);
  });
});

describe('resolveAuthentication', () => {
  const context = { signal: new AbortController().signal, log: () => undefined };
  type Call = { where: JsonObject };
  const tokenEndpoint = (answers: { status_code: number; response: JsonObject }[]) => {
    const calls: Call[] = [];
    const request = async (where: JsonObject) => {
      calls.push({ where });
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)] ?? { status_code: 500, response: {} };
      return { ...answer, response_text: JSON.stringify(answer.response) };
    };
    return { calls, request };
  };
  beforeEach(() => clearTokenCache());

  it('basic and bearer take the credential\u2019s values, and say which strings to scrub', async () => {
    setCredentialPolicy(policyFromEnv({}, { read: async (_t, id) => (id === 'up' ? '{"username":"u1","password":"p-secret"}' : 't-secret') }));
    const { request } = tokenEndpoint([]);
    const basic = await resolveAuthentication({ url: 'https://x', authentication: { type: 'basic' }, credentials: { type: 'ssm', id: 'up' } }, request, context);
    expect(basic).toEqual({ authorization: `Basic ${Buffer.from('u1:p-secret').toString('base64')}`, secrets: ['p-secret', Buffer.from('u1:p-secret').toString('base64')] });
    const bearer = await resolveAuthentication({ url: 'https://x', authentication: { type: 'bearer', credentials: { type: 'ssm', id: 't' } } }, request, context);
    expect(bearer).toEqual({ authorization: 'Bearer t-secret', secrets: ['t-secret', 't-secret'] });
  });

  it('oauth2_token without credentials uses the client credentials grant, reads token_key, and renews 30 s before expires_in', async () => {
    const { calls, request } = tokenEndpoint([
      { status_code: 200, response: { id_token: 'tok-1', expires_in: 60 } },
      { status_code: 200, response: { id_token: 'tok-2', expires_in: 60 } },
    ]);
    const where = { url: 'https://api.example.com', authentication: { type: 'oauth2_token', url: 'https://id.example.com/token', client: { id: 'c', secret: 's3cret' }, token_key: 'id_token' } };
    let now = 0;
    expect((await resolveAuthentication(where, request, context, () => now)).authorization).toBe('Bearer tok-1');
    now = 29_999;
    expect((await resolveAuthentication(where, request, context, () => now)).authorization).toBe('Bearer tok-1');
    now = 30_000;
    const renewed = await resolveAuthentication(where, request, context, () => now);
    expect(renewed).toEqual({ authorization: 'Bearer tok-2', secrets: ['s3cret', Buffer.from('c:s3cret').toString('base64'), 'tok-2'] });
    expect(calls).toHaveLength(2);
    expect(calls[0]?.where).toEqual({
      url: 'https://id.example.com/token',
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('c:s3cret').toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      request_body: 'grant_type=client_credentials',
    });
  });

  it('oauth2_token fails the step on a refused or token-less answer, naming neither body nor secret', async () => {
    const where = { url: 'https://api.example.com', authentication: { type: 'oauth2_token', url: 'https://id.example.com/token', client: { id: 'c' } } };
    await expect(resolveAuthentication(where, tokenEndpoint([{ status_code: 400, response: { error: 'invalid_client' } }]).request, context)).rejects.toThrow(
      new StepFailedError('Authentication for the HTTP request failed: the token endpoint answered 400.'),
    );
    await expect(resolveAuthentication(where, tokenEndpoint([{ status_code: 200, response: { token: 'x' } }]).request, context)).rejects.toThrow('has no "access_token"');
    await expect(resolveAuthentication({ url: 'https://a', authentication: { type: 'oauth2_token', url: 'https://id.example.com/token' } }, tokenEndpoint([]).request, context)).rejects.toThrow('oauth2_token needs "client"');
  });
});
