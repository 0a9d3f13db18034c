import type { ErrorObject, ValidateFunction } from 'ajv';
import type { FieldError } from '../domain/errors.js';

/*
 * What every validator's caller needs at run time: the Validator shape and the mapping
 * of ajv's errors to field errors. Nothing here loads ajv's compiler (see compile.ts),
 * so the Lambda bundles, whose validators are compiled at build time, leave it out.
 */

function decodePointerSegment(raw: string): string {
  return raw.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** ajv's `/steps/0/do` under a prefix → `steps[0].do`; names the missing or extra property itself. */
export function errorPath(prefix: string, error: ErrorObject): string {
  let path = prefix;
  const append = (key: string): void => {
    path += /^\d+$/.test(key) ? `[${key}]` : path === '' ? key : `.${key}`;
  };
  for (const raw of error.instancePath.split('/').slice(1)) append(decodePointerSegment(raw));
  const params = error.params as Record<string, unknown>;
  const child = params['missingProperty'] ?? params['additionalProperty'];
  if (typeof child === 'string') append(child);
  return path;
}

export function errorMessage(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed field';
    case 'enum':
      return `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/** Turns ajv errors into field errors, one per field and keyword (ajv repeats itself for `anyOf`). */
export function toFieldErrors(errors: readonly ErrorObject[] | null | undefined, prefix: string, root = 'body'): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors ?? []) {
    const path = errorPath(prefix, error) || root;
    const message = errorMessage(error);
    const id = `${path}\u0000${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ path, message });
  }
  return out;
}

export function valueAtPointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[decodePointerSegment(raw)];
  }
  return current;
}

/** A validator with ajv's calling convention: returns validity, leaves `errors` behind. */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** Compiled on first use: a cold start pays only for the operations it serves. */
export function lazyValidator(compile: () => ValidateFunction): Validator {
  let compiled: ValidateFunction | undefined;
  const validator: Validator = (data: unknown) => {
    compiled ??= compile();
    const valid = compiled(data);
    validator.errors = compiled.errors;
    return valid;
  };
  return validator;
}

export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

