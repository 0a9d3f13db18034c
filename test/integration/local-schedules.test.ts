/**
 * Schedules through the local server (HTTP, embedded DynamoDB, in-process
 * scheduler and sequential worker) on a fake clock: pause and resume, dates,
 * firings missed while the server was down and `catch_up: latest`, and the
 * firing history that records them. (Overlap skip, starting deadlines and
 * the other outcomes are tested on the fire-schedule use case with DynamoDB:
 * test/integration/fire-schedule.test.ts.)
 */
import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';

const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
type Body = Record<string, unknown>;
type Firing = { scheduled_time: string; outcome: string; reason?: string; trial_id?: string; fired_at?: string; received_at: string };

const T0 = Date.UTC(2027, 0, 4, 9, 0, 30);
let dataDir: string;
let server: LocalServer | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-sched-'));
  // Real I/O (HTTP, the embedded database) keeps working: only timers and Date are faked, and they also advance with real time.
  jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], advanceTimers: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  jest.useRealTimers();
  await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${(server as LocalServer).url}${url}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function experiment(seconds: number): Promise<string> {
  const res = await call('POST', '/experiment', { name: `wait ${seconds}`, steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: seconds } }] });
  expect(res.status).toBe(201);
  return String((res.body as Body)['id']);
}

async function schedule(experimentId: string, body: Body): Promise<string> {
  const res = await call('POST', `/experiment/${experimentId}/schedule`, body);
  expect(res.status).toBe(201);
  return String((res.body as Body)['id']);
}

async function firings(experimentId: string, scheduleId: string): Promise<Firing[]> {
  const res = await call('GET', `/experiment/${experimentId}/schedule/${scheduleId}/firings?limit=100`);
  expect(res.status).toBe(200);
  return (res.body as Firing[]).slice().reverse();
}

/** The real clock's setTimeout, kept before the fake one replaces it: I/O needs real time to complete. */
const realSleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));
const realSetTimeout = globalThis.setTimeout;

/**
 * Moves the fake clock on a second at a time, giving the worker and the
 * embedded database a few real milliseconds between steps, so that what the
 * server does takes about as much fake time as it would real time.
 */
async function advance(ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    await jest.advanceTimersByTimeAsync(Math.min(1000, ms - done));
    await realSleep(15);
  }
}

/** Lets the worker finish what it has: a second of fake time at a time, at most `seconds`. */
async function settle(seconds = 30): Promise<void> {
  let idle = false;
  void (server as LocalServer).worker.drain().then(() => (idle = true));
  for (let i = 0; i < seconds && !idle; i += 1) {
    await realSleep(15);
    if (!idle) await jest.advanceTimersByTimeAsync(1000);
  }
}

const minute = (m: number, s = 0) => new Date(Date.UTC(2027, 0, 4, 9, m, s)).toISOString();

describe('local schedules', () => {
  it('pause stops firings and resume restarts them; start and end dates bound them', async () => {
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const exp = await experiment(1);
    const id = await schedule(exp, { recurrence_pattern: '* * * * *', start_date: minute(2), end_date: minute(8), timezone: 'Europe/London' });
    await advance(3.5 * 60_000); // to 09:04:00
    await call('PATCH', `/experiment/${exp}/schedule/${id}`, { state: 'DISABLED' });
    await advance(2 * 60_000); // 09:05 and 09:06 pass while paused
    const resumed = await call('PATCH', `/experiment/${exp}/schedule/${id}`, { state: 'ENABLED' });
    expect((resumed.body as Body)['next_fire_time']).toBe(minute(7));
    await advance(4 * 60_000); // 09:07 fires; 09:08 is the end date
    await settle();
    const records = await firings(exp, id);
    expect(records.map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [minute(2), 'started'],
      [minute(3), 'started'],
      [minute(4), 'started'],
      [minute(7), 'started'],
    ]);
    const view = (await call('GET', `/experiment/${exp}/schedule/${id}`)).body as Body;
    expect(view['firing_counts']).toEqual({ started: 4 });
    expect(view['next_fire_time']).toBeNull();
  });

  it('records firings missed while the server was down, and runs the latest once with catch_up: latest', async () => {
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const exp = await experiment(1);
    const none = await schedule(exp, { recurrence_pattern: '*/5 * * * *' });
    const latest = await schedule(exp, { recurrence_pattern: '*/5 * * * *', catch_up: 'latest' });
    await advance(5 * 60_000); // 09:05 fires for both
    await server.close();
    server = undefined;
    jest.setSystemTime(Date.UTC(2027, 0, 4, 9, 27, 10)); // down from 09:05:30 to 09:27:10: 09:10, 09:15, 09:20, 09:25 missed
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    expect(server.startup).toMatchObject({ missedFirings: 7, caughtUpFirings: 1 });
    await settle();

    expect((await firings(exp, none)).map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [minute(5), 'started'],
      [minute(10), 'missed'],
      [minute(15), 'missed'],
      [minute(20), 'missed'],
      [minute(25), 'missed'],
    ]);
    const caught = await firings(exp, latest);
    expect(caught.map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [minute(5), 'started'],
      [minute(10), 'missed'],
      [minute(15), 'missed'],
      [minute(20), 'missed'],
      [minute(25), 'started'],
    ]);
    expect(caught[1]?.reason).toBe(`local mode was not running at ${minute(10)} (catch_up: latest runs only the most recent)`);
    const trial = (await call('GET', `/trial/${String(caught[4]?.trial_id)}`)).body as Body;
    expect(trial['status']).toBe('Succeeded');
    expect(((await call('GET', `/experiment/${exp}/schedule/${latest}`)).body as Body)['firing_counts']).toEqual({ started: 2, missed: 3 });
  });
});
