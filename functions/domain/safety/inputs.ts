import { InvalidCronError, parseUnixCron } from '../cron.js';
import type { FieldError } from '../errors.js';
import type { StringMap } from '../types.js';
import { MAX_FREEZE_MINUTES, type FreezeRecurrence } from './freeze.js';
import type { SafetyScope } from './scope.js';
import { timeZoneProblem } from './zoned-time.js';

export interface ScopeInput {
  labels?: StringMap;
}

export interface HaltInput {
  reason: string;
  scope?: ScopeInput;
  expires_at?: string;
}

export interface FreezeInput {
  reason: string;
  scope?: ScopeInput;
  recurrence?: FreezeRecurrence;
  starts_at?: string;
  ends_at?: string;
}

export function scopeOf(input: ScopeInput | undefined): SafetyScope {
  return { labels: { ...(input?.labels ?? {}) } };
}

/** An ISO 8601 instant with a zone (Z or ±hh:mm), as the schema's date-time; NaN when it is not one. */
function instant(text: string): number {
  return /(Z|[+-]\d{2}:\d{2})$/i.test(text) ? Date.parse(text) : Number.NaN;
}

/** What the schema cannot check about a halt: an expiry, when given, is a future instant. */
export function haltInputErrors(input: HaltInput, now: Date): FieldError[] {
  if (input.expires_at === undefined) return [];
  const at = instant(input.expires_at);
  if (Number.isNaN(at)) return [{ path: 'expires_at', message: 'must be an ISO 8601 date-time with a zone, e.g. 2024-05-01T18:00:00Z' }];
  if (at <= now.getTime()) return [{ path: 'expires_at', message: `must be in the future (now is ${now.toISOString()})` }];
  return [];
}

/** A freeze window is either recurring (cron + duration + time zone) or one range; the range ends after it starts and not in the past. */
export function freezeInputErrors(input: FreezeInput, now: Date): FieldError[] {
  const errors: FieldError[] = [];
  const ranged = input.starts_at !== undefined || input.ends_at !== undefined;
  if (input.recurrence && ranged) return [{ path: 'recurrence', message: 'give either recurrence or starts_at/ends_at, not both' }];
  if (!input.recurrence && !ranged) return [{ path: 'recurrence', message: 'give either recurrence (cron, duration_minutes, timezone) or starts_at and ends_at' }];
  if (input.recurrence) {
    const { cron, duration_minutes: minutes, timezone } = input.recurrence;
    try {
      parseUnixCron(cron);
    } catch (error) {
      if (!(error instanceof InvalidCronError)) throw error;
      errors.push({ path: 'recurrence.cron', message: error.message });
    }
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_FREEZE_MINUTES) {
      errors.push({ path: 'recurrence.duration_minutes', message: `must be a whole number of minutes from 1 to ${MAX_FREEZE_MINUTES} (a week); use starts_at/ends_at for longer freezes` });
    }
    const zoneProblem = timeZoneProblem(timezone);
    if (zoneProblem) errors.push({ path: 'recurrence.timezone', message: zoneProblem });
    return errors;
  }
  for (const name of ['starts_at', 'ends_at'] as const) {
    const value = input[name];
    if (value === undefined) errors.push({ path: name, message: 'is required for a one-off window' });
    else if (Number.isNaN(instant(value))) errors.push({ path: name, message: 'must be an ISO 8601 date-time with a zone, e.g. 2024-12-24T00:00:00Z' });
  }
  if (errors.length > 0) return errors;
  const start = instant(input.starts_at as string);
  const end = instant(input.ends_at as string);
  if (end <= start) errors.push({ path: 'ends_at', message: 'must be after starts_at' });
  else if (end <= now.getTime()) errors.push({ path: 'ends_at', message: `is in the past (now is ${now.toISOString()}); the window could never apply` });
  return errors;
}

export function normaliseInstant(text: string): string {
  return new Date(instant(text)).toISOString();
}
