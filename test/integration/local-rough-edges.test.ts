import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStartError, startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';

/** What a new user meets first in local mode: each problem is one clear line, never a stack trace or a bare 404/405. */
const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
let dataDir: string;
const started: LocalServer[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-rough-'));
});
afterEach(async () => {
  for (const server of started.splice(0)) await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(options: { port?: number; dataDir?: string } = {}): Promise<LocalServer> {
  const server = await startLocalServer({ port: options.port ?? 0, logger: quiet, ...(options.dataDir !== undefined && { dataDir: options.dataDir }) });
  started.push(server);
  return server;
}

function head(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'HEAD' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local mode start-up and first requests', () => {
  it('says in one line that the port is in use, and releases what it opened', async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    const other = await mkdtemp(path.join(tmpdir(), 'kallisti-rough-other-'));
    try {
      const error = await start({ port, dataDir: other }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LocalStartError);
      expect((error as Error).message).toBe(`Port ${port} on 127.0.0.1 is already in use (another npm start?); stop it or set PORT to another port.`);
      // The data directory was released: a server on a free port can use it.
      await start({ dataDir: other });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('refuses a second server on the same data directory with one clear line, and allows it once the first stops', async () => {
    const first = await start({ dataDir });
    const error = await start({ dataDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LocalStartError);
    expect((error as Error).message).toBe(`Data directory ${dataDir} is in use by another Kallisti local server (pid ${process.pid}); stop it, or set KALLISTI_DATA_DIR to another directory.`);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    await first.close();
    started.splice(started.indexOf(first), 1);
    const second = await start({ dataDir });
    expect((await fetch(`${second.url}/health`)).status).toBe(200);
  });

  it('answers GET / with a pointer to /docs and /openapi.json', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: 'Kallisti Serverless API: Swagger UI at /docs, the OpenAPI document at /openapi.json', docs: `${server.url}/docs`, openapi: `${server.url}/openapi.json` });
  });

  it('answers HEAD on GET routes like GET, without a body', async () => {
    const server = await start();
    for (const route of ['/health', '/experiment', '/openapi.json', '/docs', '/']) {
      const res = await head(`${server.url}${route}`);
      expect({ route, status: res.status, body: res.body }).toEqual({ route, status: 200, body: '' });
      expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    }
    expect((await head(`${server.url}/trial/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });
});
