/**
 * Fidelity: the preview (which also drives local firing) fires exactly when the
 * EventBridge Scheduler schedule(s) the adapter creates will.
 *
 * For several hundred seeded random Unix patterns, each in two of the zones below,
 * plus a hand list in every zone, over two years (2027-2028, every daylight-saving
 * change of those years), the preview's fire times must equal, as sets, the fire
 * times of the `ScheduleExpression`s the adapter sends, read in its
 * `ScheduleExpressionTimezone` between its `StartDate` and `EndDate`, under
 * EventBridge Scheduler's documented rules: a wall-clock time skipped when clocks
 * spring forward does not fire; one that occurs twice when they fall back fires once.
 *
 * The reference evaluator below is written here and shares nothing with the code
 * under test: it reads the EventBridge expression text (not the Unix pattern), and
 * it walks UTC forward in 15-minute blocks, reading each block's wall clock from an
 * offset table it builds itself from the runtime's time-zone database (every offset
 * and transition in these zones is a whole quarter hour), where the code under test
 * walks the local calendar and converts wall-clock times to instants. A local time
 * that never appears while walking UTC is a skipped one; a local time seen a second
 * time is a repeat and does not fire. No cron library is used: croner and
 * cron-parser follow Vixie cron on daylight-saving days, which EventBridge does not.
 */
import fc from 'fast-check';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { EventBridgeCloudScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import { previewSchedule, upcomingFireTimes } from '../../functions/domain/schedule-preview.js';

const MINUTE = 60_000;
const BLOCK = 15 * MINUTE;
const T0 = Date.UTC(2027, 0, 1);
const T1 = Date.UTC(2029, 0, 1);
/** The offset table covers two days either side of the window. */
const TABLE_START = T0 - 2 * 86_400_000;
const TABLE_BLOCKS = (T1 - T0 + 4 * 86_400_000) / BLOCK;
const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'Pacific/Chatham'];
const RANDOM_PATTERNS = 400;
const SEED = 20270314;

// ---------------------------------------------------------------------------------------------
// Reference: the zone's wall clock per 15-minute UTC block
// ---------------------------------------------------------------------------------------------

interface ZoneTable {
  /** Offset in minutes of each block. */
  offsets: Int16Array;
  /** Wall clock at the start of each block. */
  year: Int16Array;
  month: Int8Array;
  day: Int8Array;
  weekday: Int8Array;
  hour: Int8Array;
  minute: Int8Array;
  /** Every offset the zone uses in the window. */
  distinct: number[];
}

/** Offset from the zone's own "GMT-04:00" name (a different route from the code under test). */
function gmtOffset(format: Intl.DateTimeFormat, ms: number): number {
  const name = format.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!match) throw new Error(`unexpected zone name ${name}`);
  if (!match[1]) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

const tables = new Map<string, ZoneTable>();

