import type { Expectation } from '../../functions/domain/experiment.js';
import { evaluateExpectations, getPath } from '../../functions/domain/expectations.js';
import { testRegex } from '../../functions/domain/regex.js';
import type { Json } from '../../functions/domain/types.js';

function output(): Json {
  return {
    status_code: 200,
    response_time_in_seconds: 0.25,
    response: { data: { id: 'abc-1', count: '12', tags: ['x', 'y'] }, items: [{ id: 7 }, { id: 8 }], flag: true, nothing: null },
    response_headers: { 'content-type': 'application/json', 'x.dotted': 'yes' },
    api_token: 'tok-secret-value',
  };
}

function check(expectation: Record<string, Json>, out: Json = output()) {
  return evaluateExpectations([expectation as Expectation], out);
}

describe('getPath', () => {
  it('reads dotted paths and array indexes', () => {
    expect(getPath(output(), 'response.data.id')).toEqual({ found: true, value: 'abc-1' });
    expect(getPath(output(), 'response.items.1.id')).toEqual({ found: true, value: 8 });
  });

  it('reads keys that contain dots', () => {
    expect(getPath(output(), 'response_headers.x.dotted')).toEqual({ found: true, value: 'yes' });
  });

  it('reads a plain output as value', () => {
    expect(getPath(42, 'value')).toEqual({ found: true, value: 42 });
    expect(getPath('text', 'value')).toEqual({ found: true, value: 'text' });
  });

  it('reports a missing path', () => {
    expect(getPath(output(), 'response.data.missing')).toEqual({ found: false });
    expect(getPath(output(), 'response.items.5.id')).toEqual({ found: false });
    expect(getPath(output(), 'status_code.deeper')).toEqual({ found: false });
    expect(getPath(output(), 'response.data.constructor')).toEqual({ found: false });
  });

  it('finds null values', () => {
    expect(getPath(output(), 'response.nothing')).toEqual({ found: true, value: null });
  });
});

describe('evaluateExpectations', () => {
  it('passes when there is nothing to check', () => {
    expect(evaluateExpectations(undefined, output())).toEqual({ passed: true, results: [] });
  });

  it('compares numbers with numeric strings as numbers', () => {
    expect(check({ operator: 'eq', status_code: '200' }).passed).toBe(true);
    expect(check({ operator: 'eq', 'response.data.count': 12.0 }).passed).toBe(true);
    expect(check({ operator: 'gt', 'response.data.count': '9' }).passed).toBe(true);
    expect(check({ operator: 'lt', response_time_in_seconds: 1 }).passed).toBe(true);
    expect(check({ operator: 'ge', status_code: 200 }).passed).toBe(true);
    expect(check({ operator: 'le', status_code: 199 }).passed).toBe(false);
  });

  it('compares strings for eq and ne', () => {
    expect(check({ operator: 'eq', 'response.data.id': 'abc-1' }).passed).toBe(true);
    expect(check({ operator: 'ne', 'response.data.id': 'abc-2' }).passed).toBe(true);
    expect(check({ operator: 'eq', 'response.flag': 'true' }).passed).toBe(true);
  });

  it('compares objects and arrays deeply', () => {
    expect(check({ operator: 'eq', 'response.data.tags': ['x', 'y'] }).passed).toBe(true);
    expect(check({ operator: 'ne', 'response.items.0': { id: 8 } }).passed).toBe(true);
  });

  it('orders two strings lexically', () => {
    expect(check({ operator: 'lt', 'response.data.id': 'abd' }).passed).toBe(true);
    expect(check({ operator: 'gt', 'response.data.id': 'abd' }).passed).toBe(false);
  });

  it('fails with a message when ordering values that are not two numbers or two strings', () => {
    const outcome = check({ operator: 'lt', 'response.data.tags': 3 });
    expect(outcome.passed).toBe(false);
    expect(outcome.results[0]?.message).toMatch(/cannot order an array against a number/);
  });

  it('says expected vs actual when an expectation fails', () => {
    const outcome = check({ operator: 'eq', status_code: 503 });
    expect(outcome).toEqual({ passed: false, results: [{ passed: false, message: 'Expectation failed: status_code expected eq 503, actual 200.' }] });
  });

  it('fails with a clear message when the path is missing', () => {
    const outcome = check({ operator: 'eq', 'response.data.nope': 1 });
    expect(outcome.passed).toBe(false);
    expect(outcome.results[0]?.message).toContain('the step output has no "response.data.nope"');
  });

  it('checks every expectation and reports each', () => {
    const outcome = evaluateExpectations([{ operator: 'eq', status_code: 200 }, { operator: 'eq', status_code: 201 }] as Expectation[], output());
    expect(outcome.passed).toBe(false);
    expect(outcome.results.map((r) => r.passed)).toEqual([true, false]);
  });

  it('matches regexes against strings and stringified values', () => {
    expect(check({ operator: 'regex', 'response.data.id': '^abc-\\d$' }).passed).toBe(true);
    expect(check({ operator: 'regex', status_code: '^2\\d\\d$' }).passed).toBe(true);
    expect(check({ operator: 'regex', 'response.data.id': '^zzz' }).passed).toBe(false);
  });

  it('fails with a message on an invalid regex', () => {
    const outcome = check({ operator: 'regex', 'response.data.id': '(' });
    expect(outcome.passed).toBe(false);
    expect(outcome.results[0]?.message).toMatch(/invalid regex/);
  });

  it('fails with a message instead of hanging on catastrophic backtracking', () => {
    const started = Date.now();
    const outcome = check({ operator: 'regex', value: '^(a+)+$' }, `${'a'.repeat(40)}b`);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcome.passed).toBe(false);
    expect(outcome.results[0]?.message).toMatch(/took longer than 100 ms/);
  });

  it('fails on an unknown operator or an expectation without a path', () => {
    expect(check({ operator: 'like', status_code: 200 }).results[0]?.message).toMatch(/unknown operator "like"/);
    expect(check({ operator: 'eq' }).results[0]?.message).toMatch(/names no output path/);
  });

  it('never shows the value of a secret-named path', () => {
    const outcome = check({ operator: 'eq', api_token: 'guess' });
    expect(outcome.results[0]?.message).toBe('Expectation failed: api_token expected eq ***, actual ***.');
  });

  it('reads a plain output through value', () => {
    expect(evaluateExpectations([{ operator: 'eq', value: 5 }] as Expectation[], '5').passed).toBe(true);
  });
});

describe('testRegex', () => {
  it('reports matches', () => {
    expect(testRegex('b+', 'abbc')).toEqual({ ok: true, matched: true });
    expect(testRegex('^b', 'abbc')).toEqual({ ok: true, matched: false });
  });

  it('gives up after the time bound', () => {
    const result = testRegex('^(a+)+$', `${'a'.repeat(40)}!`, 50);
    expect(result.ok).toBe(false);
  });
});
