import {
  assertEventBridgeGrammar,
  InvalidCronError,
  nextFireTimes,
  parseUnixCron,
  toEventBridgeExpressions,
} from '../../functions/domain/cron.js';

function rejection(pattern: string): InvalidCronError {
  try {
    parseUnixCron(pattern);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCronError);
    return error as InvalidCronError;
  }
  throw new Error(`expected "${pattern}" to be rejected`);
}

describe('parseUnixCron validation', () => {
  it.each([
    ['0 0 0 * * *', 6],
    ['* * * *', 4],
    ['', 0],
    ['   ', 0],
    ['@daily', 1],
  ])('rejects "%s" for its number of fields', (pattern, count) => {
    expect(rejection(pattern).message).toBe(
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${count}`,
    );
  });

  it('rejects garbage with a message naming the field and the token', () => {
    expect(rejection('x * * * *').message).toBe('minute field "x": "x" is not a number');
    expect(rejection('hello world how are you').message).toBe('minute field "hello": "hello" is not a number');
    expect(rejection('0 0 * FOO *').message).toBe('month field "FOO": "FOO" is neither a number nor a name (JAN-DEC)');
    expect(rejection('0 0 * * MONDAY').message).toMatch(/^day-of-week field "MONDAY": "MONDAY" is neither a number nor a name/);
    expect(rejection('0 0 * * 1.5').message).toBe('day-of-week field "1.5": unexpected character "."');
    expect(rejection('1,,2 * * * *').message).toBe('minute field "1,,2": empty list item (check the commas)');
    expect(rejection('1-2-3 * * * *').message).toBe('minute field "1-2-3": "1-2-3" is not a valid range');
    expect(rejection('-5 * * * *').message).toBe('minute field "-5": a value is missing');
    expect(rejection('*-5 * * * *').message).toMatch(/"\*" can only be used alone or as "\*\/step"/);
    expect(rejection('1/2/3 * * * *').message).toBe('minute field "1/2/3": "1/2/3" has more than one "/"');
  });

  it('rejects out-of-range values', () => {
    expect(rejection('60 * * * *').message).toBe('minute field "60": value 60 is out of range 0-59');
    expect(rejection('0 24 * * *').message).toBe('hour field "24": value 24 is out of range 0-23');
    expect(rejection('0 0 0 * *').message).toBe('day-of-month field "0": value 0 is out of range 1-31');
    expect(rejection('0 0 32 * *').message).toBe('day-of-month field "32": value 32 is out of range 1-31');
    expect(rejection('0 0 * 13 *').message).toBe('month field "13": value 13 is out of range 1-12 or JAN-DEC');
    expect(rejection('0 0 * * 8').message).toBe(
      'day-of-week field "8": value 8 is out of range 0-7 (0 and 7 are Sunday) or SUN-SAT',
    );
    expect(rejection('0-60 * * * *').message).toBe('minute field "0-60": value 60 is out of range 0-59');
  });

  it('rejects zero and non-numeric steps', () => {
    expect(rejection('*/0 * * * *').message).toBe('minute field "*/0": step "0" in "*/0" must be a positive whole number');
    expect(rejection('*/x * * * *').message).toBe('minute field "*/x": step "x" in "*/x" must be a positive whole number');
  });

  it('rejects patterns that can never fire', () => {
    expect(rejection('0 0 31 2 *').message).toBe('never fires: day 31 of the month does not occur in February');
    expect(rejection('0 0 30 2 *').message).toBe('never fires: day 30 of the month does not occur in February');
    expect(rejection('0 0 30,31 FEB *').message).toBe('never fires: days 30, 31 of the month do not occur in February');
    expect(rejection('0 0 31 2,4,6 *').message).toBe(
      'never fires: day 31 of the month does not occur in February, April or June',
    );
  });

  it('accepts day/month combinations that fire at least sometimes', () => {
    expect(() => parseUnixCron('0 0 29 2 *')).not.toThrow(); // leap years
    expect(() => parseUnixCron('0 0 31 2,3 *')).not.toThrow(); // 31 March
    expect(() => parseUnixCron('0 0 31 2 1')).not.toThrow(); // Mondays of February (OR)
  });

  it('rejects wrap-around ranges and suggests an ascending list', () => {
    expect(rejection('0 22-2 * * *').message).toBe(
      'hour field "22-2": range "22-2" wraps around (22 > 2); wrap-around ranges are not supported, write it as a list such as "22-23,0-2"',
    );
    expect(rejection('0 0 * * SAT-MON').message).toBe(
      'day-of-week field "SAT-MON": range "SAT-MON" wraps around (6 > 1); wrap-around ranges are not supported, write it as a list such as "0-1,6"',
    );
    expect(rejection('0 0 * NOV-FEB *').message).toMatch(/wraps around \(11 > 2\).*"11-12,1-2"/);
    expect(rejection('0 0 * * 7-2').message).toMatch(/wraps around \(7 > 2\).*"0-2"/);
  });

  it('rejects non-standard extensions', () => {
    expect(rejection('0 0 L * *').message).toMatch(/^day-of-month field "L": "L" \(last day \/ nearest weekday\) is not standard Unix cron/);
    expect(rejection('0 0 15W * *').message).toMatch(/"15W" \(last day \/ nearest weekday\) is not standard/);
    expect(rejection('0 0 * * 5L').message).toMatch(/"5L" \(last day \/ nearest weekday\) is not standard/);
    expect(rejection('0 0 * * 5#2').message).toMatch(/"#" \(nth weekday of the month\) is not standard Unix cron/);
    expect(rejection('H * * * *').message).toMatch(/"H" \(hashed value\) is not standard Unix cron/);
    expect(rejection('? * * * *').message).toBe('minute field "?": "?" is only allowed in the day-of-month and day-of-week fields');
    expect(rejection('0 0 1,? * *').message).toBe('day-of-month field "1,?": "?" must be the whole field');
  });

  it('rejects non-strings and absurdly long input', () => {
    expect(() => parseUnixCron(42 as unknown as string)).toThrow(new InvalidCronError('must be a string'));
    expect(rejection(`${'1,'.repeat(600)}1 * * * *`).message).toMatch(/^too long/);
  });

  it('exposes an InvalidCronError with its name', () => {
    const error = rejection('bad');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InvalidCronError');
  });
});

describe('parseUnixCron results', () => {
  it('expands fields and folds Sunday 7 into 0', () => {
    const parsed = parseUnixCron(' */15 9-17 * * 1-5 ');
    expect(parsed.pattern).toBe('*/15 9-17 * * 1-5');
    expect(parsed.minutes).toEqual([0, 15, 30, 45]);
    expect(parsed.hours).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(parsed.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.dayOfMonthRestricted).toBe(false);
    expect(parsed.dayOfWeekRestricted).toBe(true);
    expect(parsed.canonical).toBe('0,15,30,45 9-17 * * 1-5');

    expect(parseUnixCron('0 12 * * 0,7').daysOfWeek).toEqual([0]);
    expect(parseUnixCron('0 12 * * 5-7').daysOfWeek).toEqual([0, 5, 6]);
    expect(parseUnixCron('0 0 * * 1-7/2').daysOfWeek).toEqual([0, 1, 3, 5]);
  });

  it('accepts names in any case, "?" in the day fields and runs of whitespace', () => {
    const parsed = parseUnixCron('0\t0  ?  jan,Mar-may mon-FRI');
    expect(parsed.months).toEqual([1, 3, 4, 5]);
    expect(parsed.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.dayOfMonthRestricted).toBe(false);
  });

  it('treats repeated values as their union', () => {
    expect(parseUnixCron('1-5,3,4 * * * *').minutes).toEqual([1, 2, 3, 4, 5]);
    expect(parseUnixCron('0 12 * * 0,7').canonical).toBe('0 12 * * 0');
  });

  it('follows cron-parser: a day field is restricted unless it is exactly * or ?', () => {
    expect(parseUnixCron('0 0 */1 * 1').dayOfMonthRestricted).toBe(true);
    expect(parseUnixCron('0 0 1-31 * 1').dayOfMonthRestricted).toBe(true);
    expect(parseUnixCron('0 0 ? * 1').dayOfMonthRestricted).toBe(false);
  });
});

describe('toEventBridgeExpressions', () => {
  it.each([
    ['*/5 * * * *', ['cron(0/5 * * * ? *)']],
    ['* * * * *', ['cron(* * * * ? *)']],
    ['0 9 * * 1-5', ['cron(0 9 ? * 2-6 *)']],
    ['0 0 * * 0', ['cron(0 0 ? * 1 *)']],
    ['0 0 * * 7', ['cron(0 0 ? * 1 *)']],
    ['0 12 * * 0,7', ['cron(0 12 ? * 1 *)']],
    ['0 0 * * 6', ['cron(0 0 ? * 7 *)']],
    ['0 0 * * 5-7', ['cron(0 0 ? * 1,6,7 *)']],
    ['0 0 * * SAT,SUN', ['cron(0 0 ? * 1,7 *)']],
    ['0 0 * * MON-FRI', ['cron(0 0 ? * 2-6 *)']],
    ['0 0 * * */2', ['cron(0 0 ? * 1,3,5,7 *)']],
    ['0 0 * * 1-7', ['cron(0 0 * * ? *)']],
    ['0 0 1 JAN *', ['cron(0 0 1 1 ? *)']],
    ['0 0 1 jan-mar,OCT-dec *', ['cron(0 0 1 1-3,10-12 ? *)']],
    ['*/15 9-17 * * 1-5', ['cron(0/15 9-17 ? * 2-6 *)']],
    ['0 0 1 * 1', ['cron(0 0 1 * ? *)', 'cron(0 0 ? * 2 *)']],
    ['0 0 1,15 * 5', ['cron(0 0 1,15 * ? *)', 'cron(0 0 ? * 6 *)']],
    ['*/7 */5 */3 */2 */2', ['cron(0/7 0/5 1/3 1/2 ? *)', 'cron(0/7 0/5 ? 1/2 1,3,5,7 *)']],
    ['5/15 * * * *', ['cron(5/15 * * * ? *)']],
    ['0,30 * * * *', ['cron(0/30 * * * ? *)']],
    ['10-59/10 * * * *', ['cron(10,20,30,40,50 * * * ? *)']],
    ['50,55 * * * *', ['cron(50,55 * * * ? *)']],
    ['0 0-23/6 * * *', ['cron(0 0/6 * * ? *)']],
    ['0 1-3,5 * * *', ['cron(0 1-3,5 * * ? *)']],
    ['59 23 31 12 *', ['cron(59 23 31 12 ? *)']],
    ['0 0 29 2 *', ['cron(0 0 29 2 ? *)']],
    // Days that no selected month has are dropped; all days of the selected months is "*".
    ['0 0 15,31 2 *', ['cron(0 0 15 2 ? *)']],
    ['0 0 1-29 2 *', ['cron(0 0 * 2 ? *)']],
    ['0 0 30,31 2 1', ['cron(0 0 ? 2 2 *)']],
    // cron-parser semantics: "*/1" is restricted, so with a weekday it means every day (OR).
    ['0 0 */1 * 1', ['cron(0 0 * * ? *)']],
    ['0 0 ? * 1', ['cron(0 0 ? * 2 *)']],
  ])('converts "%s"', (pattern, expected) => {
    expect(toEventBridgeExpressions(pattern)).toEqual(expected);
  });

  it('never emits "*/" and always passes the grammar check', () => {
    for (const pattern of ['*/5 */2 */3 */2 *', '*/1 */1 */1 */1 */1', '0 0 * * 1-7/2']) {
      for (const expression of toEventBridgeExpressions(pattern)) {
        expect(expression).not.toContain('*/');
        expect(() => assertEventBridgeGrammar(expression)).not.toThrow();
      }
    }
  });

  it('stays within 256 characters for the longest possible field lists', () => {
    const pairs = (from: number, to: number): string => {
      const out: number[] = [];
      for (let v = from; v <= to; v++) if ((v - from) % 3 !== 2) out.push(v);
      return out.join(',');
    };
    const [expression] = toEventBridgeExpressions(`${pairs(1, 59)} ${pairs(1, 23)} ${pairs(1, 31)} 1,2,4,5,7,9,11,12 *`);
    expect(expression).toBeDefined();
    expect(expression!.length).toBeLessThanOrEqual(256);
    expect(expression!.length).toBeGreaterThan(230);
  });

  it('propagates validation errors', () => {
    expect(() => toEventBridgeExpressions('0 0 31 2 *')).toThrow(InvalidCronError);
  });
});

describe('nextFireTimes', () => {
  const from = new Date('2027-01-01T09:00:00Z'); // a Friday, and itself a fire time below

  it('returns UTC fire times strictly after "from"', () => {
    expect(nextFireTimes('0 9 * * 1-5', from, 3).map((d) => d.toISOString())).toEqual([
      '2027-01-04T09:00:00.000Z',
      '2027-01-05T09:00:00.000Z',
      '2027-01-06T09:00:00.000Z',
    ]);
  });

  it('handles leap days, Sunday as 7 and repeated values', () => {
    expect(nextFireTimes('0 0 29 2 *', from, 2).map((d) => d.toISOString())).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2032-02-29T00:00:00.000Z',
    ]);
    expect(nextFireTimes('0 12 * * 0,7', from, 2).map((d) => d.toISOString())).toEqual([
      '2027-01-03T12:00:00.000Z',
      '2027-01-10T12:00:00.000Z',
    ]);
  });

  it('fires on either day field when both are restricted', () => {
    expect(nextFireTimes('0 0 1 * 1', from, 3).map((d) => d.toISOString())).toEqual([
      '2027-01-04T00:00:00.000Z',
      '2027-01-11T00:00:00.000Z',
      '2027-01-18T00:00:00.000Z',
    ]);
    expect(nextFireTimes('0 0 1 * 1', new Date('2027-01-26T00:00:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2027-02-01T00:00:00.000Z', // the 1st, also a Monday
      '2027-02-08T00:00:00.000Z',
    ]);
  });

  it('validates its arguments', () => {
    expect(nextFireTimes('* * * * *', from, 0)).toEqual([]);
    expect(() => nextFireTimes('* * * * *', from, -1)).toThrow(RangeError);
    expect(() => nextFireTimes('* * * * *', from, 1.5)).toThrow(RangeError);
    expect(() => nextFireTimes('* * * * *', new Date('nope'), 1)).toThrow(RangeError);
    expect(() => nextFireTimes('60 * * * *', from, 1)).toThrow(InvalidCronError);
  });
});

describe('assertEventBridgeGrammar', () => {
  it.each([
    'cron(0/5 * * * ? *)',
    'cron(0 9 ? * 2-6 *)',
    'cron(0 12 ? JAN-MAR MON-FRI 2027-2029)',
    'cron(15 10 ? * 6L *)',
    'cron(15 10 ? * 6#3 *)',
    'cron(0 8 1W * ? *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0,30 1-5,7 1/3 1/2 ? 2030/2)',
  ])('accepts %s', (expression) => {
    expect(() => assertEventBridgeGrammar(expression)).not.toThrow();
  });

  it.each([
    ['0/5 * * * ? *', /must have the form cron\(/],
    ['cron(0 0 * * ?)', /expected 6 fields/],
    ['cron(0  0 * * ? *)', /expected 6 fields separated by single spaces/],
    ['cron(0 0 ? * ? *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 0 * * * *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 0 1 * 1 *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(*/5 * * * ? *)', /"\*" must stand alone \(write steps as start\/step/],
    ['cron(60 * * * ? *)', /minutes value 60 is out of range 0-59/],
    ['cron(0 24 * * ? *)', /hours value 24 is out of range 0-23/],
    ['cron(0 0 32 * ? *)', /day-of-month value 32 is out of range 1-31/],
    ['cron(0 0 * 13 ? *)', /month value 13 is out of range 1-12/],
    ['cron(0 0 ? * 0 *)', /day-of-week value 0 is out of range 1-7/],
    ['cron(0 0 ? * 8 *)', /day-of-week value 8 is out of range 1-7/],
    ['cron(0 0 * * ? 1969)', /year value 1969 is out of range/],
    ['cron(0 22-2 * * ? *)', /range "22-2" wraps around/],
    ['cron(0 0 ? * SAT-MON *)', /range "SAT-MON" wraps around/],
    ['cron(0 0 ? * 2#1,3#2 *)', /at most one "#"/],
    ['cron(0 0 ? * 2#6 *)', /occurrence after "#" must be 1-5/],
    ['cron(0 L * * ? *)', /hours field "L" contains characters that are not allowed/],
    ['cron(0 0 ? * 2/2 *)', /day-of-week field "2\/2" contains characters that are not allowed/],
    ['cron(0 0 * JAN#2 ? *)', /month field "JAN#2" contains characters/],
    ['cron(0 0 * FOO ? *)', /month value "FOO" is not a number or name/],
    ['cron(0 0 1,L * ? *)', /L and W must stand alone/],
    ['cron(0 0 1,? * ? *)', /"\?" must stand alone/],
    ['cron(1-5/2 * * * ? *)', /"1-5\/2" must be start\/step/],
    ['cron(0 0 * * ? *)'.replace('0 0', `${'1,'.repeat(120)}1 0`), /longer than 256 characters/],
  ])('rejects %s', (expression, message) => {
    expect(() => assertEventBridgeGrammar(expression)).toThrow(message);
  });
});
