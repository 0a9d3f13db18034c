import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import { EventBridgeTrialObserver } from '../../functions/adapters/eventbridge/trial-events.js';
import { startApiHarness } from '../support/api-harness.js';

/** Local mode's trial observers: every finished trial goes to the log and, when configured, to a webhook. */
let server: LocalServer | undefined;
let hook: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
  hook = undefined;
});

async function receiver(status: number): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  hook = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => hook?.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, bodies };
}

async function runOneTrial(url: string): Promise<{ id: string; experiment: string }> {
  const experiment = (await (await fetch(`${url}/experiment`, { method: 'POST', body: JSON.stringify({ name: 'observed', steps: [] }) })).json()) as { id: string };
  const trial = (await (await fetch(`${url}/trial`, { method: 'POST', body: JSON.stringify({ experiment: experiment.id, ticket: { id: 'CHG-7' } }) })).json()) as { id: string };
  for (;;) {
    const current = (await (await fetch(`${url}/trial/${trial.id}`)).json()) as { status: string };
    if (current.status === 'Succeeded') return { id: trial.id, experiment: experiment.id };
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('trial-finished events in local mode', () => {
  it('are logged and POSTed to the webhook in EventBridge\u2019s envelope', async () => {
    const { url, bodies } = await receiver(204);
    const logged: { message: string; extra?: object }[] = [];
    const logger: AppLogger = { info: (message, extra) => void logged.push({ message, extra }), warn: () => undefined, error: () => undefined };
    server = await startLocalServer({ port: 0, logger, trialWebhookUrl: url });
    const trial = await runOneTrial(server.url);
    for (let i = 0; i < 100 && bodies.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(bodies).toEqual([
      {
        source: 'kallisti',
        'detail-type': 'Trial Finished',
        time: expect.any(String),
        detail: expect.objectContaining({ id: trial.id, experiment: trial.experiment, status: 'Succeeded', ticket: { id: 'CHG-7' }, schedule: null }),
      },
    ]);
    expect(logged.find((l) => l.message === 'Trial Finished')?.extra).toMatchObject({ source: 'kallisti', detail: { id: trial.id, status: 'Succeeded' } });
  });

  it('never fail or hold the trial when the webhook fails', async () => {
    const { url, bodies } = await receiver(500);
    const warnings: string[] = [];
    server = await startLocalServer({ port: 0, logger: { info: () => undefined, warn: (m) => void warnings.push(m), error: () => undefined }, trialWebhookUrl: url });
    await runOneTrial(server.url);
    for (let i = 0; i < 100 && warnings.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(bodies).toHaveLength(1);
    expect(warnings).toContain('A trial observer failed; the trial is unaffected');
  });
});

describe('trial-finished events from the API Lambda (real router on dynalite, EventBridge mocked)', () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterEach(() => eventBridge.reset());

  it('a stop before the worker reached the trial ends it Stopped, and PutEvents carries exactly that', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const api = await startApiHarness({ trialFinishedObservers: [new EventBridgeTrialObserver(new EventBridgeClient({ region: 'eu-west-1' }), 'default')] });
    try {
      const experiment = (await api.call('POST', '/experiment', { name: 'observed', steps: [] })).body as { id: string };
      const created = (await api.call('POST', '/api/v1/trial/', { experiment: experiment.id, ticket: { id: 'CHG-9' }, metadata: { team: 'payments' }, parameters: { token: 'hunter2' } })).body as { id: string };
      expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
      expect((await api.call('PUT', `/api/v1/trial/${created.id}/stop/`)).status).toBe(200);
      const trial = (await api.call('GET', `/trial/${created.id}`)).body as { status: string; executed_at: null; completed_at: string; initiated_by: string };
      expect(trial.status).toBe('Stopped');
      expect(eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input)).toEqual([
        {
          Entries: [
            {
              EventBusName: 'default',
              Source: 'kallisti',
              DetailType: 'Trial Finished',
              Time: new Date(trial.completed_at),
              Detail: JSON.stringify({
                id: created.id,
                experiment: experiment.id,
                status: 'Stopped',
                ticket: { id: 'CHG-9' },
                schedule: null,
                initiated_by: trial.initiated_by,
                initiated_from: 'api',
                executed_at: null,
                completed_at: trial.completed_at,
                metadata: { team: 'payments' },
              }),
            },
          ],
        },
      ]);
    } finally {
      await api.close();
    }
  });
});
