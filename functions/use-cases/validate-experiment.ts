import type { FieldError } from '../domain/errors.js';
import { STEP_LISTS, type ExperimentDefinition } from '../domain/experiment.js';
import type { ModuleRegistry } from '../modules/registry.js';

/**
 * What the schema cannot say: each step's `do` must be a known command and its
 * `where` must fit that command (placeholders allowed until the trial runs).
 */
export function validateSteps(definition: Partial<ExperimentDefinition>, registry: ModuleRegistry): FieldError[] {
  const errors: FieldError[] = [];
  for (const list of STEP_LISTS) {
    (definition[list] ?? []).forEach((step, index) => {
      const path = `${list}[${index}]`;
      if (!registry.get(step.do)) {
        errors.push({ path: `${path}.do`, message: `unknown step command "${step.do}" in step "${step.step}"; known commands: ${registry.names().join(', ')}` });
        return;
      }
      errors.push(...registry.validateWhere(step.do, step.where, `${path}.where`, true).map((e) => ({ ...e, message: `${e.message} (step "${step.step}")` })));
    });
  }
  return errors;
}
