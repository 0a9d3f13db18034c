import type { Step } from './experiment.js';
import type { Json, JsonObject } from './types.js';

const PLACEHOLDER_SOURCE = String.raw`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`;
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

function hasValue(params: JsonObject, name: string): boolean {
  // Own properties only: `{{ constructor }}` must not find Object.prototype.constructor.
  return Object.hasOwn(params, name);
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
    if (whole?.[1] !== undefined && hasValue(params, whole[1])) return structuredClone(params[whole[1]] as Json);
    return value.replace(placeholderPattern(), (text: string, name: string) => (hasValue(params, name) ? stringify(params[name] as Json) : text));
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
      if (!hasValue(params, name)) missing.add(name);
    }
  }
  return [...missing].sort();
}
