import { STEP_LISTS } from '../domain/experiment.js';
import { findPlaceholders, isStepOutputReference, STEP_OUTPUTS } from '../domain/templating.js';
import type { ExperimentSnapshot } from '../domain/trial.js';
import type { Json, JsonObject } from '../domain/types.js';

/**
 * `{{ steps.<name>.<path> }}` reads an earlier step's output. A trial runs in slices,
 * so what later steps read is kept in the checkpoint: only the values referenced,
 * each at most MAX_OUTPUT_VALUE_CHARS as JSON (a whole 1 MB body is not carried along).
 */
export const MAX_OUTPUT_VALUE_CHARS = 16 * 1024;

/** Every step-output reference in the experiment's steps. */
export function referencedOutputs(experiment: ExperimentSnapshot | undefined): string[] {
  if (!experiment) return [];
  const refs = new Set<string>();
  for (const list of STEP_LISTS) for (const step of experiment[list]) for (const name of findPlaceholders(step.where)) if (isStepOutputReference(name)) refs.add(name);
  return [...refs];
}

function valueAt(value: Json, path: readonly string[]): { found: boolean; value: Json } {
  let current = value;
  for (const segment of path) {
    if (Array.isArray(current) && /^\d+$/.test(segment) && Number(segment) < current.length) current = current[Number(segment)] as Json;
    else if (current !== null && typeof current === 'object' && !Array.isArray(current) && Object.hasOwn(current, segment)) current = current[segment] as Json;
    else return { found: false, value: null };
  }
  return { found: true, value: current };
}

/** The referenced values a step's output provides, by reference (`steps.probe.status_code` → 200). */
export function captureOutputs(references: readonly string[], stepName: string, output: Json): Record<string, Json> {
  const captured: Record<string, Json> = {};
  for (const ref of references) {
    const [, name, ...path] = ref.split('.');
    if (name !== stepName) continue;
    const found = valueAt(output, path);
    if (found.found && JSON.stringify(found.value).length <= MAX_OUTPUT_VALUE_CHARS) captured[ref] = found.value;
  }
  return captured;
}

/** The `steps` tree the templates read, rebuilt from the captured values. */
export function outputsTree(captured: Record<string, Json> | undefined): JsonObject {
  const root: JsonObject = {};
  for (const [ref, value] of Object.entries(captured ?? {})) {
    const [, ...path] = ref.split('.');
    let node = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        node[segment] = value;
        return;
      }
      const next = node[segment];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {};
      node = node[segment] as JsonObject;
    });
  }
  return { [STEP_OUTPUTS]: root };
}
