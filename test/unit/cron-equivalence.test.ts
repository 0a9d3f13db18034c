/**
 * Proof that toEventBridgeExpressions preserves the schedule.
 *
 * For thousands of seeded random Unix patterns (plus a hand list of awkward ones) the fire times
 * computed by cron-parser from the Unix pattern must equal the fire times computed by croner, an
 * independent implementation, from the emitted EventBridge expression(s) (union of both when the
 * pattern splits into two schedules).
 *
 * Coverage per pattern, over a one-year window that includes 29 February:
 * - sparse patterns (at most CAP fire times in the window): every fire time is compared;
 * - dense patterns: the first CAP fire times, the first fire time at or after the start of every
 *   fifth day (or of the day after the last fire time found, whichever is later), and the last
 *   fire time before the end of the window.
 *
 * Croner is configured to read EventBridge syntax: a `0` seconds field is prepended to the six
 * EventBridge fields (7-part mode, year last), `alternativeWeekdays` makes 1-7 = SUN-SAT (and
 * rejects 0), `sloppyRanges` accepts `start/step` (without it croner refuses `0/5`, the form the
 * EventBridge documentation uses), and `domAndDow` makes the day fields combine with AND.
 * Croner rewrites `?` to `*` before parsing, so with AND the `?` field imposes nothing and the
 * other field alone decides, which is the EventBridge meaning of `?`. (Croner's default OR mode
 * would give the same result, because it only ORs when neither day field is `*`.)
 *
 * cron-parser is the reference because the local scheduler runs on it. It refuses repeated
 * values ("0,7", "1-5,3") that the domain module accepts as a union; such patterns are compared
 * against the module's de-duplicated canonical form and are not counted as checked.
 */
import fc from 'fast-check';
import { Cron } from 'croner';
import { CronExpressionParser } from 'cron-parser';
import {
  assertEventBridgeGrammar,
  InvalidCronError,
  nextFireTimes,
  parseUnixCron,
  toEventBridgeExpressions,
  type ParsedCron,
} from '../../functions/domain/cron.js';

const DAY_MS = 86_400_000;
/** 2027-07-01 .. 2028-07-01 crosses a year boundary and contains 2028-02-29. */
const START = new Date(Date.UTC(2027, 6, 1));
const END = new Date(Date.UTC(2028, 6, 1));
/** The hand list is cheap, so it gets four years: 2027-01-01 .. 2031-01-01 (2028 is a leap year). */
const HAND_START = new Date(Date.UTC(2027, 0, 1));
const HAND_END = new Date(Date.UTC(2031, 0, 1));
const CAP = 200;
const RANDOM_PATTERNS = 2400;
const MAX_DUPLICATE_PATTERNS = 100;
const MIN_CHECKED = 2000;
const SEED = 20270701;

// ---------------------------------------------------------------------------------------------
// The two evaluators
// ---------------------------------------------------------------------------------------------

interface Evaluator {
  /** Fire times in [start, end), at most `limit` of them. */
  list(start: Date, end: Date, limit: number): Date[];
  /** First fire time strictly after `from`, or null. */
  next(from: Date): Date | null;
  /** Last fire time strictly before `before`, or null. */
  prev(before: Date): Date | null;
}

const justBefore = (d: Date): Date => new Date(d.getTime() - 1000);

function unixEvaluator(pattern: string): Evaluator {
  const at = (date: Date) => CronExpressionParser.parse(pattern, { currentDate: date, tz: 'UTC' });
  const probe = at(START);
  return {
    list(start, end, limit) {
      const iterator = at(justBefore(start));
      const out: Date[] = [];
      while (out.length < limit) {
        const d = iterator.next().toDate();
        if (d >= end) break;
        out.push(d);
      }
      return out;
    },
    next(from) {
      probe.reset(from);
      return probe.next().toDate();
    },
    prev: (before) => at(before).prev().toDate(),
  };
}

const CRONER_OPTIONS = {
  mode: '7-part',
  alternativeWeekdays: true,
  sloppyRanges: true,
  domAndDow: true,
  utcOffset: 0,
  paused: true,
} as const;

