import { stepContext } from '../support/step-context.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Step } from '../../functions/domain/experiment.js';
import type { Trial } from '../../functions/domain/trial.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { setHttpPolicy } from '../../functions/modules/cm/http.js';
import { httpRequest } from '../../functions/modules/cm/http-request.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

let server: http.Server;
let base: string;

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const hops = /^\/redirect\/(\d+)$/.exec(url.pathname);
  if (url.pathname === '/ok') {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=server-secret' });
    res.end(JSON.stringify({ data: { id: 'abc-123', items: [{ id: 7 }] } }));
  } else if (url.pathname === '/unavailable') {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('try later');
  } else if (url.pathname === '/slow') {
    const timer = setTimeout(() => {
      res.writeHead(200);
      res.end('late');
    }, 2000);
    res.on('close', () => clearTimeout(timer));
  } else if (url.pathname === '/not-json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"data": oops');
  } else if (hops) {
    const left = Number(hops[1]);
    res.writeHead(302, { location: left > 1 ? `/redirect/${left - 1}` : '/ok' });
    res.end();
  } else if (url.pathname === '/loop') {
    res.writeHead(302, { location: '/loop' });
    res.end();
  } else {
    res.writeHead(404);
    res.end();
  }
}

beforeAll(async () => {
  setHttpPolicy({ allowLinkLocal: false });
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function runSteps(steps: Step[], options: { stopAfterMs?: number } = {}): Promise<{ trial: Trial; elapsedMs: number }> {
  const trials = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const experiment = makeExperiment({ steps });
  await experiments.create(experiment);
  const trial = makeTrial(experiment.id);
  await trials.create(trial);
  const runTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: new FakeClock(), stopPollMs: 50, logger: silent });
  const started = Date.now();
  if (options.stopAfterMs !== undefined) setTimeout(() => trials.requestStop(trial.id), options.stopAfterMs);
  await runTrial(trial.id);
  return { trial: trials.items.get(trial.id) as Trial, elapsedMs: Date.now() - started };
}

function logsOf(trial: Trial): string {
  return trial.trial_record.steps.flatMap((e) => e.logs).join('\n');
}

describe('http steps', () => {
  it('passes an http_probe on 200 and records the status and response time', async () => {
    const { trial } = await runSteps([{ step: 'probe', do: 'cm.http_probe', where: { url: `${base}/ok` } }]);

    expect(trial.status).toBe('Succeeded');
    expect(logsOf(trial)).toMatch(/Result: \{"status_code":200,"response_time_in_seconds":\d+(\.\d+)?\}/);
    expect(logsOf(trial)).not.toContain('server-secret');
  });

  it('fails an http_probe on 503', async () => {
    const { trial } = await runSteps([{ step: 'probe', do: 'cm.http_probe', where: { url: `${base}/unavailable` } }]);

    expect(trial.status).toBe('Failed');
    expect(logsOf(trial)).toContain('HTTP probe failed: status 503');
  });

  it('does not fail an http_request on 503, but fails it on an expectation about status_code', async () => {
    const plain = await runSteps([{ step: 'request', do: 'cm.http_request', where: { url: `${base}/unavailable` } }]);
    expect(plain.trial.status).toBe('Succeeded');

    const judged = await runSteps([{ step: 'request', do: 'cm.http_request', where: { url: `${base}/unavailable` }, expect: [{ operator: 'eq', status_code: 200 }] }]);
    expect(judged.trial.status).toBe('Failed');
    expect(logsOf(judged.trial)).toContain('Expectation failed: status_code expected eq 200, actual 503.');
  });

  it('reads response.data.id and array indexes from the parsed JSON body', async () => {
    const { trial } = await runSteps([
      {
        step: 'request',
        do: 'cm.http_request',
        where: { url: `${base}/ok` },
        expect: [
          { operator: 'eq', 'response.data.id': 'abc-123' },
          { operator: 'eq', 'response.data.items.0.id': '7' },
          { operator: 'lt', response_time_in_seconds: 5 },
        ],
      },
    ]);

    expect(trial.status).toBe('Succeeded');
  });

  it('fails an expectation on a JSON path when the body is not JSON', async () => {
    const { trial } = await runSteps([{ step: 'request', do: 'cm.http_request', where: { url: `${base}/not-json` }, expect: [{ operator: 'eq', 'response.data.id': 'abc-123' }] }]);

    expect(trial.status).toBe('Failed');
    expect(logsOf(trial)).toContain('the step output has no "response.data.id"');
  });

  it('honours the step timeout', async () => {
    const { trial, elapsedMs } = await runSteps([{ step: 'slow', do: 'cm.http_request', where: { url: `${base}/slow`, timeout: 0.2 } }]);

    expect(trial.status).toBe('Failed');
    expect(logsOf(trial)).toContain('timed out after 0.2 s');
    expect(elapsedMs).toBeLessThan(1500);
  });

  it('follows up to 5 redirects', async () => {
    const { trial } = await runSteps([{ step: 'probe', do: 'cm.http_probe', where: { url: `${base}/redirect/5` }, expect: [{ operator: 'eq', 'response.data.id': 'abc-123' }] }]);

    expect(trial.status).toBe('Succeeded');
    expect(logsOf(trial).match(/Redirected \(302\)/g)).toHaveLength(5);
  });

  it('fails after more than 5 redirects and on a redirect loop', async () => {
    const six = await runSteps([{ step: 'probe', do: 'cm.http_probe', where: { url: `${base}/redirect/6` } }]);
    expect(six.trial.status).toBe('Failed');
    expect(logsOf(six.trial)).toContain('Too many redirects');

    const loop = await runSteps([{ step: 'probe', do: 'cm.http_request', where: { url: `${base}/loop` } }]);
    expect(loop.trial.status).toBe('Failed');
    expect(logsOf(loop.trial)).toContain('Too many redirects');
  });

  it('refuses a request to the cloud metadata address', async () => {
    const { trial, elapsedMs } = await runSteps([{ step: 'metadata', do: 'cm.http_request', where: { url: 'http://169.254.169.254/latest/meta-data/' } }]);

    expect(trial.status).toBe('Failed');
    expect(logsOf(trial)).toContain('Refusing to connect to 169.254.169.254');
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('stops a slow request when the trial is stopped', async () => {
    const { trial, elapsedMs } = await runSteps([{ step: 'slow', do: 'cm.http_request', where: { url: `${base}/slow` } }], { stopAfterMs: 50 });

    expect(trial.status).toBe('Stopped');
    expect(elapsedMs).toBeLessThan(1500);
  });

  it('outputs status, text, headers, response time and parsed body', async () => {
    const output = await httpRequest.run({ url: `${base}/ok` }, stepContext());

    expect(output).toEqual({
      status_code: 200,
      response_text: '{"data":{"id":"abc-123","items":[{"id":7}]}}',
      response_headers: expect.objectContaining({ 'content-type': 'application/json' }),
      response_time_in_seconds: expect.any(Number),
      response: { data: { id: 'abc-123', items: [{ id: 7 }] } },
    });
  });
});