function zoneTable(zone: string): ZoneTable {
  const cached = tables.get(zone);
  if (cached) return cached;
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offsets = new Int16Array(TABLE_BLOCKS);
  // Hourly samples, refined to the block where they differ.
  let previous = gmtOffset(format, TABLE_START);
  for (let b = 0; b < TABLE_BLOCKS; b += 4) {
    const hourEnd = Math.min(b + 4, TABLE_BLOCKS);
    const next = gmtOffset(format, TABLE_START + hourEnd * BLOCK - 1);
    if (next === previous) offsets.fill(previous, b, hourEnd);
    else for (let k = b; k < hourEnd; k++) offsets[k] = gmtOffset(format, TABLE_START + k * BLOCK);
    previous = next;
  }
  const t: ZoneTable = {
    offsets,
    year: new Int16Array(TABLE_BLOCKS),
    month: new Int8Array(TABLE_BLOCKS),
    day: new Int8Array(TABLE_BLOCKS),
    weekday: new Int8Array(TABLE_BLOCKS),
    hour: new Int8Array(TABLE_BLOCKS),
    minute: new Int8Array(TABLE_BLOCKS),
    distinct: [...new Set(offsets)],
  };
  for (let b = 0; b < TABLE_BLOCKS; b++) {
    const start = TABLE_START + b * BLOCK;
    // The table is only right if no transition falls inside a block: check the blocks before each change.
    if (b + 1 < TABLE_BLOCKS && offsets[b + 1] !== offsets[b] && gmtOffset(format, start + BLOCK - 1) !== offsets[b]) {
      throw new Error(`${zone}: a transition inside the block at ${new Date(start).toISOString()}`);
    }
    const local = new Date(start + (offsets[b] as number) * MINUTE);
    t.year[b] = local.getUTCFullYear();
    t.month[b] = local.getUTCMonth() + 1;
    t.day[b] = local.getUTCDate();
    t.weekday[b] = local.getUTCDay() + 1; // EventBridge: 1 = SUN ... 7 = SAT
    t.hour[b] = local.getUTCHours();
    t.minute[b] = local.getUTCMinutes();
  }
  tables.set(zone, t);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Reference: EventBridge cron expressions
// ---------------------------------------------------------------------------------------------

interface EbCron {
  minutes: Set<number>;
  hours: Set<number>;
  /** null = `?` */
  daysOfMonth: Set<number> | null;
  months: Set<number>;
  daysOfWeek: Set<number> | null;
  years: Set<number>;
}

function ebField(text: string, min: number, max: number): Set<number> | null {
  if (text === '?') return null;
  const out = new Set<number>();
  if (text === '*') {
    for (let v = min; v <= max; v++) out.add(v);
    return out;
  }
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const [fromText = '', toText] = range.split('-');
    const from = Number(fromText);
    const to = toText !== undefined ? Number(toText) : stepText !== undefined ? max : from;
    if (!Number.isInteger(from) || !Number.isInteger(to) || !Number.isInteger(step) || from < min || to > max || from > to || step < 1) {
      throw new Error(`reference cannot read "${text}"`);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

function parseEb(expression: string): EbCron {
  const match = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!match) throw new Error(`not a cron expression: ${expression}`);
  const [, m = '', h = '', dom = '', mon = '', dow = '', year = ''] = match;
  const parsed = {
    minutes: ebField(m, 0, 59),
    hours: ebField(h, 0, 23),
    daysOfMonth: ebField(dom, 1, 31),
    months: ebField(mon, 1, 12),
    daysOfWeek: ebField(dow, 1, 7),
    years: ebField(year, 1970, 2199),
  };
  if ((parsed.daysOfMonth === null) === (parsed.daysOfWeek === null)) throw new Error(`${expression}: exactly one day field must be ?`);
  if (!parsed.minutes || !parsed.hours || !parsed.months || !parsed.years) throw new Error(`${expression}: ? outside the day fields`);
  return parsed as EbCron;
}

/** Fire times in [from, to) of one expression in one zone, EventBridge's daylight-saving rules. */
function referenceFireTimes(expression: string, zone: string, from: number, to: number): number[] {
  const cron = parseEb(expression);
  const t = zoneTable(zone);
  const out: number[] = [];
  const firstBlock = Math.floor((from - TABLE_START) / BLOCK);
  const lastBlock = Math.ceil((to - TABLE_START) / BLOCK);
  for (let b = firstBlock; b < lastBlock; b++) {
    if (!cron.months.has(t.month[b] as number) || !cron.hours.has(t.hour[b] as number) || !cron.years.has(t.year[b] as number)) continue;
    const dayOk = cron.daysOfMonth ? cron.daysOfMonth.has(t.day[b] as number) : (cron.daysOfWeek as Set<number>).has(t.weekday[b] as number);
    if (!dayOk) continue;
    const offset = t.offsets[b] as number;
    const blockStart = TABLE_START + b * BLOCK;
    for (let k = 0; k < 15; k++) {
      if (!cron.minutes.has((t.minute[b] as number) + k)) continue;
      const instant = blockStart + k * MINUTE;
      if (instant < from || instant >= to) continue;
      // The same wall-clock time shown earlier under a larger offset: a repeat, which does not fire.
      const wall = instant + offset * MINUTE;
      const repeat = t.distinct.some((other) => {
        if (other <= offset) return false;
        const earlier = wall - other * MINUTE;
        const eb = Math.floor((earlier - TABLE_START) / BLOCK);
        return eb >= 0 && t.offsets[eb] === other;
      });
      if (!repeat) out.push(instant);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What the adapter sends, and what the preview says
// ---------------------------------------------------------------------------------------------

const adapter = new EventBridgeCloudScheduler(new SchedulerClient({ region: 'us-east-1' }), {
  groupName: 'kallisti-test',
  target: { queueArn: 'arn:aws:sqs:us-east-1:123456789012:q.fifo', roleArn: 'arn:aws:iam::123456789012:role/r', deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
  clock: { now: () => new Date(T0 - 86_400_000) },
});

function schedule(pattern: string, zone: string, start: string | null, end: string | null): Schedule {
  return {
    id: '73919897-0835-4ad6-bfc6-2b332c9d615f',
    experiment_id: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1',
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: pattern,
    recurrence_count: null,
    recurrence_left: null,
    generation: 1,
    ...SCHEDULE_DEFAULTS,
    timezone: zone,
    start_date: start,
    end_date: end,
    created_by: 'a',
    created_at: '2026-12-31T00:00:00.000Z',
    updated_by: 'a',
    updated_at: '2026-12-31T00:00:00.000Z',
  };
}

interface Comparison {
  preview: number[];
  cloud: number[];
}

function compare(pattern: string, zone: string, start: string | null = null, end: string | null = null): Comparison {
  const s = schedule(pattern, zone, start, end);
  const cloud = new Set<number>();
  for (const definition of adapter.definitions(s)) {
    const from = Math.max(T0, definition.StartDate ? (definition.StartDate as Date).getTime() : -Infinity);
    const to = Math.min(T1, definition.EndDate ? (definition.EndDate as Date).getTime() : Infinity);
    for (const time of referenceFireTimes(definition.ScheduleExpression as string, definition.ScheduleExpressionTimezone as string, from, to)) cloud.add(time);
  }
  // The preview, bounded to the window by an end date of its own.
  const bounded = { ...s, end_date: new Date(Math.min(T1, end ? Date.parse(end) : Infinity)).toISOString() };
  const preview = upcomingFireTimes(bounded, new Date(T0 - 1), Number.MAX_SAFE_INTEGER).map((d) => d.getTime());
  return { preview, cloud: [...cloud].sort((a, b) => a - b) };
}

function describeDifference({ preview, cloud }: Comparison): string {
  const p = new Set(preview);
  const c = new Set(cloud);
  const onlyPreview = preview.filter((x) => !c.has(x)).slice(0, 3).map((x) => new Date(x).toISOString());
  const onlyCloud = cloud.filter((x) => !p.has(x)).slice(0, 3).map((x) => new Date(x).toISOString());
  const duplicates = preview.length !== p.size ? ' (preview repeats a time)' : '';
  return `preview only: ${onlyPreview.join(', ') || '-'}; cloud only: ${onlyCloud.join(', ') || '-'}${duplicates}`;
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

const HAND_PATTERNS = [
  '30 2 * * *', // inside the spring-forward gap of New York, London (01:00-02:00 is London's), Santiago...
  '30 1 * * *', // inside London's gap and New York's overlap
  '*/15 * * * *', // every quarter: the overlap hour fires once
  '0 * * * *',
  '45 1 * * *', // Lord Howe repeats 01:30-02:00 when it falls back by 30 minutes
  '15 2 * * 0', // Lord Howe skips 02:00-02:30 on a Sunday
  '0 0 * * *', // Santiago springs forward at midnight
  '59 23 * * *',
  '0 9-17 * * 1-5',
  '5 1,2,3 1 * 0', // both day fields: two cloud schedules
  '* 1 * 3,4,10,11 0', // every minute of the 01:00 hour on Sundays in the transition months
  '45 2 * * *', // Chatham: 02:45 is its transition time
  '0 0 29 2 *',
];

const hourArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }).map(String) }, // where the transitions are
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 23 }).map(String) },
  { weight: 1, arbitrary: fc.constant('*') },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 6 }).map((n) => `*/${n}`) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 })).map(([a, n]) => `${a}-${a + n}`) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 2, maxLength: 4 }).map((xs) => xs.join(',')) },
);
const minuteArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 59 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('0', '15', '30', '45') },
  { weight: 1, arbitrary: fc.integer({ min: 5, max: 30 }).map((n) => `*/${n}`) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 14 }), fc.integer({ min: 15, max: 30 })).map(([a, n]) => `${a}/${n}`) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 2, maxLength: 3 }).map((xs) => xs.join(',')) },
);
const domArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('*') },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 31 }).map(String) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 10 })).map(([a, n]) => `${a}-${a + n}`) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 7 }).map((n) => `*/${n}`) },
);
const monthArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('*') },
  { weight: 2, arbitrary: fc.constantFrom('3', '4', '9', '10', '11', '3,4,9,10,11', '3-4', '10-11') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map(String) },
);
const dowArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant('*') },
  { weight: 3, arbitrary: fc.constantFrom('0', '7', 'SUN', '6', '0,6', '1-5', 'MON-FRI', 'SAT,SUN') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 }).map(String) },
);
const patternArb = fc.tuple(minuteArb, hourArb, domArb, monthArb, dowArb).map((f) => f.join(' '));
const zonePairArb = fc.uniqueArray(fc.constantFrom(...ZONES), { minLength: 2, maxLength: 2 });
/** A third of the cases get a start and/or an end date inside the window. */
const datesArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<[string | null, string | null]>([null, null]) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 700 * 24 }), fc.integer({ min: 1, max: 700 * 24 }), fc.constantFrom(0, 7, 30, 45))
      .map(([startHours, spanHours, minute]): [string | null, string | null] => {
        const start = T0 + startHours * 3_600_000 + minute * MINUTE;
        return [startHours % 3 === 0 ? null : new Date(start).toISOString(), new Date(start + spanHours * 3_600_000).toISOString()];
      }),
  },
);