function cronerJob(expression: string): Cron {
  const body = /^cron\((.+)\)$/.exec(expression);
  if (!body) throw new Error(`not an EventBridge cron expression: ${expression}`);
  return new Cron(`0 ${body[1]}`, CRONER_OPTIONS);
}

/** Union of the schedules of the given expressions. */
function eventBridgeEvaluator(expressions: readonly string[]): Evaluator {
  const jobs = expressions.map(cronerJob);
  const pick = (dates: Array<Date | null>, better: (a: number, b: number) => boolean): Date | null =>
    dates.reduce<Date | null>((best, d) => (d && (!best || better(d.getTime(), best.getTime())) ? d : best), null);
  return {
    list(start, end, limit) {
      // The first `limit` times of a union are among the first `limit` times of each part.
      const times = new Set<number>();
      for (const job of jobs) {
        let cursor: Date | null = justBefore(start);
        for (let n = 0; n < limit; n++) {
          cursor = job.nextRun(cursor);
          if (!cursor || cursor >= end) break;
          times.add(cursor.getTime());
        }
      }
      return [...times].sort((a, b) => a - b).slice(0, limit).map((t) => new Date(t));
    },
    next: (from) => pick(jobs.map((job) => job.nextRun(from)), (a, b) => a < b),
    prev: (before) => pick(jobs.map((job) => job.previousRuns(1, before)[0] ?? null), (a, b) => a > b),
  };
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

const iso = (d: Date | null | undefined): string => (d ? d.toISOString() : 'none');

function firstDifference(a: readonly Date[], b: readonly Date[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]?.getTime() !== b[i]?.getTime()) {
      return `#${i}: cron-parser ${iso(a[i])} vs EventBridge ${iso(b[i])} (lengths ${a.length} / ${b.length})`;
    }
  }
  return undefined;
}

interface Outcome {
  mismatch?: string;
  dense: boolean;
  compared: number;
}

/** Days between probes of a dense pattern; coprime with 7 so that the probes visit every weekday. */
const PROBE_STRIDE_DAYS = 5;

function compare(unix: Evaluator, eb: Evaluator, start: Date, end: Date, cap: number): Outcome {
  const expected = unix.list(start, end, cap + 1);
  const actual = eb.list(start, end, cap + 1);
  const diff = firstDifference(expected, actual);
  if (diff) return { mismatch: `fire times ${diff}`, dense: expected.length > cap, compared: expected.length };
  if (expected.length <= cap) return { dense: false, compared: expected.length };

  // Dense: the first fire time at or after the start of every PROBE_STRIDE_DAYS-th day (moving
  // on from the day of the fire time found, so that sparse days cost nothing), then the last
  // fire time of the window.
  let compared = expected.length;
  let day = start.getTime();
  while (day < end.getTime()) {
    const from = new Date(day - 1000);
    const u = unix.next(from);
    const e = eb.next(from);
    if (u?.getTime() !== e?.getTime()) {
      return { mismatch: `first fire time from ${iso(new Date(day))}: cron-parser ${iso(u)} vs EventBridge ${iso(e)}`, dense: true, compared };
    }
    if (!u || u >= end) break;
    compared++;
    day = Math.max(day + PROBE_STRIDE_DAYS * DAY_MS, Math.floor(u.getTime() / DAY_MS) * DAY_MS + DAY_MS);
  }
  const u = unix.prev(end);
  const e = eb.prev(end);
  if (u?.getTime() !== e?.getTime()) {
    return { mismatch: `last fire time before ${iso(end)}: cron-parser ${iso(u)} vs EventBridge ${iso(e)}`, dense: true, compared };
  }
  return { dense: true, compared: compared + 1 };
}

