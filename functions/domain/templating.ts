import type { Step } from './experiment.js';
import type { Json, JsonObject } from './types.js';

/** `{{ name }}`, or `{{ name.path.to.field }}` into an object value (segments may also hold `-`). */
const PLACEHOLDER_SOURCE = String.raw`\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}`;
/**
 * `{{ steps.<step name>.<path> }}` reads the output of an earlier step of the same
 * run (a step named with letters, digits, `-` and `_`): its value is known only once
 * that step has run, so it is never a missing parameter.
 */
export const STEP_OUTPUTS = 'steps';
/** The whole string is one placeholder: the parameter's value keeps its JSON type. */
const WHOLE_PLACEHOLDER = new RegExp(`^${PLACEHOLDER_SOURCE}$`);

function placeholderPattern(): RegExp {
  // A fresh global regex per use: a shared one would carry `lastIndex` between calls.
  return new RegExp(PLACEHOLDER_SOURCE, 'g');
}

/** Names of every `{{ name }}` in the strings of `value` (deeply; object keys are not templates), first occurrence first. */
export function findPlaceholders(value: Json): string[] {
  const names = new Set<string>();
  visitStrings(value, (text) => {
    for (const match of text.matchAll(placeholderPattern())) {
      if (match[1] !== undefined) names.add(match[1]);
    }
  });
  return [...names];
}

function visitStrings(value: Json, visit: (text: string) => void): void {
  if (typeof value === 'string') {
    visit(value);
  } else if (Array.isArray(value)) {
    for (const item of value) visitStrings(item, visit);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) visitStrings(item, visit);
  }
}

type Lookup = { found: true; value: Json } | { found: false };

/** The value a placeholder names: a parameter, or a field inside one (`a.b.0.c`). Own properties only. */
function lookup(params: JsonObject, name: string): Lookup {
  const [root, ...path] = name.split('.');
  // Own properties only: `{{ constructor }}` must not find Object.prototype.constructor.
  if (root === undefined || !Object.hasOwn(params, root)) return { found: false };
  let value = params[root] as Json;
  for (const segment of path) {
    if (Array.isArray(value) && /^\d+$/.test(segment) && Number(segment) < value.length) value = value[Number(segment)] as Json;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, segment)) value = value[segment] as Json;
    else return { found: false };
  }
  return { found: true, value };
}

function hasValue(params: JsonObject, name: string): boolean {
  return lookup(params, name).found;
}

function valueOf(params: JsonObject, name: string): Json {
  const found = lookup(params, name);
  return found.found ? found.value : null;
}

/** Whether a placeholder reads an earlier step's output (`{{ steps.… }}`). */
export function isStepOutputReference(name: string): boolean {
  return name.startsWith(`${STEP_OUTPUTS}.`);
}

function stringify(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Replaces every placeholder that has a value. A string that is exactly one
 * placeholder becomes the value itself (`"{{ n }}"` with n = 2 gives 2); inside
 * a longer string the value is stringified (objects as JSON). Placeholders
 * without a value are left as they are: check `missingParameters` first.
 */
export function interpolate(value: Json, params: JsonObject): Json {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole?.[1] !== undefined && hasValue(params, whole[1])) return structuredClone(valueOf(params, whole[1]));
    return value.replace(placeholderPattern(), (text: string, name: string) => (hasValue(params, name) ? stringify(valueOf(params, name)) : text));
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, params));
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, params);
    return out;
  }
  return value;
}

/**
 * The values templates see, highest precedence last: a trial's own parameters
 * win over the experiment's. A scheduled trial already carries its schedule's
 * parameters merged into its own, so two levels cover trial > schedule > experiment.
 */
export function resolveParameters(experimentParams: JsonObject | undefined, trialParams: JsonObject | undefined): JsonObject {
  return { ...(experimentParams ?? {}), ...(trialParams ?? {}) };
}

/** Every placeholder name used in the steps' `where` that `params` has no value for, sorted. */
export function missingParameters(steps: readonly Step[], params: JsonObject): string[] {
  const missing = new Set<string>();
  for (const step of steps) {
    for (const name of findPlaceholders(step.where)) {
      if (!isStepOutputReference(name) && !hasValue(params, name)) missing.add(name);
    }
  }
  return [...missing].sort();
}
