import type { Step } from './experiment.js';
import { findPlaceholders } from './templating.js';
import type { Json, JsonObject } from './types.js';

export const REDACTED = '***';

/** Headers that carry credentials whatever their name says. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const SECRET_WORDS = /password|secret|token|key/i;
/** Only `type` (basic / bearer) of an `authentication` object is safe to show. */
const AUTHENTICATION_KEY = 'authentication';
const AUTHENTICATION_VISIBLE = new Set(['type']);
/** Shorter strings are not scrubbed out of free text: they would mangle ordinary words. */
const MIN_SCRUB_LENGTH = 3;

/** Whether a value stored under this key must never be shown. */
export function isSecretKey(key: string): boolean {
  return SECRET_HEADERS.has(key.toLowerCase()) || SECRET_WORDS.test(key);
}

/**
 * A copy of `value` safe for trial records and logs: credential headers, any
 * key naming a password/secret/token/key, and the values of `authentication`
 * objects become `***`, at any depth.
 */
export function redact(value: Json): Json {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const [key, item] of Object.entries(value)) {
    if (isSecretKey(key)) out[key] = hide(item);
    else if (key.toLowerCase() === AUTHENTICATION_KEY && isObject(item)) out[key] = redactAuthentication(item);
    else out[key] = redact(item);
  }
  return out;
}

function redactAuthentication(auth: { [key: string]: Json }): Json {
  const out: { [key: string]: Json } = {};
  for (const [key, item] of Object.entries(auth)) {
    out[key] = AUTHENTICATION_VISIBLE.has(key) && typeof item === 'string' ? item : hide(item);
  }
  return out;
}

function hide(value: Json): Json {
  return value === null ? null : REDACTED;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The strings `redact` would hide, so free text (module logs, error messages)
 * can be scrubbed of them too.
 */
export function collectSecrets(value: Json): string[] {
  const secrets = new Set<string>();
  const addAll = (item: Json): void => {
    // Numbers are left alone: scrubbing digits out of text would corrupt timings and statuses.
    if (typeof item === 'string') {
      if (item.length >= MIN_SCRUB_LENGTH) secrets.add(item);
    } else if (Array.isArray(item)) {
      item.forEach(addAll);
    } else if (isObject(item)) {
      Object.values(item).forEach(addAll);
    }
  };
  const walk = (item: Json): void => {
    if (Array.isArray(item)) {
      item.forEach(walk);
    } else if (isObject(item)) {
      for (const [key, child] of Object.entries(item)) {
        if (isSecretKey(key)) addAll(child);
        else if (key.toLowerCase() === AUTHENTICATION_KEY && isObject(child)) {
          for (const [authKey, authValue] of Object.entries(child)) if (!AUTHENTICATION_VISIBLE.has(authKey)) addAll(authValue);
          // What the step actually sends for basic authentication, in case a server echoes it back.
          const { username, password } = child;
          if (typeof username === 'string' || typeof password === 'string') addAll(Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64'));
        } else walk(child);
      }
    }
  };
  walk(value);
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of a secret in `text` with `***`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_SCRUB_LENGTH) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Strings of `value` in which `visit` finds something, at secret positions only (the positions `redact` hides). */
function visitSecretPositions(value: Json, visit: (secretValue: Json) => void): void {
  if (Array.isArray(value)) {
    value.forEach((item) => visitSecretPositions(item, visit));
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (isSecretKey(key)) visit(child);
      else if (key.toLowerCase() === AUTHENTICATION_KEY && isObject(child)) {
        for (const [authKey, authValue] of Object.entries(child)) if (!AUTHENTICATION_VISIBLE.has(authKey)) visit(authValue);
      } else visitSecretPositions(child, visit);
    }
  }
}

/**
 * Parameters that hold credentials: those with a secret-looking name (`token`,
 * `db_password`) and those a step puts in a secret position (`Authorization:
 * "Bearer {{ t }}"`, `authentication.password: "{{ p }}"`), sorted.
 */
export function secretParameterNames(steps: readonly Step[], parameters: JsonObject): string[] {
  const names = new Set(Object.keys(parameters).filter(isSecretKey));
  for (const step of steps) visitSecretPositions(step.where, (secretValue) => findPlaceholders(secretValue).forEach((name) => names.add(name)));
  return [...names].sort();
}

/** The strings to scrub from free text for these parameters' values (longest first). */
export function parameterSecrets(parameters: JsonObject, names: readonly string[]): string[] {
  const secrets = new Set<string>();
  for (const name of names) {
    if (!Object.hasOwn(parameters, name)) continue;
    const found = collectSecrets({ secret: parameters[name] as Json });
    found.forEach((secret) => secrets.add(secret));
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** `parameters` with the named ones hidden, for a record kept after the run. */
export function hideParameters(parameters: JsonObject, names: readonly string[]): JsonObject {
  const out: JsonObject = { ...parameters };
  for (const name of names) if (Object.hasOwn(out, name)) out[name] = hide(out[name] as Json);
  return out;
}

/** A copy of `value` with every secret scrubbed out of its strings (keys are left alone). */
export function scrubJson(value: Json, secrets: readonly string[]): Json {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return scrubText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, secrets));
  if (isObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) out[key] = scrubJson(item, secrets);
    return out;
  }
  return value;
}
