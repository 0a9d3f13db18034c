/**
 * When a recurring freeze window last opened: its cron read in an IANA zone, with
 * the same evaluator (and EventBridge Scheduler's daylight-saving rules) that
 * schedules fire by (fire-times.ts): a local time that does not exist that day
 * (clocks spring forward over it) never fires, and one that occurs twice (clocks
 * fall back) fires once, at its first occurrence.
 */
import type { ParsedCron } from '../cron.js';
import { fireTimes } from '../fire-times.js';
import { checkTimeZone } from '../time-zone.js';

/** Whether `timeZone` is an IANA zone name as schedules accept it (`Europe/London`, `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  return checkTimeZone(timeZone).ok;
}

/** Why `timeZone` is not one, in the words schedules use. */
export function timeZoneProblem(timeZone: string): string | undefined {
  const check = checkTimeZone(timeZone);
  return check.ok ? undefined : check.message;
}

/**
 * The latest fire time of `cron`, read as local time in `timeZone`, that is at
 * or before `at` and not earlier than `at - lookbackMs`; undefined if none.
 */
export function latestFireAtOrBefore(cron: ParsedCron, timeZone: string, at: number, lookbackMs: number): number | undefined {
  let latest: number | undefined;
  for (const time of fireTimes(cron, { timezone: timeZone, startDate: null, endDate: new Date(at + 1) }, new Date(at - lookbackMs - 1))) latest = time.getTime();
  return latest;
}
