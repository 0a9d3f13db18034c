/**
 * Validation of the Unix cron patterns of recurring experiments.
 *
 * Users write standard 5-field Unix cron, evaluated in UTC:
 *
 *   minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12 | JAN-DEC)  day-of-week (0-7 | SUN-SAT, 0 and 7 = Sunday)
 *
 * Each field is `*` or a comma-separated list of items; an item is a value, a range `a-b`, or a
 * step over `*`, a range or a start value (`*` followed by `/n`, `a-b/n`, `a/n`, where `a/n` means
 * `a-max/n`).
 * Names are case-insensitive. `?` is accepted as an alias of `*` in the two day fields only.
 * Repeated values (`0,7` in day-of-week, `1-5,3`) are accepted and mean the union.
 *
 * Deliberately rejected:
 * - wrap-around ranges such as `22-2` or `SAT-MON`: cron implementations disagree on them (and
 *   cron-parser, which runs the local scheduler, rejects them), so the error asks for an ascending
 *   list instead, e.g. `22-23,0-2`;
 * - non-standard extensions (`L`, `W`, `#`, `H`, `@daily`, a seconds field);
 * - patterns that can never fire, such as `0 0 31 2 *`.
 *
 * Day matching follows cron-parser (and POSIX): a day field counts as restricted unless it is
 * exactly `*` (or `?`). When both day fields are restricted a day matches if EITHER matches;
 * otherwise only the restricted one applies. Unlike Vixie cron, a step over a star (every
 * second day, for example) therefore counts as restricted.
 *
 * Conversion to EventBridge Scheduler expressions is in cron-conversion.ts.
 */
import { CronExpressionParser } from 'cron-parser';

/** A recurrence pattern the API must refuse; the message is meant for the API user. */
export class InvalidCronError extends Error {
  override readonly name = 'InvalidCronError';
}

export interface ParsedCron {
  /** The pattern as given, trimmed. */
  readonly pattern: string;
  /** Sorted, de-duplicated values of each field. */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday ... 6 = Saturday (a Unix 7 is folded into 0). */
  readonly daysOfWeek: readonly number[];
  /** False when the field is exactly `*` or `?`. */
  readonly dayOfMonthRestricted: boolean;
  readonly dayOfWeekRestricted: boolean;
  /** An equivalent 5-field expression with numbers only and no repeated values. */
  readonly canonical: string;
}

type FieldName = 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week';

interface FieldSpec {
  readonly name: FieldName;
  readonly min: number;
  /** Highest value accepted in the text (7 for day-of-week, which is folded into 0). */
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
  readonly questionMark: boolean;
}

export const MONTH_NAMES: Readonly<Record<string, number>> = {
  JAN: 1, FEB: 2, MAR: 3, APR: 4, MAY: 5, JUN: 6, JUL: 7, AUG: 8, SEP: 9, OCT: 10, NOV: 11, DEC: 12,
};
const DAY_NAMES: Readonly<Record<string, number>> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };
const MONTH_LABELS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
/** Longest length of each month in any year (February has 29 days in leap years). */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59, questionMark: false },
  { name: 'hour', min: 0, max: 23, questionMark: false },
  { name: 'day-of-month', min: 1, max: 31, questionMark: true },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, questionMark: false },
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, questionMark: true },
];

const MAX_PATTERN_LENGTH = 1024;
/** Any fixed instant works: it only anchors cron-parser's sanity check of the canonical form. */
const SANITY_CHECK_FROM = new Date(Date.UTC(2000, 0, 1));

interface ParsedField {
  readonly values: number[];
  readonly restricted: boolean;
}

function fieldError(spec: FieldSpec, text: string, detail: string): InvalidCronError {
  return new InvalidCronError(`${spec.name} field "${text}": ${detail}`);
}

function rangeHint(spec: FieldSpec): string {
  if (spec.name === 'month') return '1-12 or JAN-DEC';
  if (spec.name === 'day-of-week') return '0-7 (0 and 7 are Sunday) or SUN-SAT';
  return `${spec.min}-${spec.max}`;
}

