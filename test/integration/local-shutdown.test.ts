import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { post, until } from '../support/http-trials.js';
import { startLoopback } from '../support/loopback.js';

const TSX_CLI = path.resolve('node_modules/tsx/dist/cli.mjs');
const MAIN = path.resolve('functions/local/main.ts');

let dataDir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-shutdown-'));
});
afterEach(async () => {
  // Only the children this test started, by their own pid.
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
  /** Resolves when the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** `npm start`'s entry as a real child process, on its own port and data directory. */
async function start(port = 0): Promise<Running> {
  const child = spawn(process.execPath, [TSX_CLI, MAIN], { env: { PATH: process.env['PATH'], PORT: String(port), KALLISTI_DATA_DIR: dataDir, LOG_LEVEL: 'INFO' }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const watcher of watchers.splice(0)) {
      if (watcher.pattern.test(output)) watcher.resolve();
      else watchers.push(watcher);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(output)) return resolve();
      const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${output}`)), timeoutMs);
      watchers.push({
        pattern,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  await waitFor(/listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(output)?.[1] as string;
  return { child, url, output: () => output, exited, waitFor };
}

/**
 * An `npm start` process running a trial whose HTTP step calls a target that never answers,
 * so the step holds the worker past its boundary; the target is closed after `test`.
 */
async function withHangingTrial(test: (running: Running) => Promise<void>): Promise<void> {
  const hanging = await startLoopback(() => undefined);
  try {
    const running = await start();
    const target = `${hanging.url}/`;
    const experiment = await post(`${running.url}/experiment`, { name: 'hangs', steps: [{ step: 'call', do: 'cm.http_probe', where: { url: target, timeout: 60 } }] });
    const trial = await post(`${running.url}/trial`, { experiment: experiment.id });
    await until(running.url, trial.id, (t) => t.status === 'In Progress', 10_000);
    await test(running);
  } finally {
    await hanging.stop();
  }
}

describe('local shutdown (a real npm start process)', () => {
  it('on Ctrl-C checkpoints the running trial at its wait, keeps the API up until then, exits within 5 s, and the trial goes on after a restart', async () => {
    const first = await start();
    // The restart listens on the same port, so the post step's URL (this API) still answers.
    const port = Number(new URL(first.url).port);
    const experiment = await post(`${first.url}/experiment`, {
      name: 'long wait',
      steps: [{ step: 'pause', do: 'cm.wait', where: { time_in_seconds: 8 } }],
      post_steps: [{ step: 'check', do: 'cm.http_probe', where: { url: `${first.url}/health`, timeout: 2 } }],
    });
    const trial = await post(`${first.url}/trial`, { experiment: experiment.id });
    await until(first.url, trial.id, (t) => t.status === 'In Progress', 10_000);

    const asked = Date.now();
    first.child.kill('SIGINT');
    await first.waitFor(/SIGINT received/);
    expect(first.output()).toMatch(/Ctrl-C again to exit now/);
    const { code, at } = await first.exited;
    expect(code).toBe(0);
    expect(at - asked).toBeLessThan(5000);
    expect(first.output()).toMatch(/checkpointed for shutdown; it goes on after the restart/);

    const second = await start(port);
    const done = await until(second.url, trial.id, (t) => t.status !== 'In Progress', 30_000);
    expect(done.status).toBe('Succeeded');
    expect(done.trial_record.post_steps[0]?.logs.at(-1)).toMatch(/Completed\.$/);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 90_000);

  it('exits within 5 s of one SIGTERM even when a step cannot stop, saying the trial will be recovered', async () => {
    await withHangingTrial(async (running) => {
      const asked = Date.now();
      running.child.kill('SIGTERM');
      const { code, at } = await running.exited;
      expect(at - asked).toBeLessThan(6000);
      expect(code).toBe(1);
      expect(running.output()).toMatch(/did not end in time: exiting; the trial is recovered as interrupted/);
    });
  }, 60_000);

  it('exits at once on a second Ctrl-C while a step cannot stop, and says the trial will be recovered', async () => {
    await withHangingTrial(async (running) => {
      await new Promise((r) => setTimeout(r, 300));
      running.child.kill('SIGINT');
      await running.waitFor(/SIGINT received/);
      // The API still answers while the worker finishes its step.
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
      const asked = Date.now();
      running.child.kill('SIGINT');
      const { code, at } = await running.exited;
      expect(at - asked).toBeLessThan(2000);
      expect(code).not.toBe(0);
      expect(running.output()).toMatch(/exiting now.*recovered as interrupted/s);
    });
  }, 60_000);
});
