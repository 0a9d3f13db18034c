import { parseUnixCron } from '../cron.js';
import type { SafetyScope } from './scope.js';
import { latestFireAtOrBefore } from './zoned-time.js';

/** `cron` (5-field Unix, read in `timezone`) says when the window opens; it stays open `duration_minutes`. */
export interface FreezeRecurrence {
  cron: string;
  duration_minutes: number;
  /** IANA zone, e.g. `Europe/London`: the window follows its daylight saving changes. */
  timezone: string;
}

/**
 * A period in which no trial in scope may start: recurring (`recurrence`) or
 * one-off (`starts_at` to `ends_at`). Deleting one keeps it, marked, for audit.
 */
export interface FreezeWindow {
  id: string;
  reason: string;
  scope: SafetyScope;
  recurrence: FreezeRecurrence | null;
  starts_at: string | null;
  ends_at: string | null;
  created_by: string;
  created_at: string;
  deleted_by?: string;
  deleted_at?: string;
}

/** Longest recurring window: a week (longer freezes are one-off ranges). */
export const MAX_FREEZE_MINUTES = 7 * 24 * 60;

export interface Occurrence {
  start: Date;
  end: Date;
}

/** The occurrence of `window` that covers instant `at` (start inclusive, end exclusive), if any. */
export function freezeOccurrenceAt(window: FreezeWindow, at: Date): Occurrence | undefined {
  if (window.deleted_at !== undefined) return undefined;
  const time = at.getTime();
  if (window.recurrence) {
    const { cron, duration_minutes, timezone } = window.recurrence;
    const durationMs = duration_minutes * 60_000;
    // Only a start less than one duration ago can still cover `at`.
    const start = latestFireAtOrBefore(parseUnixCron(cron), timezone, time, durationMs - 1);
    return start === undefined ? undefined : { start: new Date(start), end: new Date(start + durationMs) };
  }
  if (window.starts_at === null || window.ends_at === null) return undefined;
  const start = Date.parse(window.starts_at);
  const end = Date.parse(window.ends_at);
  return start <= time && time < end ? { start: new Date(start), end: new Date(end) } : undefined;
}

/** Whether a one-off window is over for good (recurring ones never are). */
export function isFreezeOver(window: FreezeWindow, now: Date): boolean {
  return window.recurrence === null && window.ends_at !== null && Date.parse(window.ends_at) <= now.getTime();
}

export function describeFreeze(window: FreezeWindow, occurrence: Occurrence): string {
  const zone = window.recurrence ? ` (${window.recurrence.timezone} "${window.recurrence.cron}" for ${window.recurrence.duration_minutes} min)` : '';
  return `freeze window ${window.id} ("${window.reason}") from ${occurrence.start.toISOString()} until ${occurrence.end.toISOString()}${zone}`;
}
