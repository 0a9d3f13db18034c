/**
 * The local scheduler fires in the schedule's time zone with EventBridge's
 * daylight-saving rules, honours pause and dates, and delays a jittered firing
 * within its window while the message keeps the scheduled time (fake clock).
 */
import { jest } from '@jest/globals';
import { LocalScheduler } from '../../functions/adapters/local/local-scheduler.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import type { ScheduleFiring } from '../../functions/ports.js';

const clock = { now: () => new Date() };

function schedule(overrides: Partial<Schedule>): Schedule {
  return {
    id: '73919897-0835-4ad6-bfc6-2b332c9d615f',
    experiment_id: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1',
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: '30 1 * * *',
    recurrence_count: null,
    recurrence_left: null,
    generation: 1,
    ...SCHEDULE_DEFAULTS,
    created_by: 'a',
    created_at: '2027-01-01T00:00:00.000Z',
    updated_by: 'a',
    updated_at: '2027-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function recorder(random?: () => number) {
  const fired: { firing: ScheduleFiring; at: string }[] = [];
  const scheduler = new LocalScheduler({ clock, random, fire: (firing) => fired.push({ firing, at: new Date().toISOString() }) });
  return { fired, scheduler };
}

afterEach(() => jest.useRealTimers());

describe('LocalScheduler with time zones', () => {
  it('skips 02:30 on the spring-forward day and fires 01:30 once on the fall-back day (New York)', async () => {
    jest.useFakeTimers({ now: Date.UTC(2027, 2, 13, 0, 0) });
    const { fired, scheduler } = recorder();
    await scheduler.arm(schedule({ recurrence_pattern: '30 1,2 * * *', timezone: 'America/New_York' }));
    await jest.advanceTimersByTimeAsync(3 * 86_400_000);
    // 13 March: 01:30 and 02:30 EST; 14 March: 01:30 EST only (02:30 does not exist); 15 March: both, EDT.
    expect(fired.map((f) => f.firing.scheduled_time)).toEqual([
      '2027-03-13T06:30:00.000Z',
      '2027-03-13T07:30:00.000Z',
      '2027-03-14T06:30:00.000Z',
      '2027-03-15T05:30:00.000Z',
      '2027-03-15T06:30:00.000Z',
    ]);
    scheduler.stop();

    jest.setSystemTime(Date.UTC(2027, 10, 7, 0, 0));
    const fall = recorder();
    await fall.scheduler.arm(schedule({ recurrence_pattern: '30 1 * * *', timezone: 'America/New_York' }));
    await jest.advanceTimersByTimeAsync(86_400_000);
    // 7 November: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST); it fires once.
    expect(fall.fired.map((f) => f.firing.scheduled_time)).toEqual(['2027-11-07T05:30:00.000Z']);
    fall.scheduler.stop();
  });

  it('arms nothing for a paused schedule and nothing before its start or after its end', async () => {
    jest.useFakeTimers({ now: Date.UTC(2027, 0, 4, 0, 0) });
    const { fired, scheduler } = recorder();
    await scheduler.arm(schedule({ id: 'paused', recurrence_pattern: '* * * * *', state: 'DISABLED' }));
    await scheduler.arm(schedule({ id: 'bounded', recurrence_pattern: '*/10 * * * *', start_date: '2027-01-04T00:25:00.000Z', end_date: '2027-01-04T00:50:00.000Z' }));
    expect(scheduler.size).toBe(1);
    await jest.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(fired.map((f) => [f.firing.schedule_id, f.firing.scheduled_time])).toEqual([
      ['bounded', '2027-01-04T00:30:00.000Z'],
      ['bounded', '2027-01-04T00:40:00.000Z'],
    ]);
    expect(scheduler.size).toBe(0);
  });

  it('delays a jittered firing by a random part of its window and keeps the scheduled time in the message', async () => {
    jest.useFakeTimers({ now: Date.UTC(2027, 0, 4, 0, 0) });
    const { fired, scheduler } = recorder(() => 0.5);
    await scheduler.arm(schedule({ recurrence_pattern: '0 9 * * *', timezone: 'Asia/Kathmandu', jitter_seconds: 600 }));
    await jest.advanceTimersByTimeAsync(86_400_000);
    // 09:00 in Kathmandu (+05:45) is 03:15 UTC; half of a 10-minute window later is 03:20.
    expect(fired).toEqual([{ firing: expect.objectContaining({ scheduled_time: '2027-01-04T03:15:00.000Z' }), at: '2027-01-04T03:20:00.000Z' }]);
    scheduler.stop();
  });
});