function parseValue(spec: FieldSpec, fieldText: string, token: string): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) {
      throw fieldError(spec, fieldText, `value ${token} is out of range ${rangeHint(spec)}`);
    }
    return value;
  }
  const upper = token.toUpperCase();
  if (spec.names && Object.hasOwn(spec.names, upper)) {
    return spec.names[upper] as number;
  }
  if (token === '') {
    throw fieldError(spec, fieldText, 'a value is missing');
  }
  if (/^(\d*L|LW|\d+W)$/i.test(token)) {
    throw fieldError(spec, fieldText, `"${token}" (last day / nearest weekday) is not standard Unix cron and is not supported`);
  }
  if (/^H(\(|$)/i.test(token)) {
    throw fieldError(spec, fieldText, `"${token}" (hashed value) is not standard Unix cron and is not supported`);
  }
  if (spec.names) {
    const example = spec.name === 'month' ? 'JAN-DEC' : 'SUN-SAT';
    throw fieldError(spec, fieldText, `"${token}" is neither a number nor a name (${example})`);
  }
  throw fieldError(spec, fieldText, `"${token}" is not a number`);
}

function wrapAroundHint(spec: FieldSpec, from: number, to: number): string {
  if (spec.name === 'day-of-week') {
    // 7 is Sunday, so "7-2" already means "0-2"; otherwise split at Saturday.
    if (from === 7) return `"0-${to}"`;
    const head = from === 6 ? '6' : `${from}-6`;
    const tail = to === 0 ? '0' : `0-${to}`;
    return `"${tail},${head}"`;
  }
  const head = from === spec.max ? `${from}` : `${from}-${spec.max}`;
  const tail = to === spec.min ? `${to}` : `${spec.min}-${to}`;
  return `"${head},${tail}"`;
}

function parseItem(spec: FieldSpec, fieldText: string, item: string, into: Set<number>): void {
  if (item === '') {
    throw fieldError(spec, fieldText, 'empty list item (check the commas)');
  }
  const parts = item.split('/');
  if (parts.length > 2) {
    throw fieldError(spec, fieldText, `"${item}" has more than one "/"`);
  }
  const [base = '', stepText] = parts;
  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
      throw fieldError(spec, fieldText, `step "${stepText}" in "${item}" must be a positive whole number`);
    }
    step = Number(stepText);
  }
  let from: number;
  let to: number;
  if (base === '*') {
    from = spec.min;
    to = spec.max;
  } else {
    const bounds = base.split('-');
    if (bounds.length > 2) {
      throw fieldError(spec, fieldText, `"${base}" is not a valid range`);
    }
    const [fromText = '', toText] = bounds;
    from = parseValue(spec, fieldText, fromText);
    if (toText === undefined) {
      // "a/n" means "a-max/n"; a plain value is just itself.
      to = stepText === undefined ? from : spec.max;
    } else {
      to = parseValue(spec, fieldText, toText);
      if (from > to) {
        throw fieldError(
          spec,
          fieldText,
          `range "${base}" wraps around (${from} > ${to}); wrap-around ranges are not supported, write it as a list such as ${wrapAroundHint(spec, from, to)}`,
        );
      }
    }
  }
  for (let value = from; value <= to; value += step) {
    into.add(spec.name === 'day-of-week' ? value % 7 : value);
  }
}

function parseField(spec: FieldSpec, text: string): ParsedField {
  const all = (): number[] => {
    const values: number[] = [];
    const max = spec.name === 'day-of-week' ? 6 : spec.max;
    for (let v = spec.min; v <= max; v++) values.push(v);
    return values;
  };
  if (text === '*') return { values: all(), restricted: false };
  if (text === '?') {
    if (!spec.questionMark) {
      throw fieldError(spec, text, '"?" is only allowed in the day-of-month and day-of-week fields');
    }
    return { values: all(), restricted: false };
  }
  if (text.includes('#')) {
    throw fieldError(spec, text, '"#" (nth weekday of the month) is not standard Unix cron and is not supported');
  }
  if (text.includes('?')) {
    throw fieldError(spec, text, '"?" must be the whole field');
  }
  const bad = /[^0-9A-Za-z*,/-]/.exec(text);
  if (bad) {
    throw fieldError(spec, text, `unexpected character "${bad[0]}"`);
  }
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item.includes('*') && !/^\*(\/|$)/.test(item)) {
      throw fieldError(spec, text, `"${item}": "*" can only be used alone or as "*/step"`);
    }
    parseItem(spec, text, item, values);
  }
  return { values: [...values].sort((a, b) => a - b), restricted: true };
}

