import type { Step } from './experiment.js';
import { findPlaceholders } from './templating.js';
import type { Json, JsonObject } from './types.js';

export const REDACTED = '***';

/** Headers that carry credentials whatever their name says. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const SECRET_WORDS = /password|secret|token|key/i;
/**
 * Only `type` of an `authentication` object (basic / bearer / oauth2_token) or of a
 * `credentials` object (Kallisti's ENV_VAR_USERNAME_PASSWORD…, or a secretsmanager /
 * ssm reference) is safe to show: the rest names or holds what unlocks a system.
 */
const AUTHENTICATION_KEYS = new Set(['authentication', 'credentials']);
const isAuthenticationKey = (key: string): boolean => AUTHENTICATION_KEYS.has(key.toLowerCase());
/** Fields of those objects that name or locate a credential without being one (see collectSecrets). */
const NOT_SECRET_AUTH_FIELDS = new Set(['url', 'resource', 'token_key', 'id', 'key', 'username_key', 'password_key', 'token_path']);
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
    else if (isAuthenticationKey(key) && isObject(item)) out[key] = redactAuthentication(item);
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
  // Views hide all of an authentication or credentials object but its type; free text is scrubbed only of
  // what holds a secret, not of names and addresses (a token URL, a client id, a secret's name stay readable).
  const addAuthenticationValues = (auth: { [key: string]: Json }): void => {
    for (const [authKey, authValue] of Object.entries(auth)) {
      if (AUTHENTICATION_VISIBLE.has(authKey) || NOT_SECRET_AUTH_FIELDS.has(authKey)) continue;
      if (isObject(authValue)) addAuthenticationValues(authValue);
      else addAll(authValue);
    }
  };
  const walk = (item: Json): void => {
    if (Array.isArray(item)) {
      item.forEach(walk);
    } else if (isObject(item)) {
      for (const [key, child] of Object.entries(item)) {
        if (isSecretKey(key)) addAll(child);
        else if (isAuthenticationKey(key) && isObject(child)) {
          addAuthenticationValues(child);
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
      else if (isAuthenticationKey(key) && isObject(child)) {
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

// ---------------------------------------------------------------- views

/**
 * The one redaction rule every view applies (experiments, schedules, trials,
 * reports): parameters hidden by name at any depth (`redact`), and the top-level
 * parameters the steps use in a secret position (`secretParameterNames`).
 * A new kind of secret (a reference to a stored secret, say) is added to
 * `redact`/`visitSecretPositions` above, and every view follows.
 */
export function maskParameters(parameters: JsonObject, steps: readonly Step[]): JsonObject {
  return redact(hideParameters(parameters, secretParameterNames(steps, parameters))) as JsonObject;
}

/** Whether a string takes its content from parameters (`Bearer {{ token }}`): those parameters are masked, the template is not a secret. */
function isTemplate(value: Json): boolean {
  return typeof value === 'string' && findPlaceholders(value).length > 0;
}

/** A step's `where` as views show it: literal secrets masked, templates shown as written (their parameters are masked). */
export function maskWhere(where: JsonObject): JsonObject {
  const walk = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(walk);
    if (!isObject(value)) return value;
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key)) out[key] = isTemplate(item) ? item : maskUnlessTemplate(item);
      else if (isAuthenticationKey(key) && isObject(item)) {
        const auth: { [key: string]: Json } = {};
        for (const [authKey, authValue] of Object.entries(item)) {
          auth[authKey] = AUTHENTICATION_VISIBLE.has(authKey) && typeof authValue === 'string' ? authValue : maskUnlessTemplate(authValue);
        }
        out[key] = auth;
      } else out[key] = walk(item);
    }
    return out;
  };
  return walk(where) as JsonObject;
}

function maskUnlessTemplate(value: Json): Json {
  if (isTemplate(value)) return value;
  if (Array.isArray(value)) return value.map(maskUnlessTemplate);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskUnlessTemplate(v)]));
  return hide(value);
}

interface Definition {
  parameters: JsonObject;
  pre_steps: Step[];
  steps: Step[];
  post_steps: Step[];
}

function stepsOf(definition: Pick<Definition, 'pre_steps' | 'steps' | 'post_steps'>): Step[] {
  return [...(definition.pre_steps ?? []), ...(definition.steps ?? []), ...(definition.post_steps ?? [])];
}

/** An experiment as every view shows it: its parameters and each step's `where` masked. */
export function maskExperiment<T extends Definition>(experiment: T): T {
  const maskSteps = (steps: Step[] | undefined): Step[] => (steps ?? []).map((step) => ({ ...step, where: maskWhere(step.where ?? {}) }));
  return {
    ...experiment,
    parameters: maskParameters(experiment.parameters ?? {}, stepsOf(experiment)),
    pre_steps: maskSteps(experiment.pre_steps),
    steps: maskSteps(experiment.steps),
    post_steps: maskSteps(experiment.post_steps),
  };
}

/** Parameters of a trial or schedule of `experiment` (its steps decide which are used as secrets), as views show them. */
export function maskParametersFor(parameters: JsonObject, experiment: Pick<Definition, 'pre_steps' | 'steps' | 'post_steps'> | undefined): JsonObject {
  return maskParameters(parameters ?? {}, experiment ? stepsOf(experiment) : []);
}

/**
 * What a client sends back after reading a masked view: wherever it sends `***`
 * and the stored value is shown as `***` at the same place, the stored value is
 * kept, so GET → edit → PUT never overwrites a secret with its mask.
 */
export function keepMasked(incoming: Json, stored: Json, storedView: Json): Json {
  if (incoming === REDACTED) return storedView === REDACTED && stored !== undefined ? stored : incoming;
  if (Array.isArray(incoming)) {
    return incoming.map((item, i) => (Array.isArray(stored) && Array.isArray(storedView) ? keepMasked(item, stored[i] as Json, storedView[i] as Json) : item));
  }
  if (isObject(incoming) && isObject(stored) && isObject(storedView)) {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(incoming)) out[key] = Object.hasOwn(stored, key) ? keepMasked(item, stored[key] as Json, storedView[key] as Json) : item;
    return out;
  }
  return incoming;
}
