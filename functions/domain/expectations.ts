import { isDeepStrictEqual } from 'node:util';
import { EXPECTATION_OPERATORS, type Expectation, type ExpectationOperator } from './experiment.js';
import { isSecretKey, REDACTED } from './redaction.js';
import { testRegex } from './regex.js';
import type { Json } from './types.js';

export interface ExpectationResult {
  passed: boolean;
  /** One line for the trial record: what was checked, expected vs actual. */
  message: string;
}

export interface ExpectationsOutcome {
  passed: boolean;
  results: ExpectationResult[];
}

export type PathLookup = { found: true; value: Json } | { found: false };

const MAX_SHOWN_LENGTH = 200;

/**
 * Reads a dotted path (`response.data.id`, `response.items.0.id`) out of a
 * step's output. `value` names the output itself when it is not an object.
 * A key that itself contains dots (`a.b`) is found too: at each level the
 * longest matching key wins.
 */
export function getPath(output: Json, path: string): PathLookup {
  if (path === 'value' && (output === null || typeof output !== 'object')) return { found: true, value: output };
  if (path === '') return { found: true, value: output };
  return walk(output, path.split('.'));
}

function walk(current: Json, segments: string[]): PathLookup {
  if (segments.length === 0) return { found: true, value: current };
  if (current === null || typeof current !== 'object') return { found: false };
  for (let take = segments.length; take >= 1; take -= 1) {
    const key = segments.slice(0, take).join('.');
    const child = childOf(current, key);
    if (child.found) {
      const rest = walk(child.value, segments.slice(take));
      if (rest.found) return rest;
    }
  }
  return { found: false };
}

function childOf(container: Json[] | { [key: string]: Json }, key: string): PathLookup {
  if (Array.isArray(container)) {
    if (!/^\d+$/.test(key)) return { found: false };
    const index = Number(key);
    return index < container.length ? { found: true, value: container[index] as Json } : { found: false };
  }
  return Object.hasOwn(container, key) ? { found: true, value: container[key] as Json } : { found: false };
}

/** A number, or a string that reads as a finite number ("200", " 1.5 "). */
function asNumber(value: Json): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function isObjectLike(value: Json): boolean {
  return value !== null && typeof value === 'object';
}

function show(value: Json, secret: boolean): string {
  if (secret) return REDACTED;
  const text = JSON.stringify(value);
  return text.length > MAX_SHOWN_LENGTH ? `${text.slice(0, MAX_SHOWN_LENGTH)}…` : text;
}

type Verdict = { passed: boolean } | { error: string };

function equal(actual: Json, expected: Json): boolean {
  const a = asNumber(actual);
  const e = asNumber(expected);
  if (a !== undefined && e !== undefined) return a === e;
  if (isObjectLike(actual) || isObjectLike(expected)) return isDeepStrictEqual(actual, expected);
  // Primitives of different JSON types compare by their text: `true` equals "true".
  return String(actual) === String(expected);
}

function order(operator: 'lt' | 'le' | 'gt' | 'ge', actual: Json, expected: Json): Verdict {
  const a = asNumber(actual);
  const e = asNumber(expected);
  let cmp: number;
  if (a !== undefined && e !== undefined) cmp = a === e ? 0 : a < e ? -1 : 1;
  else if (typeof actual === 'string' && typeof expected === 'string') cmp = actual === expected ? 0 : actual < expected ? -1 : 1;
  else return { error: `cannot order ${typeName(actual)} against ${typeName(expected)} (${operator} needs two numbers or two strings)` };
  switch (operator) {
    case 'lt':
      return { passed: cmp < 0 };
    case 'le':
      return { passed: cmp <= 0 };
    case 'gt':
      return { passed: cmp > 0 };
    case 'ge':
      return { passed: cmp >= 0 };
  }
}

function typeName(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function matches(actual: Json, pattern: Json): Verdict {
  if (typeof pattern !== 'string') return { error: `regex pattern must be a string, got ${typeName(pattern)}` };
  const subject = typeof actual === 'string' ? actual : JSON.stringify(actual);
  const result = testRegex(pattern, subject);
  return result.ok ? { passed: result.matched } : { error: result.error };
}

function judge(operator: ExpectationOperator, actual: Json, expected: Json): Verdict {
  switch (operator) {
    case 'eq':
      return { passed: equal(actual, expected) };
    case 'ne':
      return { passed: !equal(actual, expected) };
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return order(operator, actual, expected);
    case 'regex':
      return matches(actual, expected);
  }
}

function isOperator(value: unknown): value is ExpectationOperator {
  return typeof value === 'string' && (EXPECTATION_OPERATORS as readonly string[]).includes(value);
}

/** Checks one `{ operator, <path>: expected }` entry; each path key is one check. */
function evaluateOne(expectation: Expectation, output: Json, position: number): ExpectationResult[] {
  const { operator, ...checks } = expectation as { operator: unknown } & { [path: string]: Json };
  if (!isOperator(operator)) {
    return [{ passed: false, message: `Expectation ${position} has an unknown operator ${JSON.stringify(operator)}; use one of ${EXPECTATION_OPERATORS.join(', ')}.` }];
  }
  const paths = Object.keys(checks);
  if (paths.length === 0) return [{ passed: false, message: `Expectation ${position} names no output path to check.` }];
  return paths.map((path) => {
    const expected = checks[path] as Json;
    const secret = path.split('.').some(isSecretKey);
    const lookup = getPath(output, path);
    if (!lookup.found) {
      return { passed: false, message: `Expectation failed: ${path} ${operator} ${show(expected, secret)}, but the step output has no "${path}".` };
    }
    const verdict = judge(operator, lookup.value, expected);
    const actualText = show(lookup.value, secret);
    if ('error' in verdict) {
      return { passed: false, message: `Expectation failed: ${path} ${operator} ${show(expected, secret)}, actual ${actualText}: ${verdict.error}.` };
    }
    return verdict.passed
      ? { passed: true, message: `Expectation passed: ${path} ${operator} ${show(expected, secret)} (actual ${actualText}).` }
      : { passed: false, message: `Expectation failed: ${path} expected ${operator} ${show(expected, secret)}, actual ${actualText}.` };
  });
}

/** Judges a step's output against its `expect` list; every entry is checked so the record shows all failures. */
export function evaluateExpectations(expect: readonly Expectation[] | undefined, output: Json): ExpectationsOutcome {
  const results = (expect ?? []).flatMap((expectation, index) => evaluateOne(expectation, output, index + 1));
  return { passed: results.every((r) => r.passed), results };
}
