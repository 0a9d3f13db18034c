import { afterEach, beforeEach, jest } from '@jest/globals';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import type { ScheduleFiring } from '../../functions/ports.js';

/**
 * The setup the local-server integration tests share: a server on a fresh data
 * directory, JSON calls over real HTTP, the table's contents, and a fake clock
 * that real I/O (HTTP, the embedded database) keeps working under.
 */

export const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export type Body = Record<string, unknown>;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when empty). */
  body: unknown;
}

export interface LocalHarness {
  server: LocalServer;
  dataDir: string;
  /** A JSON call; a string body is sent as it is. */
  call(method: string, url: string, body?: unknown): Promise<Answer>;
  /** Every item in the table, in a stable order: to show that a request wrote nothing. */
  tableContents(): Promise<string>;
  /** Stops the server (if it runs) and removes its data directory. */
  close(): Promise<void>;
  /** Stops the server, keeping its data directory (for a restart). */
  stop(): Promise<void>;
  /** Starts the server again on the same data directory. */
  start(options?: Partial<LocalServerOptions>): Promise<LocalServer>;
}

export async function startLocal(options: Partial<LocalServerOptions> = {}): Promise<LocalHarness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-test-'));
  let server: LocalServer | undefined;
  const start = async (more: Partial<LocalServerOptions>) => (server = await startLocalServer({ port: 0, dataDir, logger: quiet, ...options, ...more }));
  const running = (): LocalServer => {
    if (!server) throw new Error('the local server is not running');
    return server;
  };
  await start({});
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  return {
    get server() {
      return running();
    },
    dataDir,
    call: async (method, url, body) => {
      const res = await fetch(`${running().url}${url}`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    tableContents: async () => {
      const { dynamo } = running();
      const { Items = [] } = await dynamo.documentClient.send(new ScanCommand({ TableName: 'kallisti', ConsistentRead: true }));
      return JSON.stringify(Items.map((item) => JSON.stringify(item)).sort());
    },
    close: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    stop,
    start: (more = {}) => start(more),
  };
}

/** A JSON call answered with an object (or nothing): its status and parsed body, {} when empty. */
export async function callJson(local: LocalHarness, method: string, url: string, body?: unknown): Promise<{ status: number; body: Body }> {
  const res = await local.call(method, url, body);
  return { status: res.status, body: (res.body ?? {}) as Body };
}

/** Creates an experiment of one `cm.wait` step of `seconds`; returns its id. */
export async function waitExperiment(local: LocalHarness, seconds: number): Promise<string> {
  const res = await local.call('POST', '/experiment', { name: `wait ${seconds}`, steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: seconds } }] });
  if (res.status !== 201) throw new Error(`creating the experiment answered ${res.status}: ${res.text}`);
  return String((res.body as Body)['id']);
}

export async function createSchedule(local: LocalHarness, experimentId: string, body: Body): Promise<Body> {
  const res = await local.call('POST', `/experiment/${experimentId}/schedule`, body);
  if (res.status !== 201) throw new Error(`creating the schedule answered ${res.status}: ${res.text}`);
  return res.body as Body;
}

export interface FiringView {
  scheduled_time: string;
  outcome: string;
  reason?: string;
  trial_id?: string;
  fired_at?: string;
  received_at: string;
}

/** A schedule's firing records, oldest first. */
export async function firingsOf(local: LocalHarness, experimentId: string, scheduleId: string): Promise<FiringView[]> {
  const res = await local.call('GET', `/experiment/${experimentId}/schedule/${scheduleId}/firings?limit=100`);
  if (res.status !== 200) throw new Error(`reading the firings answered ${res.status}: ${res.text}`);
  return (res.body as FiringView[]).slice().reverse();
}

/** The real clock's setTimeout, kept before a fake one replaces it: I/O needs real time to complete. */
const realSetTimeout = globalThis.setTimeout;
const realSleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

/** Polls `probe` until it gives a value, at most `timeoutMs` of real time (for tests on the real clock). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await realSleep(25);
  }
}

/** Fakes timers and Date from `now`; they also advance with real time, so real I/O keeps working. */
export function useFakeClock(now: number): void {
  jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], advanceTimers: true });
}

/**
 * Moves the fake clock on a second at a time, giving the worker and the
 * embedded database a few real milliseconds between steps, so that what the
 * server does takes about as much fake time as it would real time.
 */
export async function advance(ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    await jest.advanceTimersByTimeAsync(Math.min(1000, ms - done));
    await realSleep(15);
  }
}

/** Advances the fake clock a second at a time until `probe` holds, at most `seconds`. */
export async function advanceUntil(probe: () => Promise<boolean>, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds; i += 1) {
    if (await probe()) return;
    await advance(1000);
  }
  if (!(await probe())) throw new Error(`still not so after ${seconds} s of fake time`);
}

/** Lets the worker finish what it has: a second of fake time at a time, at most `seconds`. */
export async function settle(server: LocalServer, seconds = 30): Promise<void> {
  let idle = false;
  void server.worker.drain().then(() => (idle = true));
  for (let i = 0; i < seconds && !idle; i += 1) {
    await realSleep(15);
    if (!idle) await jest.advanceTimersByTimeAsync(1000);
  }
  if (!idle) throw new Error(`the worker was still busy after ${seconds} s of fake time`);
}

/**
 * One local server per test, closed (with its data directory) after it; with
 * `fakeClockAt`, each test runs on a fake clock from that instant.
 */
export function localServerPerTest(options: { fakeClockAt?: number } = {}): { start(more?: Partial<LocalServerOptions>): Promise<LocalHarness> } {
  let local: LocalHarness | undefined;
  beforeEach(() => {
    if (options.fakeClockAt !== undefined) useFakeClock(options.fakeClockAt);
  });
  afterEach(async () => {
    await local?.close();
    local = undefined;
    jest.useRealTimers();
  });
  return { start: async (more = {}) => (local = await startLocal(more)) };
}

/** The firing the local scheduler delivers when one of `schedule`'s cron times comes (a schedule as the API shows it). */
export function firingOf(schedule: Body, scheduledTime: string, changes: Partial<ScheduleFiring> = {}): ScheduleFiring {
  const id = String(schedule['id']);
  return { kind: 'schedule-firing', schedule_id: id, experiment_id: String(schedule['experiment_id']), schedule_arn: `local:${id}`, scheduled_time: scheduledTime, generation: Number(schedule['generation']), ...changes };
}
