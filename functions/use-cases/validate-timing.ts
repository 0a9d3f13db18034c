import type { FieldError } from '../domain/errors.js';
import { STEP_LISTS, type ExperimentDefinition } from '../domain/experiment.js';
import { TRIAL_LIMITS } from '../domain/trial-limits.js';
import type { JsonObject } from '../domain/types.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import { DEFAULT_MAX_RUN_MS } from '../modules/types.js';

/** How long one call of a step and a whole trial may take where trials run. */
export interface TimingLimits {
  /** The longest call a worker slice can give (on AWS: TRIAL_LIMITS.maxStepRunMs; locally KALLISTI_WORKER_BUDGET_SECONDS when set). */
  sliceMs: number;
  /** The longest a trial may run (the queue's retention, less a margin). */
  maxTrialMs: number;
}

export const AWS_TIMING_LIMITS: TimingLimits = { sliceMs: TRIAL_LIMITS.maxStepRunMs, maxTrialMs: TRIAL_LIMITS.maxTrialMs };

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
const hours = (ms: number): string => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

/** A duration from a module's own reckoning, or undefined when the where still holds placeholders that decide it. */
function finite(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * What only the run-time limits can say, checked when an experiment is saved:
 * - a step that cannot be split (not resumable) must fit in one worker slice: its
 *   longest call (an HTTP step: its timeout and a second) within `sliceMs`;
 * - the whole experiment, each step at its longest (a wait at its length), must fit
 *   in the longest a trial may run.
 * Values still holding a `{{ }}` placeholder are judged when the trial runs.
 */
export function validateTiming(definition: Partial<ExperimentDefinition>, registry: ModuleRegistry, limits: TimingLimits = AWS_TIMING_LIMITS): FieldError[] {
  const errors: FieldError[] = [];
  let total = 0;
  let over: string | undefined;
  for (const list of STEP_LISTS) {
    (definition[list] ?? []).forEach((step, index) => {
      const module = registry.get(step.do);
      if (!module) return;
      const where: JsonObject = step.where ?? {};
      const call = finite(module.maxRunMs ? module.maxRunMs(where) : DEFAULT_MAX_RUN_MS) ?? 0;
      const least = (module.minTotalMs && finite(module.minTotalMs(where))) || 0;
      if (!module.resumable && call > limits.sliceMs) {
        const field = 'timeout' in where ? `${list}[${index}].where.timeout` : `${list}[${index}]`;
        errors.push({ path: field, message: `step "${step.step}" (${step.do}) may take up to ${seconds(call)} in one call, more than one worker invocation can give (${seconds(limits.sliceMs)}); lower its timeout or split it` });
      }
      total += Math.max(call, least);
      if (over === undefined && total > limits.maxTrialMs) over = `${list}[${index}]`;
    });
  }
  if (over !== undefined) {
    errors.push({ path: over, message: `the experiment may last up to ${hours(total)} with every step at its longest, more than a trial may run (${hours(limits.maxTrialMs)}: the queue keeps a trial's message 14 days); this step is where it goes past` });
  }
  return errors;
}
