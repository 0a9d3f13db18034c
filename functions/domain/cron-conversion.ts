/**
 * Conversion of Unix cron patterns (validated by cron-validation.ts) to EventBridge
 * Scheduler cron expressions, `cron(minutes hours day-of-month month day-of-week year)`,
 * and a check of EventBridge's grammar on what is produced.
 *
 * EventBridge Scheduler cannot express "day-of-month OR day-of-week" in one expression (one of
 * the two must be `?`), so such patterns become two schedules whose union is the Unix pattern.
 */
import { InvalidCronError, longestSelectedMonth, MONTH_NAMES, parseUnixCron, reachableDays, renderList } from './cron-validation.js';

const EVENTBRIDGE_MAX_LENGTH = 256;

/**
 * Renders a field for EventBridge: `*` when every value is selected, `start/step` when the values
 * are exactly every `step`-th value over the whole field from an offset below `step` (what a
 * Unix step over `*` or `a/n` produces), otherwise an ascending list with runs of three or more written as `a-b`.
 */
function renderEventBridgeField(values: readonly number[], min: number, max: number, allowStep: boolean): string {
  if (values.length === max - min + 1) return '*';
  const first = values[0] as number;
  const second = values[1];
  if (allowStep && second !== undefined) {
    const step = second - first;
    const last = values[values.length - 1] as number;
    const isProgression = step >= 2 && values.every((v, i) => v === first + i * step);
    if (isProgression && first - min < step && last + step > max) {
      return `${first}/${step}`;
    }
  }
  return renderList(values);
}

/**
 * Converts a Unix pattern to EventBridge Scheduler cron expressions, `cron(min hour dom month dow year)`.
 * Returns two expressions when both day fields are restricted (Unix fires when either matches);
 * the schedule fires at the union of their times.
 */
export function toEventBridgeExpressions(pattern: string): string[] {
  const parsed = parseUnixCron(pattern);
  const minutes = renderEventBridgeField(parsed.minutes, 0, 59, true);
  const hours = renderEventBridgeField(parsed.hours, 0, 23, true);
  const months = renderEventBridgeField(parsed.months, 1, 12, true);

  // Days of month that cannot occur in any selected month are dropped (same schedule, and no
  // expression that can never fire is produced).
  const days = reachableDays(parsed.daysOfMonth, parsed.months);
  const everyDayOfMonth = days.length >= longestSelectedMonth(parsed.months);
  // EventBridge numbers days of the week 1-7 = SUN-SAT.
  const weekdays = parsed.daysOfWeek.map((d) => (d % 7) + 1);
  const everyDayOfWeek = weekdays.length === 7;
  const domField = (): string => renderEventBridgeField(days, 1, 31, true);
  const dowField = (): string => renderList(weekdays);

  let dayPairs: Array<[string, string]>;
  if (parsed.dayOfMonthRestricted && parsed.dayOfWeekRestricted) {
    if (everyDayOfMonth || everyDayOfWeek) dayPairs = [['*', '?']];
    else if (days.length === 0) dayPairs = [['?', dowField()]];
    else dayPairs = [[domField(), '?'], ['?', dowField()]];
  } else if (parsed.dayOfMonthRestricted) {
    dayPairs = [[everyDayOfMonth ? '*' : domField(), '?']];
  } else if (parsed.dayOfWeekRestricted) {
    dayPairs = [everyDayOfWeek ? ['*', '?'] : ['?', dowField()]];
  } else {
    dayPairs = [['*', '?']];
  }

  return dayPairs.map(([dom, dow]) => {
    const expression = `cron(${minutes} ${hours} ${dom} ${months} ${dow} *)`;
    if (expression.length > EVENTBRIDGE_MAX_LENGTH) {
      // Not reachable with the list compression above (the longest output is about 240
      // characters), kept so that a change to the rendering cannot emit an invalid schedule.
      throw new InvalidCronError(`too complex to convert to an EventBridge schedule (more than ${EVENTBRIDGE_MAX_LENGTH} characters)`);
    }
    assertEventBridgeGrammar(expression);
    return expression;
  });
}

interface EventBridgeFieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly chars: RegExp;
  readonly names?: Readonly<Record<string, number>>;
  readonly step: boolean;
}

const EB_DAY_NAMES: Readonly<Record<string, number>> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