describe('preview = EventBridge Scheduler, time zones and daylight saving included', () => {
  it('builds offset tables that see each zone change its clocks (the window spans DST)', () => {
    for (const zone of ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham']) {
      expect(zoneTable(zone).distinct.length).toBe(2);
    }
    expect(zoneTable('Australia/Lord_Howe').distinct.sort()).toEqual([630, 660]);
    expect(zoneTable('Asia/Kathmandu').distinct).toEqual([345]);
    expect(zoneTable('UTC').distinct).toEqual([0]);
  });

  it('the reference itself applies the documented rules on known days', () => {
    // New York 2027: 02:30 does not exist on 14 March; 01:30 occurs twice on 7 November, fires once (EDT).
    const ny = referenceFireTimes('cron(30 1,2 * * ? *)', 'America/New_York', Date.UTC(2027, 2, 14), Date.UTC(2027, 2, 15)).map((x) => new Date(x).toISOString());
    expect(ny).toEqual(['2027-03-14T06:30:00.000Z']);
    const fall = referenceFireTimes('cron(30 1 * * ? *)', 'America/New_York', Date.UTC(2027, 10, 7), Date.UTC(2027, 10, 8)).map((x) => new Date(x).toISOString());
    expect(fall).toEqual(['2027-11-07T05:30:00.000Z']);
  });

  it.each(ZONES)('holds for the hand-picked patterns in %s', (zone) => {
    for (const pattern of HAND_PATTERNS) {
      const result = compare(pattern, zone);
      if (result.preview.join() !== result.cloud.join()) throw new Error(`${pattern} in ${zone}: ${describeDifference(result)}`);
      expect(result.preview.length).toBeGreaterThan(0);
    }
  });

  it(`holds for ${RANDOM_PATTERNS} seeded random patterns, each in two zones, some with start and end dates`, () => {
    const cases = fc.sample(fc.tuple(patternArb, zonePairArb, datesArb), { seed: SEED, numRuns: RANDOM_PATTERNS });
    let compared = 0;
    let fireTimes = 0;
    let touchedTransitions = 0;
    for (const [pattern, zones, [start, end]] of cases) {
      for (const zone of zones) {
        const result = compare(pattern, zone, start, end);
        if (result.preview.join() !== result.cloud.join()) throw new Error(`${pattern} in ${zone} from ${start} to ${end}: ${describeDifference(result)}`);
        compared += 1;
        fireTimes += result.preview.length;
        const t = zoneTable(zone);
        if (t.distinct.length > 1 && result.preview.some((x) => Math.abs(x - nearestTransition(zone, x)) < 3 * 3_600_000)) touchedTransitions += 1;
      }
    }
    expect(compared).toBe(2 * RANDOM_PATTERNS);
    // The comparison is not vacuous: many fire times, many of them within hours of a clock change.
    expect(fireTimes).toBeGreaterThan(100_000);
    expect(touchedTransitions).toBeGreaterThan(RANDOM_PATTERNS / 4);
  });

  it('previews local times that say what the wall clock shows', () => {
    const preview = previewSchedule(schedule('30 1 * * 0', 'Europe/London', '2027-03-20T00:00:00Z', null), new Date('2027-03-20T00:00:00Z'), 3);
    // 28 March 2027: London skips 01:00-02:00, so 01:30 does not fire that Sunday.
    expect(preview.fire_times).toEqual([
      { time: '2027-03-21T01:30:00.000Z', local_time: '2027-03-21T01:30:00+00:00' },
      { time: '2027-04-04T00:30:00.000Z', local_time: '2027-04-04T01:30:00+01:00' },
      { time: '2027-04-11T00:30:00.000Z', local_time: '2027-04-11T01:30:00+01:00' },
    ]);
    expect(preview.eventbridge_expressions).toEqual(['cron(30 1 ? * 1 *)']);
  });
});

const transitionCache = new Map<string, number[]>();
function nearestTransition(zone: string, at: number): number {
  let list = transitionCache.get(zone);
  if (!list) {
    const t = zoneTable(zone);
    list = [];
    for (let b = 1; b < TABLE_BLOCKS; b++) if (t.offsets[b] !== t.offsets[b - 1]) list.push(TABLE_START + b * BLOCK);
    transitionCache.set(zone, list);
  }
  return list.reduce((best, x) => (Math.abs(x - at) < Math.abs(best - at) ? x : best), Infinity);
}
