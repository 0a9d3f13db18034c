import { parseUnixCron } from '../../functions/domain/cron.js';
import { freezeOccurrenceAt, type FreezeWindow } from '../../functions/domain/safety/freeze.js';
import { freezeInputErrors } from '../../functions/domain/safety/inputs.js';
import { isTimeZone, latestFireAtOrBefore } from '../../functions/domain/safety/zoned-time.js';

const businessHours = (timezone = 'Europe/London', cron = '0 9 * * 1-5', minutes = 480): FreezeWindow => ({
  id: 'f1',
  reason: 'business hours',
  scope: { labels: {} },
  recurrence: { cron, duration_minutes: minutes, timezone },
  starts_at: null,
  ends_at: null,
  created_by: 'alice',
  created_at: '2024-01-01T00:00:00.000Z',
});

const at = (iso: string) => new Date(iso);

describe('when a recurring window last opened', () => {
  it('knows IANA zone names and refuses others', () => {
    expect(isTimeZone('Europe/London')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });

  it('finds the latest cron time at or before an instant, within the look-back', () => {
    const cron = parseUnixCron('0 9 * * 1-5');
    // Monday 15 January 2024, 12:00 London = 12:00Z.
    expect(new Date(latestFireAtOrBefore(cron, 'Europe/London', Date.parse('2024-01-15T12:00:00Z'), 8 * 3600_000) as number).toISOString()).toBe('2024-01-15T09:00:00.000Z');
    // Saturday: the last start is Friday 09:00, more than 8 hours ago.
    expect(latestFireAtOrBefore(cron, 'Europe/London', Date.parse('2024-01-20T12:00:00Z'), 8 * 3600_000)).toBeUndefined();
    expect(new Date(latestFireAtOrBefore(cron, 'Europe/London', Date.parse('2024-01-20T12:00:00Z'), 3 * 86_400_000) as number).toISOString()).toBe('2024-01-19T09:00:00.000Z');
  });
});

describe('freeze windows', () => {
  it('09:00-17:00 London refuses 10:00 and allows 18:00 local, in winter and in summer', () => {
    const window = businessHours();
    // Winter (GMT = UTC): 10:00 local is 10:00Z.
    expect(freezeOccurrenceAt(window, at('2024-03-28T10:00:00Z'))).toEqual({ start: at('2024-03-28T09:00:00Z'), end: at('2024-03-28T17:00:00Z') });
    expect(freezeOccurrenceAt(window, at('2024-03-28T18:00:00Z'))).toBeUndefined();
    // After the change on 31 March (BST = UTC+1): 10:00 local is 09:00Z, 18:00 local is 17:00Z.
    expect(freezeOccurrenceAt(window, at('2024-04-01T09:00:00Z'))).toEqual({ start: at('2024-04-01T08:00:00Z'), end: at('2024-04-01T16:00:00Z') });
    expect(freezeOccurrenceAt(window, at('2024-04-01T17:00:00Z'))).toBeUndefined();
    // 08:30Z on 1 April is 09:30 local: frozen; the same UTC time a week earlier was 08:30 local: allowed.
    expect(freezeOccurrenceAt(window, at('2024-04-01T08:30:00Z'))).toBeDefined();
    expect(freezeOccurrenceAt(window, at('2024-03-25T08:30:00Z'))).toBeUndefined();
  });

  it('follows the autumn change too, and New York on its own dates', () => {
    const london = businessHours();
    // Monday 28 October 2024 is GMT again: 16:30Z is 16:30 local, inside; on Friday 25 October (BST) 16:30Z is 17:30 local, outside.
    expect(freezeOccurrenceAt(london, at('2024-10-28T16:30:00Z'))).toBeDefined();
    expect(freezeOccurrenceAt(london, at('2024-10-25T16:30:00Z'))).toBeUndefined();
    const newYork = businessHours('America/New_York');
    // 10 March 2024 is a Sunday; on Monday 11 March New York is EDT (UTC-4): 13:30Z = 09:30 local.
    expect(freezeOccurrenceAt(newYork, at('2024-03-11T13:30:00Z'))).toBeDefined();
    // Friday 8 March (EST, UTC-5): 13:30Z = 08:30 local.
    expect(freezeOccurrenceAt(newYork, at('2024-03-08T13:30:00Z'))).toBeUndefined();
  });

  it('opens no window on a start time that does not exist that day, as EventBridge skips it', () => {
    const window = businessHours('Europe/London', '30 1 * * *', 60);
    expect(freezeOccurrenceAt(window, at('2024-03-31T01:10:00Z'))).toBeUndefined();
    expect(freezeOccurrenceAt(window, at('2024-03-30T01:45:00Z'))).toEqual({ start: at('2024-03-30T01:30:00Z'), end: at('2024-03-30T02:30:00Z') });
    // 01:30 twice on 27 October: one window, from the first.
    expect(freezeOccurrenceAt(window, at('2024-10-27T00:45:00Z'))).toEqual({ start: at('2024-10-27T00:30:00Z'), end: at('2024-10-27T01:30:00Z') });
    expect(freezeOccurrenceAt(window, at('2024-10-27T01:45:00Z'))).toBeUndefined();
  });

  it('covers a window that runs over midnight and ends exclusive', () => {
    const window = businessHours('UTC', '0 22 * * *', 240);
    expect(freezeOccurrenceAt(window, at('2024-05-02T01:59:59Z'))).toEqual({ start: at('2024-05-01T22:00:00Z'), end: at('2024-05-02T02:00:00Z') });
    expect(freezeOccurrenceAt(window, at('2024-05-02T02:00:00Z'))).toBeUndefined();
    expect(freezeOccurrenceAt(window, at('2024-05-01T22:00:00Z'))).toBeDefined();
  });

  it('applies a one-off range start-inclusive, end-exclusive, and never once deleted', () => {
    const window: FreezeWindow = { ...businessHours(), recurrence: null, starts_at: '2024-12-20T00:00:00.000Z', ends_at: '2025-01-03T00:00:00.000Z' };
    expect(freezeOccurrenceAt(window, at('2024-12-20T00:00:00Z'))).toBeDefined();
    expect(freezeOccurrenceAt(window, at('2025-01-03T00:00:00Z'))).toBeUndefined();
    expect(freezeOccurrenceAt({ ...window, deleted_at: '2024-12-21T00:00:00Z', deleted_by: 'bob' }, at('2024-12-24T00:00:00Z'))).toBeUndefined();
  });

  it('names each bad field of a freeze request', () => {
    const now = at('2024-05-01T12:00:00Z');
    expect(freezeInputErrors({ reason: 'x' }, now)).toEqual([expect.objectContaining({ path: 'recurrence' })]);
    expect(freezeInputErrors({ reason: 'x', recurrence: { cron: '0 9 * *', duration_minutes: 0, timezone: 'Europe/Londres' } }, now).map((e) => e.path)).toEqual([
      'recurrence.cron',
      'recurrence.duration_minutes',
      'recurrence.timezone',
    ]);
    expect(freezeInputErrors({ reason: 'x', recurrence: { cron: '0 9 * * *', duration_minutes: 60, timezone: 'UTC' }, starts_at: '2024-06-01T00:00:00Z' }, now)).toEqual([
      expect.objectContaining({ path: 'recurrence', message: expect.stringContaining('not both') }),
    ]);
    expect(freezeInputErrors({ reason: 'x', starts_at: '2024-06-02T00:00:00Z', ends_at: '2024-06-01T00:00:00Z' }, now)).toEqual([expect.objectContaining({ path: 'ends_at' })]);
    expect(freezeInputErrors({ reason: 'x', starts_at: '2024-04-01T00:00:00Z', ends_at: '2024-04-02T00:00:00Z' }, now)).toEqual([expect.objectContaining({ path: 'ends_at', message: expect.stringContaining('past') })]);
    expect(freezeInputErrors({ reason: 'x', starts_at: '2024-06-01T00:00:00', ends_at: '2024-06-02T00:00:00Z' }, now)).toEqual([expect.objectContaining({ path: 'starts_at' })]);
    expect(freezeInputErrors({ reason: 'x', recurrence: { cron: '0 9 * * 1-5', duration_minutes: 480, timezone: 'Europe/London' } }, now)).toEqual([]);
  });
});
