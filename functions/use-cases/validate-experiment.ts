import type { FieldError } from '../domain/errors.js';
import { STEP_LISTS, type ExperimentDefinition } from '../domain/experiment.js';
import type { Guard } from '../domain/guards.js';
import type { ModuleRegistry } from '../modules/module-registry.js';

/**
 * A guard's `do` must be a probe command (one that only observes); its `where`
 * must fit that command, placeholders allowed until the trial runs.
 */
export async function validateGuards(guards: readonly Guard[] | undefined, registry: ModuleRegistry, path = 'guards'): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  await registry.load((guards ?? []).map((guard) => guard.do));
  for (const [index, guard] of (guards ?? []).entries()) {
    const at = `${path}[${index}]`;
    const module = registry.get(guard.do);
    if (!module || module.probe !== true) {
      await registry.load(registry.names());
      const probes = registry.names().filter((name) => registry.get(name)?.probe === true);
      errors.push({ path: `${at}.do`, message: `guard "${guard.step}" must use a probe command (${probes.join(', ')}), not "${guard.do}"` });
      continue;
    }
    errors.push(...(await registry.validateWhere(guard.do, guard.where, `${at}.where`, true)).map((e) => ({ ...e, message: `${e.message} (guard "${guard.step}")` })));
    if (new Set(guard.when).size !== guard.when.length) errors.push({ path: `${at}.when`, message: `lists a phase twice (guard "${guard.step}")` });
  }
  return errors;
}

/**
 * What the schema cannot say: each step's `do` must be a known command and its
 * `where` must fit that command (placeholders allowed until the trial runs);
 * guards must be probes.
 */
export async function validateSteps(definition: Partial<ExperimentDefinition>, registry: ModuleRegistry): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  await registry.load(STEP_LISTS.flatMap((list) => (definition[list] ?? []).map((step) => step.do)));
  for (const list of STEP_LISTS) {
    for (const [index, step] of (definition[list] ?? []).entries()) {
      const path = `${list}[${index}]`;
      if (!registry.has(step.do)) {
        errors.push({ path: `${path}.do`, message: `unknown step command "${step.do}" in step "${step.step}"; known commands: ${registry.names().join(', ')}` });
        continue;
      }
      errors.push(...(await registry.validateWhere(step.do, step.where, `${path}.where`, true)).map((e) => ({ ...e, message: `${e.message} (step "${step.step}")` })));
    }
  }
  errors.push(...(await validateGuards(definition.guards, registry)));
  return errors;
}
