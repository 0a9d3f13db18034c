/**
 * Validation of a schedule's production options (time zone, pause, dates,
 * jitter, overlap, deadline, catch-up). Every problem is reported with the
 * field it concerns, all at once.
 */
import { ValidationError, type FieldError } from './errors.js';
import { SCHEDULE_DEFAULTS, SCHEDULE_OPTION_NAMES, type ScheduleOptions } from './schedule.js';
import { checkTimeZone } from './time-zone.js';

/** EventBridge Scheduler's flexible window is 1-1440 whole minutes; Kallisti allows up to an hour. */
export const MAX_JITTER_SECONDS = 3600;
/** A day: a firing later than that is not worth a deadline, it is a backlog. */
export const MAX_STARTING_DEADLINE_SECONDS = 86_400;
/** EventBridge's cron year field ends at 2199. */
const LAST_INSTANT = Date.UTC(2200, 0, 1);

/** ISO 8601 date-time with a zone (`Z` or `±hh:mm`); a date alone or a local time is ambiguous. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(value: unknown, path: string, errors: FieldError[]): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string' || !ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    errors.push({ path, message: 'must be an ISO 8601 date-time with a time zone, e.g. "2027-01-04T09:00:00Z" or "2027-01-04T09:00:00-05:00"' });
    return undefined;
  }
  const ms = Date.parse(value);
  if (ms >= LAST_INSTANT) {
    errors.push({ path, message: 'must be before 2200-01-01 (the last year EventBridge Scheduler cron can express is 2199)' });
    return undefined;
  }
  return new Date(ms).toISOString();
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, errors: FieldError[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  errors.push({ path, message: `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}` });
  return undefined;
}

/**
 * The options a request gives, checked and normalised (dates to UTC with
 * milliseconds), merged over `base` (the stored schedule for PATCH, the
 * defaults for POST and PUT). `now` judges an end date in the past.
 * @throws ValidationError naming each bad field.
 */
export function resolveScheduleOptions(input: Partial<Record<keyof ScheduleOptions, unknown>>, base: ScheduleOptions, now: Date): ScheduleOptions {
  const errors: FieldError[] = [];
  // Only the options of `base` (a stored schedule has more fields).
  const out = Object.fromEntries(SCHEDULE_OPTION_NAMES.map((name) => [name, base[name]])) as unknown as ScheduleOptions;

  if (input.timezone !== undefined) {
    const check = checkTimeZone(input.timezone as string);
    if (check.ok) out.timezone = check.name;
    else errors.push({ path: 'timezone', message: check.message });
  }
  out.state = oneOf(input.state, ['ENABLED', 'DISABLED'] as const, 'state', errors) ?? out.state;
  out.overlap = oneOf(input.overlap, ['queue', 'skip'] as const, 'overlap', errors) ?? out.overlap;
  out.catch_up = oneOf(input.catch_up, ['none', 'latest'] as const, 'catch_up', errors) ?? out.catch_up;

  const start = instant(input.start_date, 'start_date', errors);
  if (start !== undefined) out.start_date = start;
  const end = instant(input.end_date, 'end_date', errors);
  if (end !== undefined) {
    if (end !== null && Date.parse(end) <= now.getTime()) errors.push({ path: 'end_date', message: `is in the past (${end}): the schedule would never fire` });
    else out.end_date = end;
  }
  if (out.start_date && out.end_date && Date.parse(out.start_date) >= Date.parse(out.end_date) && !errors.some((e) => e.path.endsWith('_date'))) {
    errors.push({ path: 'end_date', message: `must be after start_date (${out.start_date})` });
  }

  if (input.jitter_seconds !== undefined) {
    const jitter = input.jitter_seconds;
    if (typeof jitter !== 'number' || !Number.isInteger(jitter) || jitter < 0 || jitter > MAX_JITTER_SECONDS || jitter % 60 !== 0) {
      errors.push({
        path: 'jitter_seconds',
        message: `must be a whole number of minutes in seconds from 0 to ${MAX_JITTER_SECONDS} (0, 60, 120, ...): EventBridge Scheduler's flexible time window is set in whole minutes`,
      });
    } else out.jitter_seconds = jitter;
  }
  if (input.starting_deadline_seconds !== undefined) {
    const deadline = input.starting_deadline_seconds;
    if (deadline === null) out.starting_deadline_seconds = null;
    else if (typeof deadline !== 'number' || !Number.isInteger(deadline) || deadline < 1 || deadline > MAX_STARTING_DEADLINE_SECONDS) {
      errors.push({ path: 'starting_deadline_seconds', message: `must be null or a whole number of seconds from 1 to ${MAX_STARTING_DEADLINE_SECONDS}` });
    } else out.starting_deadline_seconds = deadline;
  }
  if (out.starting_deadline_seconds !== null && out.starting_deadline_seconds <= out.jitter_seconds && !errors.some((e) => e.path === 'jitter_seconds' || e.path === 'starting_deadline_seconds')) {
    errors.push({
      path: 'starting_deadline_seconds',
      message: `must be greater than jitter_seconds (${out.jitter_seconds}): a firing may start up to jitter_seconds after its scheduled time by design`,
    });
  }

  if (errors.length > 0) throw new ValidationError(`Invalid ${errors.map((e) => e.path).join(', ')}`, errors);
  return out;
}

export { SCHEDULE_DEFAULTS };
