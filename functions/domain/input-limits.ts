import type { FieldError } from './errors.js';

/**
 * Limits openapi.json cannot state (OpenAPI 3.0 has no `propertyNames`, no
 * depth or serialized-size keywords) or that the store imposes (DynamoDB
 * numbers, nesting). Checked on every request body after its schema, so each
 * violation is a 400 naming the field instead of a failed write.
 */
export const INPUT_LIMITS = {
  /** Keys of `metadata`, `parameters` and `ticket`. */
  maxKeyLength: 128,
  /** `metadata`, `parameters` and `ticket`, as JSON. */
  maxMetadataBytes: 16 * 1024,
  maxParametersBytes: 16 * 1024,
  maxTicketBytes: 16 * 1024,
  /** One step's `where`, as JSON. */
  maxWhereBytes: 32 * 1024,
  /** One expectation, as JSON. */
  maxExpectationBytes: 4 * 1024,
  /** Nesting levels inside `where`, `parameters`, `ticket` and an expectation (`{"a": 1}` is 1). */
  maxDepth: 16,
  /** Nesting levels of a whole body, whatever the field (DynamoDB stores at most 32). */
  maxBodyDepth: 24,
} as const;

/** DynamoDB keeps 38 digits between 1e-130 and 1e126; the SDK refuses integers it cannot hold exactly. */
const MIN_MAGNITUDE = 1e-130;

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Longer keys are cut short in error paths, so an error never echoes a huge key back. */
const MAX_KEY_IN_PATH = 40;

/** `steps[0].where.headers`, `metadata["odd key"]`. */
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z0-9_$-]+$/.test(key) && key.length <= MAX_KEY_IN_PATH) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key)}]`;
}

function label(path: string): string {
  return path === '' ? 'body' : path;
}

/** Nesting depth, counted only up to `cap` + 1 so a hostile body cannot make this recurse deeply. */
export function depthOf(value: Json, cap: number = INPUT_LIMITS.maxBodyDepth): number {
  if (value === null || typeof value !== 'object') return 0;
  if (cap < 0) return 1;
  let deepest = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, depthOf(item, cap - 1));
    if (deepest > cap) break;
  }
  return deepest + 1;
}

function jsonBytes(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Keys JavaScript gives a meaning: `__proto__` sets an object's prototype when
 * assigned, and `constructor` makes a plain object look like a class instance to
 * the DynamoDB marshaller. Both are refused wherever they appear in a body.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

/**
 * A UTF-16 surrogate without its pair (`"\ud800"` is legal JSON) is not a
 * character: it has no UTF-8 form, so the store cannot keep it as sent.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const NOT_TEXT = 'contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), which is not Unicode text';

/** Numbers the store cannot keep, text that is not Unicode, empty keys and reserved keys, anywhere in the body (depth already bounded). */
function checkValues(value: Json, path: string, errors: FieldError[]): void {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) errors.push({ path: label(path), message: NOT_TEXT });
    return;
  }
  if (typeof value === 'number') {
    const magnitude = Math.abs(value);
    if (!Number.isFinite(value) || magnitude > Number.MAX_SAFE_INTEGER || (magnitude !== 0 && magnitude < MIN_MAGNITUDE)) {
      errors.push({ path: label(path), message: `number ${value} is out of range: numbers must be 0 or between 1e-130 and ${Number.MAX_SAFE_INTEGER} in magnitude` });
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkValues(item, child(path, index), errors));
    return;
  }
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '') errors.push({ path: label(path), message: 'has an empty key' });
      if (LONE_SURROGATE.test(key)) errors.push({ path: label(path), message: `has a key that ${NOT_TEXT}` });
      if (RESERVED_KEYS.has(key)) errors.push({ path: child(path, key), message: `"${key}" is a reserved key name and cannot be stored (reserved: ${[...RESERVED_KEYS].join(', ')})` });
      checkValues(item, child(path, key), errors);
    }
  }
}

function checkMap(body: Record<string, Json>, field: string, maxBytes: number | undefined, errors: FieldError[]): void {
  const map = body[field];
  if (!isObject(map)) return;
  for (const key of Object.keys(map)) {
    if (key.length > INPUT_LIMITS.maxKeyLength) {
      errors.push({ path: child(field, key), message: `key is ${key.length} characters long; keys are at most ${INPUT_LIMITS.maxKeyLength}` });
    }
  }
  checkNested(map, field, maxBytes, errors);
}

function checkNested(value: Json, path: string, maxBytes: number | undefined, errors: FieldError[]): void {
  if (depthOf(value, INPUT_LIMITS.maxDepth) > INPUT_LIMITS.maxDepth) {
    errors.push({ path, message: `is nested more than ${INPUT_LIMITS.maxDepth} levels deep` });
  }
  if (maxBytes !== undefined) {
    const bytes = jsonBytes(value);
    if (bytes > maxBytes) errors.push({ path, message: `is ${bytes} bytes as JSON; the limit is ${maxBytes} bytes` });
  }
}

/** Lists of steps; guards are steps too, with the same limits. */
const STEP_LISTS = ['pre_steps', 'steps', 'post_steps', 'guards'] as const;
/** A hostile body could break a limit thousands of times; the first ones name the problem well enough. */
const MAX_ERRORS = 50;

/** Every limit a schema-valid request body still breaks, each naming its field. */
export function inputLimitErrors(body: Json): FieldError[] {
  const errors: FieldError[] = [];
  if (depthOf(body) > INPUT_LIMITS.maxBodyDepth) {
    return [{ path: 'body', message: `is nested more than ${INPUT_LIMITS.maxBodyDepth} levels deep` }];
  }
  if (!isObject(body)) {
    checkValues(body, '', errors);
    return errors;
  }
  checkMap(body, 'metadata', INPUT_LIMITS.maxMetadataBytes, errors);
  checkMap(body, 'parameters', INPUT_LIMITS.maxParametersBytes, errors);
  checkMap(body, 'ticket', INPUT_LIMITS.maxTicketBytes, errors);
  for (const list of STEP_LISTS) {
    const steps = body[list];
    if (!Array.isArray(steps)) continue;
    steps.forEach((step: Json, index) => {
      if (!isObject(step)) return;
      const at = child(list, index);
      if (step['where'] !== undefined) checkNested(step['where'], `${at}.where`, INPUT_LIMITS.maxWhereBytes, errors);
      const expect = step['expect'];
      if (Array.isArray(expect)) expect.forEach((expectation: Json, e) => checkNested(expectation, `${at}.expect[${e}]`, INPUT_LIMITS.maxExpectationBytes, errors));
    });
  }
  checkValues(body, '', errors);
  return errors.slice(0, MAX_ERRORS);
}