/** Checks every emitted expression against the grammar, and returns a problem description if any. */
function grammarProblem(parsed: ParsedCron, expressions: readonly string[]): string | undefined {
  const both = parsed.dayOfMonthRestricted && parsed.dayOfWeekRestricted;
  if (expressions.length < 1 || expressions.length > (both ? 2 : 1)) {
    return `unexpected number of expressions: ${expressions.join(' | ')}`;
  }
  for (const expression of expressions) {
    if (expression.includes('*/')) return `"*/" in ${expression}`;
    try {
      assertEventBridgeGrammar(expression);
    } catch (error) {
      return `grammar: ${(error as Error).message}`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Random patterns
// ---------------------------------------------------------------------------------------------

interface FieldGen {
  min: number;
  max: number;
  names?: readonly string[];
  nameOffset?: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const nameCase = fc.constantFrom<(s: string) => string>(
  (s) => s,
  (s) => s.toLowerCase(),
  (s) => s[0] + s.slice(1).toLowerCase(),
);

function valueArb(g: FieldGen, lo = g.min, hi = g.max): fc.Arbitrary<{ n: number; text: string }> {
  const num = fc.integer({ min: lo, max: hi }).map((n) => ({ n, text: String(n) }));
  const { names, nameOffset = 0 } = g;
  if (!names) return num;
  const nameLo = Math.max(lo, nameOffset);
  const nameHi = Math.min(hi, nameOffset + names.length - 1);
  if (nameLo > nameHi) return num;
  const named = fc
    .tuple(fc.integer({ min: nameLo, max: nameHi }), nameCase)
    .map(([n, style]) => ({ n, text: style(names[n - nameOffset] as string) }));
  return fc.oneof({ arbitrary: num, weight: 3 }, { arbitrary: named, weight: 1 });
}

function rangeArb(g: FieldGen): fc.Arbitrary<string> {
  return valueArb(g).chain((a) => valueArb(g, a.n, g.max).map((b) => `${a.text}-${b.text}`));
}

function itemArbs(g: FieldGen) {
  const span = g.max - g.min + 1;
  const step = fc.integer({ min: 1, max: span });
  return {
    value: valueArb(g).map((v) => v.text),
    range: rangeArb(g),
    rangeStep: fc.tuple(rangeArb(g), step).map(([r, k]) => `${r}/${k}`),
    starStep: step.map((k) => `*/${k}`),
    startStep: fc.tuple(valueArb(g), step).map(([v, k]) => `${v.text}/${k}`),
  };
}

/** Lists of 2-4 items; distinct item texts keep most lists free of repeated values. */
function listArb(items: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.uniqueArray(items, { minLength: 2, maxLength: 4 }).map((xs) => xs.join(','));
}

function timeFieldArb(g: FieldGen): fc.Arbitrary<string> {
  // Mostly a few values per field, so that most patterns are sparse enough to be compared over
  // the whole window; the dense forms still appear in a good share of the patterns.
  const a = itemArbs(g);
  const anyItem = fc.oneof(a.value, a.value, a.range, a.rangeStep, a.starStep, a.startStep);
  return fc.oneof(
    { arbitrary: a.value, weight: 70 },
    { arbitrary: listArb(a.value), weight: 8 },
    { arbitrary: a.range, weight: 4 },
    { arbitrary: a.rangeStep, weight: 5 },
    { arbitrary: a.starStep, weight: 6 },
    { arbitrary: a.startStep, weight: 4 },
    { arbitrary: listArb(anyItem), weight: 2 },
    { arbitrary: fc.constant('*'), weight: 1 },
  );
}

function dayFieldArb(g: FieldGen, questionMark: boolean): fc.Arbitrary<string> {
  const a = itemArbs(g);
  const anyItem = fc.oneof(a.value, a.value, a.range, a.rangeStep, a.starStep, a.startStep);
  return fc.oneof(
    { arbitrary: fc.constant('*'), weight: 28 },
    { arbitrary: fc.constant(questionMark ? '?' : '*'), weight: 3 },
    { arbitrary: a.value, weight: 25 },
    { arbitrary: listArb(a.value), weight: 12 },
    { arbitrary: a.range, weight: 9 },
    { arbitrary: a.rangeStep, weight: 8 },
    { arbitrary: a.starStep, weight: 5 },
    { arbitrary: a.startStep, weight: 5 },
    { arbitrary: listArb(anyItem), weight: 5 },
  );
}

const patternArb = fc
  .tuple(
    timeFieldArb({ min: 0, max: 59 }),
    timeFieldArb({ min: 0, max: 23 }),
    dayFieldArb({ min: 1, max: 31 }, true),
    dayFieldArb({ min: 1, max: 12, names: MONTHS, nameOffset: 1 }, false),
    dayFieldArb({ min: 0, max: 7, names: DAYS, nameOffset: 0 }, true),
  )
  .map((fields) => fields.join(' '));

// ---------------------------------------------------------------------------------------------
// Hand-picked patterns
// ---------------------------------------------------------------------------------------------

const HAND_PATTERNS = [
  '0 0 29 2 *',
  '0 0 28-31 2 *',
  '0 0 30 1-3 *',
  '0 0 31 * *',
  '0 0 * * 7',
  '0 0 * * 0',
  '0 0 1,15 * 5',
  '*/7 */5 */3 */2 */2',
  '59 23 31 12 *',
  '0 12 * * 0,7',
  '0 0 1-7 * 1',
  '15 14 1 * *',
  '0 9 * * 1-5',
  '*/15 9-17 * * 1-5',
  '0 0 * * MON-FRI',
  '0 0 1 JAN *',
  '0 0 1 jan-mar,oct-DEC *',
  '30 4 1,15 * 5',
  '0 0 */2 * 1',
  '0 0 */1 * 1',
  '0 0 1-31 * 1',
  '0 0 * * 0-7',
  '0 0 * * 1-7',
  '0 0 * * */1',
  '0 0 * * 5-7',
  '0 0 * * 1-7/2',
  '0 0 * * 5/2',
  '0 0 * * SUN/3',
  '0 0 * * 6,0',
  '0 0 13 * 5',
  '0 0 30,31 2 1',
  '0 0 31 2,4 1',
  '0 0 1-29 2 *',
  '0 0 ? * 1',
  '0 0 1 * ?',
  '5/15 * * * *',
  '*/5 * * * *',
  '* * * * *',
  '0 * * * *',
  '0 */6 * * *',
  '0 0-23/5 * * *',
  '10-59/10 * * * *',
  '50,55 * * * *',
  '0,30 * * * *',
  '*/45 * * * *',
  '0 0 1/3 * *',
  '0 0 * */2 *',
  '0 0 * 2/3 *',
  '1,2,4,5,7,8,10,11,13,14,16,17,19,20,22,23,25,26,28,29,31,32,34,35,37,38,40,41,43,44,46,47,49,50,52,53,55,56,58,59 ' +
    '1,2,4,5,7,8,10,11,13,14,16,17,19,20,22,23 1,2,4,5,7,8,10,11,13,14,16,17,19,20,22,23,25,26,28,29,31 1,2,4,5,7,9,11,12 *',
  '0 0 1-5,3,4 * 1,1',
];

/** Patterns cron-parser rejects only because they repeat a value: the oracle uses the de-duplicated form. */
const HAND_EQUIVALENTS: Record<string, string> = {
  '0 12 * * 0,7': '0 12 * * 0',
  '0 0 1-5,3,4 * 1,1': '0 0 1-5 * 1',
};

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

function check(pattern: string, oracle: string, start: Date, end: Date, cap: number): Outcome & { expressions: string[] } {
  const parsed = parseUnixCron(pattern);
  const expressions = toEventBridgeExpressions(pattern);
  const problem = grammarProblem(parsed, expressions);
  if (problem) return { mismatch: problem, dense: false, compared: 0, expressions };
  return { ...compare(unixEvaluator(oracle), eventBridgeEvaluator(expressions), start, end, cap), expressions };
}

describe('Unix cron -> EventBridge conversion is schedule-preserving', () => {
  it('holds for the hand-picked patterns over four years', () => {
    const failures: string[] = [];
    for (const pattern of HAND_PATTERNS.concat(Object.keys(HAND_EQUIVALENTS))) {
      const oracle = HAND_EQUIVALENTS[pattern] ?? pattern;
      const outcome = check(pattern, oracle, HAND_START, HAND_END, 1000);
      if (outcome.mismatch) failures.push(`${pattern} -> ${outcome.expressions.join(' + ')}: ${outcome.mismatch}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it(`holds for ${RANDOM_PATTERNS} seeded random patterns over one year`, () => {
    const patterns = fc.sample(patternArb, { seed: SEED, numRuns: RANDOM_PATTERNS });
    const failures: string[] = [];
    const stats = {
      checked: 0,
      dense: 0,
      firesCompared: 0,
      twoExpressions: 0,
      duplicatesAgainstCanonical: 0,
      duplicatesSkipped: 0,
      rejectedByBoth: 0,
      names: 0,
      sunday7: 0,
      lists: 0,
      ranges: 0,
      rangeSteps: 0,
      starSteps: 0,
      startSteps: 0,
      questionMarks: 0,
    };

    for (const [index, pattern] of patterns.entries()) {
      let parsed: ParsedCron;
      try {
        parsed = parseUnixCron(pattern);
      } catch (error) {
        // Only never-firing patterns should come out of the generator as invalid, and cron-parser
        // must agree that they are invalid.
        if (!(error instanceof InvalidCronError) || !/never fires/.test(error.message)) {
          failures.push(`${pattern}: unexpected rejection ${String(error)}`);
        } else if (!throws(() => CronExpressionParser.parse(pattern, { tz: 'UTC' }))) {
          failures.push(`${pattern}: rejected (${error.message}) but cron-parser accepts it`);
        }
        stats.rejectedByBoth++;
        continue;
      }

      let oracle = pattern;
      try {
        CronExpressionParser.parse(pattern, { tz: 'UTC' });
      } catch (error) {
        if (!/duplicate values/.test((error as Error).message)) {
          failures.push(`${pattern}: accepted, but cron-parser rejects it: ${(error as Error).message}`);
          continue;
        }
        // cron-parser refuses repeated values ("0,7"), which mean the union; compare a sample of
        // them against the canonical de-duplicated form instead, and do not count them as checked.
        if (stats.duplicatesAgainstCanonical >= MAX_DUPLICATE_PATTERNS) {
          stats.duplicatesSkipped++;
          continue;
        }
        oracle = parsed.canonical;
        stats.duplicatesAgainstCanonical++;
      }

      const outcome = check(pattern, oracle, START, END, CAP);
      if (outcome.mismatch) {
        failures.push(`${pattern} -> ${outcome.expressions.join(' + ')}: ${outcome.mismatch}`);
        if (failures.length >= 10) break;
        continue;
      }
      if (oracle === pattern) stats.checked++;
      if (outcome.dense) stats.dense++;
      stats.firesCompared += outcome.compared;
      if (outcome.expressions.length === 2) stats.twoExpressions++;

      // nextFireTimes is what the local scheduler uses: spot-check it against raw cron-parser.
      if (index % 10 === 0 && oracle === pattern) {
        const expected = CronExpressionParser.parse(pattern, { currentDate: START, tz: 'UTC' })
          .take(20)
          .map((d) => d.toISOString());
        const actual = nextFireTimes(pattern, START, 20).map((d) => d.toISOString());
        if (expected.join() !== actual.join()) failures.push(`${pattern}: nextFireTimes differs from cron-parser`);
      }

      const [, , dom = '', month = '', dow = ''] = pattern.split(' ');
      if (/[a-z]{3}/i.test(month + dow)) stats.names++;
      if (/(^|[,-])7($|[,/-])/.test(dow)) stats.sunday7++;
      if (pattern.includes(',')) stats.lists++;
      if (/\d-\d/.test(pattern) || /[a-z]-[a-z\d]/i.test(pattern)) stats.ranges++;
      if (/-\w+\//.test(pattern)) stats.rangeSteps++;
      if (pattern.includes('*/')) stats.starSteps++;
      if (/(^|[ ,])\w+\//.test(pattern)) stats.startSteps++;
      if (dom === '?' || dow === '?') stats.questionMarks++;
    }

    expect(failures).toEqual([]);
    expect(stats.checked).toBeGreaterThanOrEqual(MIN_CHECKED);
    // Every syntax form is exercised many times.
    for (const key of ['dense', 'twoExpressions', 'names', 'sunday7', 'lists', 'ranges', 'rangeSteps', 'starSteps', 'startSteps', 'questionMarks'] as const) {
      expect([key, stats[key] >= 30]).toEqual([key, true]);
    }
    // Printed so that the coverage of the run is visible in the test log.
    console.info(`cron equivalence: ${JSON.stringify(stats)}`);
  }, 120_000);
});

function throws(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}