/** Groups consecutive values into runs: [[1,2,3],[5],[7,8]]. */
function runs(values: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const value of values) {
    const last = out[out.length - 1];
    if (last && last[last.length - 1] === value - 1) last.push(value);
    else out.push([value]);
  }
  return out;
}

/** Sorted values as a list, with runs of three or more written as `a-b`. */
export function renderList(values: readonly number[]): string {
  return runs(values)
    .map((run) => (run.length >= 3 ? `${run[0]}-${run[run.length - 1]}` : run.join(',')))
    .join(',');
}

function monthList(months: readonly number[]): string {
  const names = months.map((m) => MONTH_LABELS[m - 1] ?? String(m));
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** Length of the longest selected month in any year (February counted with 29 days). */
export function longestSelectedMonth(months: readonly number[]): number {
  return Math.max(...months.map((m) => MAX_DAYS_IN_MONTH[m - 1] ?? 31));
}

/** Days of month that exist in at least one of the selected months. */
export function reachableDays(daysOfMonth: readonly number[], months: readonly number[]): number[] {
  const longest = longestSelectedMonth(months);
  return daysOfMonth.filter((d) => d <= longest);
}

/**
 * Validates a 5-field Unix cron pattern (UTC) and returns its expanded fields.
 * @throws InvalidCronError with a message suitable for the API user.
 */
export function parseUnixCron(pattern: string): ParsedCron {
  if (typeof pattern !== 'string') {
    throw new InvalidCronError('must be a string');
  }
  const trimmed = pattern.trim();
  if (trimmed.length > MAX_PATTERN_LENGTH) {
    throw new InvalidCronError(`too long (${trimmed.length} characters, at most ${MAX_PATTERN_LENGTH})`);
  }
  const texts = trimmed === '' ? [] : trimmed.split(/\s+/);
  if (texts.length !== FIELDS.length) {
    throw new InvalidCronError(
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${texts.length}`,
    );
  }
  const [minute, hour, dom, month, dow] = FIELDS.map((spec, i) => parseField(spec, texts[i] as string)) as [
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
  ];

  // Only a restricted day-of-month on its own can make the pattern impossible; a restricted
  // day-of-week always matches some day of every month.
  if (dom.restricted && !dow.restricted && reachableDays(dom.values, month.values).length === 0) {
    const days = dom.values.length === 1 ? `day ${dom.values[0]} of the month does` : `days ${dom.values.join(', ')} of the month do`;
    throw new InvalidCronError(`never fires: ${days} not occur in ${monthList(month.values)}`);
  }

  const canonical = [
    minute.values.length === 60 ? '*' : renderList(minute.values),
    hour.values.length === 24 ? '*' : renderList(hour.values),
    dom.restricted ? renderList(dom.values) : '*',
    month.values.length === 12 ? '*' : renderList(month.values),
    dow.restricted ? renderList(dow.values) : '*',
  ].join(' ');

  // Second opinion from the library the local scheduler runs on.
  try {
    CronExpressionParser.parse(canonical, { currentDate: SANITY_CHECK_FROM, tz: 'UTC' }).next();
  } catch (error) {
    throw new InvalidCronError(`not a valid cron expression: ${(error as Error).message}`);
  }

  return {
    pattern: trimmed,
    minutes: minute.values,
    hours: hour.values,
    daysOfMonth: dom.values,
    months: month.values,
    daysOfWeek: dow.values,
    dayOfMonthRestricted: dom.restricted,
    dayOfWeekRestricted: dow.restricted,
    canonical,
  };
}

/**
 * The next `count` fire times of a Unix pattern, in UTC, strictly after `from`.
 * @throws InvalidCronError for an invalid pattern, RangeError for a bad date or count.
 */
export function nextFireTimes(pattern: string, from: Date, count: number): Date[] {
  const parsed = parseUnixCron(pattern);
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) {
    throw new RangeError('from must be a valid Date');
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError('count must be a non-negative integer');
  }
  if (count === 0) return [];
  return CronExpressionParser.parse(parsed.canonical, { currentDate: from, tz: 'UTC' })
    .take(count)
    .map((date) => date.toDate());
}
