/**
 * Wall-clock time in an IANA time zone, with EventBridge Scheduler's daylight
 * saving rules for cron times: a local time that does not exist (clocks spring
 * forward over it) never fires, and a local time that occurs twice (clocks fall
 * back) fires once, at its first occurrence.
 *
 * Only `Intl` is used (the zone data Node ships), so the domain needs no library.
 */
import type { ParsedCron } from '../cron.js';

export interface WallTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday ... 6 = Saturday */
  weekday: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA zone name this runtime knows (`Europe/London`, `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone === '' || timeZone.length > 64) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock time of an instant in `timeZone` (seconds dropped). */
export function wallTimeOf(instant: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    weekday: WEEKDAYS[parts['weekday'] ?? ''] ?? 0,
  };
}

function sameMinute(a: WallTime, b: Omit<WallTime, 'weekday'>): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;
}

/** Offset of `timeZone` from UTC at an instant, in ms (local minus UTC). */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallTimeOf(instant, timeZone);
  const floored = instant - (((instant % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute) - floored;
}

/**
 * The first instant whose local time in `timeZone` is the given wall-clock
 * minute, or undefined when that minute does not exist there (a spring-forward gap).
 */
export function instantOf(wall: Omit<WallTime, 'weekday'>, timeZone: string): number | undefined {
  const naive = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  // Any transition near this minute lies between the offsets a day either side of it.
  const candidates = [...new Set([naive - offsetAt(naive - DAY_MS, timeZone), naive - offsetAt(naive + DAY_MS, timeZone)])].sort((a, b) => a - b);
  return candidates.find((instant) => sameMinute(wallTimeOf(instant, timeZone), wall));
}

/** Whether a local calendar day is one a cron pattern fires on (POSIX day-field rule, as cron.ts documents). */
function dayMatches(cron: ParsedCron, year: number, month: number, day: number): boolean {
  if (!cron.months.includes(month)) return false;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const domOk = cron.daysOfMonth.includes(day);
  const dowOk = cron.daysOfWeek.includes(weekday);
  if (cron.dayOfMonthRestricted && cron.dayOfWeekRestricted) return domOk || dowOk;
  if (cron.dayOfMonthRestricted) return domOk;
  if (cron.dayOfWeekRestricted) return dowOk;
  return true;
}

/**
 * The latest fire time of `cron`, read as local time in `timeZone`, that is at
 * or before `at` and not earlier than `at - lookbackMs`; undefined if none.
 */
export function latestFireAtOrBefore(cron: ParsedCron, timeZone: string, at: number, lookbackMs: number): number | undefined {
  const local = wallTimeOf(at, timeZone);
  const localMinuteOfDay = local.hour * 60 + local.minute;
  // Local days from today backwards, one more than the look-back covers (a day can be 25 hours).
  const days = Math.ceil(lookbackMs / DAY_MS) + 1;
  const hours = [...cron.hours].sort((a, b) => b - a);
  const minutes = [...cron.minutes].sort((a, b) => b - a);
  for (let back = 0; back <= days; back += 1) {
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day - back));
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(cron, year, month, day)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        // Today, a wall time well after now cannot be at or before `at` (2 h covers any zone's DST shift).
        if (back === 0 && hour * 60 + minute > localMinuteOfDay + 120) continue;
        const instant = instantOf({ year, month, day, hour, minute }, timeZone);
        if (instant === undefined || instant > at) continue;
        return instant >= at - lookbackMs ? instant : undefined;
      }
    }
  }
  return undefined;
}
