import { jest } from '@jest/globals';
import { describeTrip, GuardSchedule, GuardTracker, type Guard, type GuardCheck, type GuardPhase } from '../../functions/domain/guards.js';
import { GuardMonitor } from '../../functions/executor/guard-monitor.js';

const START = Date.parse('2024-05-01T12:00:00.000Z');
const clock = { now: () => new Date() };

function guard(over: Partial<Guard> = {}): Guard {
  return { step: 'API healthy', do: 'cm.http_probe', where: { url: 'http://svc/health' }, when: ['during'], ...over };
}

/** Answers checks from a script of pass/fail per guard, recording when each ran. */
function scripted(script: Record<number, boolean[]>, durationMs = 0) {
  const calls: { index: number; phase: GuardPhase; at: number }[] = [];
  const check = async (_guard: Guard, index: number, phase: GuardPhase): Promise<GuardCheck> => {
    calls.push({ index, phase, at: Date.now() - START });
    if (durationMs > 0) await new Promise((resolve) => setTimeout(resolve, durationMs));
    const passed = script[index]?.shift() ?? true;
    return { passed, at: new Date(), summary: passed ? '{"status_code":200}' : '{"status_code":503}' };
  };
  return { calls, check };
}

beforeEach(() => {
  jest.useFakeTimers({ now: START });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('GuardTracker (hysteresis)', () => {
  it('trips only after `tolerance` consecutive failures; a pass resets the count', () => {
    const tracker = new GuardTracker([guard({ tolerance: 3 })]);
    const check = (passed: boolean, second: number): GuardCheck => ({ passed, at: new Date(START + second * 1000), summary: String(second) });
    expect(tracker.record(0, 'during', check(false, 1))).toBeUndefined();
    expect(tracker.record(0, 'during', check(false, 2))).toBeUndefined();
    expect(tracker.record(0, 'during', check(true, 3))).toBeUndefined();
    expect(tracker.record(0, 'during', check(false, 4))).toBeUndefined();
    expect(tracker.record(0, 'during', check(false, 5))).toBeUndefined();
    const trip = tracker.record(0, 'during', check(false, 6));
    expect(trip?.failures.map((f) => f.summary)).toEqual(['4', '5', '6']);
  });

  it('trips on the first failure by default', () => {
    expect(new GuardTracker([guard()]).record(0, 'before', { passed: false, at: new Date(START), summary: 'x' })).toMatchObject({ index: 0, phase: 'before' });
  });
});

describe('GuardTracker across slices', () => {
  it('carries a streak through its saved state, keeping only the last checks of a long one in detail', () => {
    const failing = (n: number): GuardCheck => ({ passed: false, at: new Date(START + n * 1000), summary: `503 #${n}` });
    const first = new GuardTracker([guard({ tolerance: 12 })]);
    for (let n = 1; n <= 7; n += 1) expect(first.record(0, 'during', failing(n))).toBeUndefined();
    const saved = JSON.parse(JSON.stringify(first.saved()));
    expect(saved['0'].count).toBe(7);
    const second = new GuardTracker([guard({ tolerance: 12 })], saved);
    for (let n = 8; n <= 11; n += 1) expect(second.record(0, 'during', failing(n))).toBeUndefined();
    const trip = second.record(0, 'during', failing(12));
    expect(trip).toMatchObject({ consecutive: 12 });
    expect(trip?.failures.map((c) => c.summary)).toEqual(['503 #3', '503 #4', '503 #5', '503 #6', '503 #7', '503 #8', '503 #9', '503 #10', '503 #11', '503 #12']);
    const lines = describeTrip(trip as NonNullable<typeof trip>);
    expect(lines[0]).toContain('after 12 consecutive failed check(s) (tolerance 12)');
    expect(lines[1]).toBe('Guard "API healthy" check 3 of 12 at 2024-05-01T12:00:03.000Z failed: 503 #3');
  });

  it('restores due times, and makes a guard missing from them due one interval after the start', () => {
    const schedule = new GuardSchedule([guard({ interval_seconds: 5 }), guard({ interval_seconds: 7 })], 100_000, { '0': 42_000 });
    expect(schedule.saved()).toEqual({ '0': 42_000, '1': 107_000 });
    expect(schedule.nextAt()).toBe(42_000);
    expect(schedule.due(50_000)).toEqual([0]);
  });
});

describe('GuardSchedule (intervals)', () => {
  it('makes each during guard due one interval after the start, then on every interval mark, skipping marks a slow check missed', () => {
    const schedule = new GuardSchedule([guard({ interval_seconds: 5 }), guard({ interval_seconds: 3 }), guard({ when: ['before'] })], 0);
    expect(schedule.msUntilNext(0)).toBe(3000);
    expect(schedule.due(2999)).toEqual([]);
    expect(schedule.due(3000)).toEqual([1]);
    schedule.checked(1, 3000);
    expect(schedule.due(5000)).toEqual([0]);
    schedule.checked(0, 5000);
    expect(schedule.msUntilNext(5000)).toBe(1000);
    // The check due at 6 s ran until 13.5 s: the next is at 15 s, not a burst at 9 and 12.
    schedule.checked(1, 13_500);
    expect(schedule.due(13_500)).toEqual([0]);
    schedule.checked(0, 13_500);
    expect(schedule.msUntilNext(13_500)).toBe(1_500);
    expect(schedule.due(15_000)).toEqual([0, 1]);
  });

  it('has nothing to wait for without during guards', () => {
    expect(new GuardSchedule([guard({ when: ['before', 'after'] })], 0).msUntilNext(0)).toBeUndefined();
  });
});

describe('GuardMonitor', () => {
  it('checks during guards every interval_seconds and reports the first trip once, then stops checking', async () => {
    const { calls, check } = scripted({ 0: [true, false, false] });
    const monitor = new GuardMonitor({ guards: [guard({ interval_seconds: 5, tolerance: 2 })], check, clock });
    const trips: string[] = [];
    monitor.watch(async (trip) => {
      trips.push(`${trip.guard.step} at ${Date.now() - START}`);
    });
    await jest.advanceTimersByTimeAsync(4_999);
    expect(calls).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls.map((c) => c.at)).toEqual([5_000]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls.map((c) => c.at)).toEqual([5_000, 10_000, 15_000]);
    expect(trips).toEqual(['API healthy at 15000']);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(calls).toHaveLength(3);
    expect(monitor.trip?.failures).toHaveLength(2);
    await monitor.stop();
  });

  it('runs before and after gates once per guard of that phase, retrying a failing one every interval up to its tolerance', async () => {
    const guards = [guard({ when: ['before'], interval_seconds: 2, tolerance: 3 }), guard({ step: 'Only during' }), guard({ step: 'DB reachable', when: ['before', 'after'], tolerance: 2, interval_seconds: 1 })];
    const { calls, check } = scripted({ 0: [false, false, true], 2: [true, false, false] });
    const monitor = new GuardMonitor({ guards, check, clock });
    const before = monitor.gate('before');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await before).toBeUndefined();
    expect(calls).toEqual([
      { index: 0, phase: 'before', at: 0 },
      { index: 0, phase: 'before', at: 2_000 },
      { index: 0, phase: 'before', at: 4_000 },
      { index: 2, phase: 'before', at: 4_000 },
    ]);
    const after = monitor.gate('after');
    await jest.advanceTimersByTimeAsync(10_000);
    const trip = await after;
    expect(trip).toMatchObject({ index: 2, phase: 'after' });
    expect(calls.slice(4).map((c) => [c.index, c.at])).toEqual([
      [2, 10_000],
      [2, 11_000],
    ]);
  });

  it('stops while a check is in flight (as the post steps begin): waits for it, drops its result, checks no more', async () => {
    const { calls, check } = scripted({ 0: [false] }, 3_000);
    const monitor = new GuardMonitor({ guards: [guard({ interval_seconds: 2 })], check, clock });
    const onTrip = jest.fn(async () => undefined);
    monitor.watch(onTrip);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(calls).toHaveLength(1);
    const stopped = monitor.stop();
    await jest.advanceTimersByTimeAsync(3_000);
    await stopped;
    await jest.advanceTimersByTimeAsync(20_000);
    expect(onTrip).not.toHaveBeenCalled();
    expect(monitor.trip).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('never overlaps checks: a slow check delays the next one', async () => {
    const { calls, check } = scripted({}, 7_000);
    const monitor = new GuardMonitor({ guards: [guard({ interval_seconds: 5 })], check, clock });
    monitor.watch(async () => undefined);
    await jest.advanceTimersByTimeAsync(30_000);
    // Due at 5 s (ran to 12 s), next mark ahead is 15 s (ran to 22 s), then 25 s.
    expect(calls.map((c) => c.at)).toEqual([5_000, 15_000, 25_000]);
    const stopping = monitor.stop();
    await jest.advanceTimersByTimeAsync(7_000);
    await stopping;
  });
});

describe('describeTrip', () => {
  it('names the guard, its phase, interval and tolerance, and each failed check', () => {
    const g = guard({ interval_seconds: 5, tolerance: 2 });
    const lines = describeTrip({
      guard: g,
      index: 1,
      phase: 'during',
      failures: [
        { passed: false, at: new Date(START), summary: '{"status_code":503}' },
        { passed: false, at: new Date(START + 5000), summary: 'connection refused' },
      ],
    });
    expect(lines).toEqual([
      'guard 2 ("API healthy", cm.http_probe, checked every 5 s) tripped during the trial after 2 consecutive failed check(s) (tolerance 2)',
      'Guard "API healthy" check 1 of 2 at 2024-05-01T12:00:00.000Z failed: {"status_code":503}',
      'Guard "API healthy" check 2 of 2 at 2024-05-01T12:00:05.000Z failed: connection refused',
    ]);
  });
});
