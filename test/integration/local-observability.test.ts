import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../functions/ports.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import { createTerminalLogger } from '../../functions/local/terminal-logger.js';
import { waitFor } from '../support/local-server.js';

/** Real-speed clock shifted so that the next minute boundary is `leadMs` away: a `* * * * *` schedule fires soon. */
class ShiftedClock implements Clock {
  private offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  minuteIn(leadMs: number): void {
    const now = Date.now() + this.offset;
    this.offset += Math.ceil(now / 60_000) * 60_000 + 60_000 - leadMs - now;
  }
}

let dataDir: string;
let server: LocalServer | undefined;
let lines: string[];
const clock = new ShiftedClock();
const logger = () => createTerminalLogger({ level: 'INFO', write: (line) => lines.push(line) });

beforeEach(async () => {
  lines = [];
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-observe-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function call<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return (await res.json()) as T;
}

/** The value of one Prometheus sample line, e.g. `kallisti_firings_total{outcome="trial"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('local mode, operable at a glance', () => {
  it('counts a firing on GET /metrics and logs each request, then summarizes what start-up found', async () => {
    server = await startLocalServer({ port: 0, dataDir, clock, logger: logger() });
    const url = server.url;
    const experiment = await call('POST', `${url}/experiment`, { name: 'observed', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 0.01 } }] });
    clock.minuteIn(1500);
    const schedule = await call('POST', `${url}/experiment/${String(experiment['id'])}/schedule`, { recurrence_pattern: '* * * * *', recurrence_count: 2 });
    expect(schedule['recurrence_left']).toBe(2);

    const trial = await waitFor(async () => {
      const page = await call<{ id: string; status: string }[]>('GET', `${url}/trial?experiment=${String(experiment['id'])}`);
      return page.find((t) => t.status === 'Succeeded');
    });
    expect(trial.status).toBe('Succeeded');

    const scrape = await fetch(`${url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    expect(sample(text, 'kallisti_firings_total{outcome="trial"}')).toBe(1);
    expect(sample(text, `kallisti_trials_finished_total{status="Succeeded",experiment="${String(experiment['id'])}"}`)).toBe(1);
    expect(sample(text, 'kallisti_trial_duration_seconds_count{status="Succeeded"}')).toBe(1);
    expect(sample(text, 'kallisti_step_duration_seconds_count{module="cm.wait"}')).toBe(1);
    expect(sample(text, 'kallisti_firing_lag_seconds_count')).toBe(1);
    // The firing was received within a second or so of its minute (the lag is a real measurement).
    expect(sample(text, 'kallisti_firing_lag_seconds_sum')).toBeLessThan(5);

    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}POST \/experiment 201 \d+(\.\d)? ms$/), expect.stringMatching(/ INFO {2}GET \/trial 200 /)]));
    const ids = `trial=${trial.id} experiment=${String(experiment['id'])}`;
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`INFO {2}Trial started ${ids}$`)),
        expect.stringMatching(new RegExp(`INFO {4}Step cm\\.wait done in \\d+ ms trial=${trial.id}$`)),
        expect.stringMatching(new RegExp(`INFO {2}Trial Succeeded in \\d+ ms ${ids}$`)),
      ]),
    );
    // Query strings stay out of the log; successful scrapes are not logged at all.
    expect(lines.join('\n')).not.toContain('?experiment=');
    expect(lines.join('\n')).not.toContain('/metrics');
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/INFO {2}Resumed 0 unfinished trials$/), expect.stringMatching(/INFO {2}Armed 0 schedules$/)]));

    await server.close();
    lines = [];
    server = await startLocalServer({ port: 0, dataDir, clock, logger: logger() });
    expect(server.startup.armedSchedules).toBe(1);
    expect(server.startup.nextFirings).toEqual([{ scheduleId: schedule['id'], experimentId: experiment['id'], at: expect.any(Date) }]);
    expect(server.startup.nextFirings[0]?.at.getTime()).toBeGreaterThan(clock.now().getTime());
    // A new process starts counting from zero, as Prometheus expects of a restart.
    expect(sample(await (await fetch(`${server.url}/metrics`)).text(), 'kallisti_firings_total{outcome="trial"}')).toBeUndefined();
  }, 60_000);
});
