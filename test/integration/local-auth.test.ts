import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAuthConfig, type AuthConfig } from '../../functions/api/auth/auth-config.js';
import { createJwtAuthenticator } from '../../functions/api/auth/jwt-authenticator.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import { bearer, TestIdentityProvider } from '../support/identity-provider.js';

const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const TSX_CLI = path.resolve('node_modules/tsx/dist/cli.mjs');
const MAIN = path.resolve('functions/local/main.ts');

let idp: TestIdentityProvider;
let dataDir: string;

beforeAll(async () => {
  idp = await TestIdentityProvider.start();
});
afterAll(() => idp.stop());
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-auth-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/** Runs `npm start`'s entry with `env` until it exits or prints `until`; the child is stopped by its own pid. */
function runMain(env: NodeJS.ProcessEnv, until?: RegExp): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, MAIN], { env: { PATH: process.env['PATH'], PORT: '0', KALLISTI_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('local mode authentication', () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('checks bearer tokens over HTTP when given an authenticator', async () => {
    const authenticator = createJwtAuthenticator(readAuthConfig(idp.env()) as AuthConfig);
    server = await startLocalServer({ port: 0, dataDir, logger: quiet, authenticator });

    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/docs`)).status).toBe(200);
    const refused = await fetch(`${server.url}/experiment`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="kallisti"');

    const expired = await fetch(`${server.url}/experiment`, { headers: bearer(await idp.token({ expiresAt: 1 })) });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const created = await fetch(`${server.url}/experiment`, {
      method: 'POST',
      headers: { ...bearer(await idp.token({ claims: { sub: 'local-user' } })), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'local', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { created_by: string }).created_by).toBe('local-user');
  });

  it('starts open with a clear warning when nothing is configured', async () => {
    const { output } = await runMain({}, /Authentication is OFF.*KALLISTI_AUTH_JWT_AUDIENCE/s);
    expect(output).toContain('WARNING: Authentication is OFF');
    expect(output).toContain('KALLISTI_AUTH_JWKS_URI');
  }, 30_000);

  it('refuses to start on a partial configuration, naming the missing variable', async () => {
    const { code, output } = await runMain({ KALLISTI_AUTH_JWKS_URI: idp.jwksUri, KALLISTI_AUTH_JWT_ISSUER: idp.issuer });
    expect(code).toBe(1);
    expect(output).toContain('Cannot start: Authentication is only partly configured: missing KALLISTI_AUTH_JWT_AUDIENCE');
    expect(output).not.toContain('listening on');
  }, 30_000);

  it('starts with bearer tokens required when fully configured', async () => {
    const { output } = await runMain(idp.env(), /Authentication: bearer JWT/);
    expect(output).toContain(`Authentication: bearer JWT from issuer ${idp.issuer}, audience ${idp.audience}, identity from sub.`);
    expect(output).not.toContain('WARNING');
  }, 30_000);
});