const EB_FIELDS: readonly EventBridgeFieldRule[] = [
  { name: 'minutes', min: 0, max: 59, chars: /^[0-9,*/-]+$/, step: true },
  { name: 'hours', min: 0, max: 23, chars: /^[0-9,*/-]+$/, step: true },
  { name: 'day-of-month', min: 1, max: 31, chars: /^[0-9,*?/LW-]+$/, step: true },
  { name: 'month', min: 1, max: 12, chars: /^[0-9A-Za-z,*/-]+$/, names: MONTH_NAMES, step: true },
  { name: 'day-of-week', min: 1, max: 7, chars: /^[0-9A-Za-z,*?L#-]+$/, names: EB_DAY_NAMES, step: false },
  { name: 'year', min: 1970, max: 2199, chars: /^[0-9,*/-]+$/, step: true },
];

function ebValue(rule: EventBridgeFieldRule, expr: string, token: string): number {
  let value: number | undefined;
  if (/^\d+$/.test(token)) value = Number(token);
  else if (rule.names && Object.hasOwn(rule.names, token.toUpperCase())) value = rule.names[token.toUpperCase()];
  if (value === undefined) {
    throw new Error(`${expr}: ${rule.name} value "${token}" is not a number${rule.names ? ' or name' : ''}`);
  }
  if (value < rule.min || value > rule.max) {
    throw new Error(`${expr}: ${rule.name} value ${token} is out of range ${rule.min}-${rule.max}`);
  }
  return value;
}

function checkEventBridgeField(rule: EventBridgeFieldRule, expr: string, text: string): void {
  if (!rule.chars.test(text)) {
    throw new Error(`${expr}: ${rule.name} field "${text}" contains characters that are not allowed`);
  }
  if (text === '*' || text === '?') return;
  if (text.includes('*')) {
    throw new Error(`${expr}: ${rule.name} field "${text}": "*" must stand alone (write steps as start/step, e.g. 0/5)`);
  }
  if (text.includes('?')) {
    throw new Error(`${expr}: ${rule.name} field "${text}": "?" must stand alone`);
  }
  if (rule.name === 'day-of-month') {
    if (text === 'L' || text === 'LW') return;
    const weekday = /^(\d+)W$/.exec(text);
    if (weekday) {
      ebValue(rule, expr, weekday[1] as string);
      return;
    }
    if (/[LW]/.test(text)) {
      throw new Error(`${expr}: day-of-month field "${text}": L and W must stand alone (L, LW or nW)`);
    }
  }
  if (rule.name === 'day-of-week') {
    const nth = /^([0-9A-Za-z]+)#(\d+)$/.exec(text);
    if (nth) {
      ebValue(rule, expr, nth[1] as string);
      const occurrence = Number(nth[2]);
      if (occurrence < 1 || occurrence > 5) {
        throw new Error(`${expr}: day-of-week field "${text}": occurrence after "#" must be 1-5`);
      }
      return;
    }
    if (text.includes('#')) {
      throw new Error(`${expr}: day-of-week field "${text}": "#" must be used alone as day#occurrence`);
    }
    if (text === 'L') return;
    const last = /^([0-9A-Za-z]+?)L$/.exec(text);
    if (last) {
      ebValue(rule, expr, last[1] as string);
      return;
    }
  }
  for (const item of text.split(',')) {
    if (item === '') {
      throw new Error(`${expr}: ${rule.name} field "${text}" has an empty list item`);
    }
    if (item.includes('/')) {
      if (!rule.step) {
        throw new Error(`${expr}: ${rule.name} field "${text}": "/" is not allowed in this field`);
      }
      const match = /^([0-9A-Za-z]+)\/(\d+)$/.exec(item);
      if (!match) {
        throw new Error(`${expr}: ${rule.name} field "${text}": "${item}" must be start/step`);
      }
      ebValue(rule, expr, match[1] as string);
      const step = Number(match[2]);
      if (step < 1 || step > rule.max - rule.min + 1) {
        throw new Error(`${expr}: ${rule.name} field "${text}": step ${step} is out of range`);
      }
      continue;
    }
    const bounds = item.split('-');
    if (bounds.length > 2) {
      throw new Error(`${expr}: ${rule.name} field "${text}": "${item}" is not a valid range`);
    }
    const from = ebValue(rule, expr, bounds[0] as string);
    if (bounds.length === 2) {
      const to = ebValue(rule, expr, bounds[1] as string);
      if (from > to) {
        throw new Error(`${expr}: ${rule.name} field "${text}": range "${item}" wraps around`);
      }
    }
  }
}

/**
 * Checks the EventBridge Scheduler cron grammar: `cron(` + six space-separated fields + `)`,
 * the characters each field may use, values in range, no wrap-around ranges, exactly one of
 * day-of-month / day-of-week is `?`, at most one `#`, and at most 256 characters.
 * @throws Error describing the first violation.
 */
export function assertEventBridgeGrammar(expr: string): void {
  if (expr.length > EVENTBRIDGE_MAX_LENGTH) {
    throw new Error(`${expr.slice(0, 40)}...: longer than ${EVENTBRIDGE_MAX_LENGTH} characters`);
  }
  const body = /^cron\((.*)\)$/.exec(expr);
  if (!body) {
    throw new Error(`${expr}: must have the form cron(minutes hours day-of-month month day-of-week year)`);
  }
  const fields = (body[1] as string).split(' ');
  if (fields.length !== 6 || fields.some((f) => f === '')) {
    throw new Error(`${expr}: expected 6 fields separated by single spaces, got ${fields.filter((f) => f !== '').length}`);
  }
  const dom = fields[2] as string;
  const dow = fields[4] as string;
  if ((dom === '?') === (dow === '?')) {
    throw new Error(`${expr}: exactly one of day-of-month and day-of-week must be "?"`);
  }
  if ((expr.match(/#/g) ?? []).length > 1) {
    throw new Error(`${expr}: at most one "#" is allowed`);
  }
  EB_FIELDS.forEach((rule, i) => checkEventBridgeField(rule, expr, fields[i] as string));
}
