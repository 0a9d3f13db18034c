/**
 * The times chaosprometheus accepts (it parses them with `dateparser`), in the forms
 * experiments use: `now`, RFC 3339 / ISO 8601 dates, Unix timestamps, and relative
 * phrases such as `5 minutes ago`, `1 hour 30 minutes ago` or `in 10 seconds`.
 */
const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
};
const AMOUNT = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;
const RELATIVE = /^(?:in\s+)?(?:\d+(?:\.\d+)?\s*[a-z]+\s*)+(?:ago)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;
const UNIX = /^\d{9,11}(?:\.\d+)?$/;

export const TIME_HELP = 'use "now", an RFC 3339 date (2026-01-02T03:04:05Z), a Unix timestamp, or a relative time such as "5 minutes ago" or "1 hour 30 minutes ago"';

/** The instant `text` names, relative to `now`; undefined when it is not understood. */
export function parseTime(text: string | number, now: Date): Date | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? new Date(text * 1000) : undefined;
  const value = text.trim().toLowerCase();
  if (value === 'now') return new Date(now.getTime());
  if (UNIX.test(value)) return new Date(Number(value) * 1000);
  if (ISO_DATE.test(value)) {
    // A date without a zone is UTC (dateparser's RETURN_AS_TIMEZONE_AWARE on a UTC host).
    const zoned = /(z|[+-]\d{2}:?\d{2})$/.test(value) || !value.includes(':') ? value : `${value}Z`;
    const ms = Date.parse(zoned.replace(' ', 'T').toUpperCase());
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  if (!RELATIVE.test(value) || (value.startsWith('in ') && value.endsWith('ago')) || (!value.startsWith('in ') && !value.endsWith('ago'))) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(AMOUNT)) {
    if (unit === 'ago' || unit === 'in') continue;
    const factor = UNIT_SECONDS[unit as string];
    if (factor === undefined) return undefined;
    seconds += Number(amount) * factor;
  }
  const sign = value.startsWith('in ') ? 1 : -1;
  return new Date(now.getTime() + sign * seconds * 1000);
}
