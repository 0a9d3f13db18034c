/**
 * When a schedule fires: its Unix cron fields read as wall-clock time in its time
 * zone, with EventBridge Scheduler's daylight-saving rules.
 *
 * - A wall-clock time that does not exist (skipped when clocks spring forward)
 *   does not fire that day.
 * - A wall-clock time that occurs twice (clocks fall back) fires once, at its
 *   first occurrence. This holds for every matching time in the repeated
 *   interval, so `*\/15 * * * *` in New York fires 01:00, 01:15, 01:30, 01:45 EDT
 *   and then 02:00 EST on the fall-back night.
 * - `start_date` is inclusive (EventBridge: invocations occur "on, or after"
 *   it); `end_date` is exclusive (the date "before which" it invokes).
 *
 * The local scheduler, the preview and the EndDate the cloud adapter computes
 * all come from here, so what a user previews is what local mode fires.
 */
import { parseUnixCron, type ParsedCron } from './cron.js';
import { instantsAt, offsetMinutes } from './time-zone.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** EventBridge Scheduler's cron year field ends at 2199; nothing fires after it. */
const LAST_YEAR = 2199;

export interface FireWindow {
  /** IANA name, already checked. */
  readonly timezone: string;
  /** First instant a firing may have (inclusive). */
  readonly startDate?: Date | null;
  /** Firings happen strictly before this instant. */
  readonly endDate?: Date | null;
}

function dayMatches(cron: ParsedCron, day: number, dayOfWeek: number): boolean {
  const byMonthDay = cron.daysOfMonth.includes(day);
  const byWeekday = cron.daysOfWeek.includes(dayOfWeek);
  if (cron.dayOfMonthRestricted && cron.dayOfWeekRestricted) return byMonthDay || byWeekday;
  if (cron.dayOfMonthRestricted) return byMonthDay;
  if (cron.dayOfWeekRestricted) return byWeekday;
  return true;
}

/**
 * Fire times strictly after `after`, ascending, within the window. Lazy: take as
 * many as needed. Walks the local calendar a day at a time and turns each
 * matching wall-clock time into its instant.
 */
export function* fireTimes(cron: ParsedCron, window: FireWindow, after: Date): Generator<Date> {
  const zone = window.timezone;
  const startMs = window.startDate ? window.startDate.getTime() : -Infinity;
  const endMs = window.endDate ? window.endDate.getTime() : Infinity;
  const floor = Math.max(after.getTime() + 1, startMs);
  if (!(floor < endMs)) return;

  // The local day before the one `floor` falls on: a fall-back overlap can put the
  // first occurrence of that day's late times just before `floor`.
  const local = floor + offsetMinutes(zone, floor) * MINUTE_MS;
  let day = Math.floor(local / DAY_MS) * DAY_MS - DAY_MS;

  for (;;) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    if (year > LAST_YEAR) return;
    // Every instant of this local day is at least 14 hours before the day's end, so a
    // day starting after endMs + 14h cannot fire before endMs.
    if (day - 14 * HOUR_MS > endMs) return;
    const month = date.getUTCMonth() + 1;
    if (!cron.months.includes(month)) {
      day = Date.UTC(year, month, 1);
      continue;
    }
    if (dayMatches(cron, date.getUTCDate(), date.getUTCDay())) {
      // One offset around the whole day (no transition within two days either side)
      // means every wall-clock time maps to exactly one instant.
      const before = offsetMinutes(zone, day - 2 * DAY_MS);
      const steady = before === offsetMinutes(zone, day + 3 * DAY_MS);
      for (const hour of cron.hours) {
        for (const minute of cron.minutes) {
          const wall = day + hour * HOUR_MS + minute * MINUTE_MS;
          const instant = steady ? wall - before * MINUTE_MS : instantsAt(zone, wall)[0];
          if (instant === undefined || instant < floor) continue;
          if (instant >= endMs) return;
          yield new Date(instant);
        }
      }
    }
    day += DAY_MS;
  }
}

/** The next `count` fire times of a Unix pattern in a zone, strictly after `after`. */
export function nextZonedFireTimes(pattern: string | ParsedCron, window: FireWindow, after: Date, count: number): Date[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
  const cron = typeof pattern === 'string' ? parseUnixCron(pattern) : pattern;
  const out: Date[] = [];
  if (count === 0) return out;
  for (const time of fireTimes(cron, window, after)) {
    out.push(time);
    if (out.length >= count) break;
  }
  return out;
}
