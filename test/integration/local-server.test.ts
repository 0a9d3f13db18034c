import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import { waitFor } from '../support/local-server.js';

const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
let dataDir: string;
let server: LocalServer | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-local-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

describe('local mode server', () => {
  it('serves the API over HTTP, runs a trial to Succeeded, and keeps data across a restart', async () => {
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);

    const created = await fetch(`${server.url}/experiment`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'local', steps: [{ step: 'probe health', do: 'cm.http_probe', where: { url: `${server.url}/health` } }] }),
    });
    expect(created.status).toBe(201);
    const experiment = (await created.json()) as { id: string };
    const trialRes = await fetch(`${server.url}/trial`, { method: 'POST', body: JSON.stringify({ experiment: experiment.id }) });
    const trial = (await trialRes.json()) as { id: string; status: string };
    expect(trial.status).toBe('Scheduled');
    const url = server.url;
    const finished = await waitFor(async () => {
      const t = (await (await fetch(`${url}/trial/${trial.id}`)).json()) as { status: string };
      return t.status === 'Succeeded' ? t : undefined;
    }, 10_000);
    expect(finished.status).toBe('Succeeded');

    await server.close();
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const again = await fetch(`${server.url}/experiment/${experiment.id}`);
    expect(again.status).toBe(200);
    expect(((await (await fetch(`${server.url}/trial/${trial.id}`)).json()) as { status: string }).status).toBe('Succeeded');
  });

  it('runs after a restart a trial accepted before it', async () => {
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const experiment = (await (
      await fetch(`${server.url}/experiment`, { method: 'POST', body: JSON.stringify({ name: 'queued', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 0.05 } }] }) })
    ).json()) as { id: string };
    // Stop the worker first so the trial stays queued in the store, as if the process died.
    await server.worker.stop();
    const trial = (await (await fetch(`${server.url}/trial`, { method: 'POST', body: JSON.stringify({ experiment: experiment.id }) })).json()) as { id: string };
    await server.close();

    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const url = server.url;
    const done = await waitFor(async () => {
      const t = (await (await fetch(`${url}/trial/${trial.id}`)).json()) as { status: string };
      return t.status === 'Succeeded' ? t : undefined;
    }, 10_000);
    expect(done.status).toBe('Succeeded');
  });

  it('serves Swagger UI and its assets', async () => {
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const page = await fetch(`${server.url}/docs`);
    expect(await page.text()).toContain('/docs/assets/swagger-ui-bundle.js');
    const asset = await fetch(`${server.url}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript');
    expect((await fetch(`${server.url}/docs/assets/../../package.json`)).status).not.toBe(200);
  });
});
