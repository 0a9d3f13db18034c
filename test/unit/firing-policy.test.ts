import { MAX_MISSED_RECORDS, missedFireTimes, policySkip } from '../../functions/domain/firing-policy.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import { checkTimeZone } from '../../functions/domain/time-zone.js';

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    id: '73919897-0835-4ad6-bfc6-2b332c9d615f',
    experiment_id: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1',
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: '*/5 * * * *',
    recurrence_count: null,
    recurrence_left: null,
    ...SCHEDULE_DEFAULTS,
    generation: 1,
    created_by: 'a',
    created_at: '2027-01-01T00:00:00.000Z',
    updated_by: 'a',
    updated_at: '2027-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const AT = '2027-01-04T10:00:00.000Z';
const received = (seconds: number) => new Date(Date.parse(AT) + seconds * 1000);

describe('policySkip', () => {
  it('lets a firing run by default, whatever the previous trial', () => {
    expect(policySkip(schedule(), AT, received(5000), { id: 't1', status: 'In Progress', completed_at: null })).toBeUndefined();
  });

  it('skips a firing that arrives while the schedule is paused', () => {
    expect(policySkip(schedule({ state: 'DISABLED' }), AT, received(1), undefined)?.outcome).toBe('skipped_paused');
  });

  it('skips a firing later than the starting deadline, and says by how much', () => {
    const s = schedule({ starting_deadline_seconds: 900 });
    expect(policySkip(s, AT, received(900), undefined)).toBeUndefined();
    expect(policySkip(s, AT, received(1834), undefined)).toEqual({
      outcome: 'skipped_deadline',
      reason: 'the firing reached the worker 1834 s after its scheduled time, later than starting_deadline_seconds (900)',
    });
  });

  it('with overlap skip, skips when the previous trial is unfinished or finished after the scheduled time', () => {
    const s = schedule({ overlap: 'skip' });
    expect(policySkip(s, AT, received(1), { id: 't1', status: 'Scheduled', completed_at: null })?.reason).toBe('overlap is skip and the previous trial t1 is still Scheduled');
    expect(policySkip(s, AT, received(1), { id: 't1', status: 'In Progress', completed_at: null })?.outcome).toBe('skipped_overlap');
    expect(policySkip(s, AT, received(1800), { id: 't1', status: 'Succeeded', completed_at: '2027-01-04T10:29:00.000Z' })?.reason).toContain('was still running at 2027-01-04T10:00:00.000Z');
    expect(policySkip(s, AT, received(1), { id: 't1', status: 'Failed', completed_at: '2027-01-04T09:59:00.000Z' })).toBeUndefined();
    expect(policySkip(s, AT, received(1), undefined)).toBeUndefined();
  });
});

describe('missedFireTimes', () => {
  it('lists the fire times after `since` up to and including `now`', () => {
    const missed = missedFireTimes(schedule(), new Date('2027-01-04T10:00:00.000Z'), new Date('2027-01-04T10:15:00.000Z'));
    expect(missed).toEqual({ times: ['10:05', '10:10', '10:15'].map((t) => new Date(`2027-01-04T${t}:00.000Z`)), more: 0 });
  });

  it('keeps the newest records and counts the rest, never more than the firings left', () => {
    const year = missedFireTimes(schedule({ recurrence_pattern: '* * * * *' }), new Date('2027-01-01T00:00:00.000Z'), new Date('2028-01-01T00:00:00.000Z'));
    expect(year.times).toHaveLength(MAX_MISSED_RECORDS);
    expect(year.more).toBe(525_600 - MAX_MISSED_RECORDS);
    expect(year.times.at(-1)).toEqual(new Date('2028-01-01T00:00:00.000Z'));
    const counted = missedFireTimes(schedule({ recurrence_left: 2 }), new Date('2027-01-04T10:00:00.000Z'), new Date('2027-01-04T11:00:00.000Z'));
    expect(counted).toEqual({ times: [new Date('2027-01-04T10:05:00.000Z'), new Date('2027-01-04T10:10:00.000Z')], more: 0 });
  });

  it('finds nothing for a paused schedule or before its start date', () => {
    expect(missedFireTimes(schedule({ state: 'DISABLED' }), new Date('2027-01-04T10:00:00Z'), new Date('2027-01-04T11:00:00Z')).times).toEqual([]);
    expect(missedFireTimes(schedule({ start_date: '2027-01-04T12:00:00.000Z' }), new Date('2027-01-04T10:00:00Z'), new Date('2027-01-04T11:00:00Z')).times).toEqual([]);
  });
});

describe('checkTimeZone', () => {
  it.each([
    ['UTC', true],
    ['America/New_York', true],
    ['Australia/Lord_Howe', true],
    ['Asia/Kolkata', true],
    ['US/Eastern', true],
    ['america/new_york', false],
    ['Europe/Londres', false],
    ['+05:00', false],
    ['', false],
  ])('%p is accepted: %p', (name, ok) => {
    expect(checkTimeZone(name).ok).toBe(ok);
  });
});
