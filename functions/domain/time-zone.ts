/**
 * IANA time zones, with the runtime's own time-zone database (Intl), no library.
 *
 * A schedule's cron fields are read as wall-clock time in its zone. These helpers
 * answer the two questions that needs: what is the wall-clock time at an instant,
 * and which instants show a given wall-clock time (none in a spring-forward gap,
 * two in a fall-back overlap).
 */

/** Wall-clock fields; month 1-12, dayOfWeek 0 = Sunday ... 6 = Saturday. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly dayOfWeek: number;
}

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
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The wall-clock time in `timeZone` at the instant `ms` (milliseconds since the epoch). */
export function wallClock(timeZone: string, ms: number): WallClock {
  const fields: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) fields[part.type] = part.value;
  const yearOfEra = Number(fields['year']);
  const year = fields['era'] === 'BC' || fields['era'] === 'B' ? 1 - yearOfEra : yearOfEra;
  const month = Number(fields['month']);
  const day = Number(fields['day']);
  const dayOfWeek = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return { year, month, day, hour: Number(fields['hour']), minute: Number(fields['minute']), second: Number(fields['second']), dayOfWeek };
}

/** Offset from UTC in minutes (east positive) at the instant `ms`, e.g. -300 for New York in winter. */
export function offsetMinutes(timeZone: string, ms: number): number {
  const wall = wallClock(timeZone, ms);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const whole = Math.floor(ms / 1000) * 1000;
  return Math.round((asUtc - whole) / 60_000);
}

const DAY_MS = 86_400_000;

/**
 * The instants (ascending) at which the wall clock in `timeZone` shows the local time
 * `localMs` (the local fields written as if they were UTC): none inside a spring-forward
 * gap, two inside a fall-back overlap, otherwise one. Assumes no zone changes its offset
 * twice within a day, which holds for every zone in the current database.
 */
export function instantsAt(timeZone: string, localMs: number): number[] {
  const offsets = new Set([offsetMinutes(timeZone, localMs - DAY_MS), offsetMinutes(timeZone, localMs), offsetMinutes(timeZone, localMs + DAY_MS)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const instant = localMs - offset * 60_000;
    if (offsetMinutes(timeZone, instant) === offset) found.add(instant);
  }
  return [...found].sort((a, b) => a - b);
}

/** `2026-03-09T09:00:00-04:00`: the wall-clock time in `timeZone` with its offset. */
export function formatLocal(timeZone: string, ms: number): string {
  const wall = wallClock(timeZone, ms);
  const offset = offsetMinutes(timeZone, ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const zone = `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
  return `${String(wall.year).padStart(4, '0')}-${two(wall.month)}-${two(wall.day)}T${two(wall.hour)}:${two(wall.minute)}:${two(wall.second)}${zone}`;
}

/** The answer to "is this a time zone": its name as stored, or why not. */
export type TimeZoneCheck = { ok: true; name: string } | { ok: false; message: string };

/** Each segment of an IANA name starts with a capital (`America/New_York`, `Etc/GMT+5`, `EST5EDT`, `UTC`). */
const IANA_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

/**
 * Accepts an IANA time-zone name exactly as the database spells it (EventBridge
 * Scheduler reads `ScheduleExpressionTimezone` case-sensitively). Offsets such as
 * `+05:00` and abbreviations the database does not know are refused.
 */
export function checkTimeZone(name: string): TimeZoneCheck {
  if (typeof name !== 'string' || name.length === 0 || name.length > 50) {
    return { ok: false, message: 'must be an IANA time zone name such as "Europe/London" (1-50 characters)' };
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return { ok: false, message: `unknown time zone "${name}": use an IANA name such as "America/New_York", "Europe/London" or "UTC"` };
  }
  if (name === resolved || Intl.supportedValuesOf('timeZone').includes(name)) return { ok: true, name };
  if (name.toLowerCase() === resolved.toLowerCase() || !IANA_SHAPE.test(name)) {
    return { ok: false, message: `time zone "${name}" is not spelled as in the IANA database (names are case-sensitive): did you mean "${resolved}"?` };
  }
  // A link such as US/Eastern or Asia/Kolkata: a valid IANA name the runtime files under another.
  return { ok: true, name };
}
