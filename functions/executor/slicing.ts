import type { Step } from '../domain/experiment.js';
import { interpolate } from '../domain/templating.js';
import { TRIAL_LIMITS } from '../domain/trial-limits.js';
import type { ExperimentSnapshot, TrialCheckpoint } from '../domain/trial.js';
import type { JsonObject } from '../domain/types.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import { DEFAULT_MAX_RUN_MS } from '../modules/types.js';
import { isJsonObject } from './record-format.js';

/**
 * Slices: a trial that cannot finish in one worker invocation saves a checkpoint
 * (where it goes on, what it concluded, a suspended step's state) and its message
 * is handed back to the queue until it can go on. The message is deleted only when
 * the trial is final, so nothing behind it in the FIFO group overtakes it.
 */

/**
 * How long after its lease a trial is left alone: the queue's own visibility
 * timeout (16 minutes) brings a message back when its worker died or could not
 * hand it back, and the next worker needs a moment to claim it.
 */
export const LEASE_SLACK_MS = 20 * 60 * 1000;
/** A run without a time budget (local mode) holds its lease this long per slice. */
export const UNBUDGETED_LEASE_MS = 24 * 60 * 60 * 1000;

export function initialCheckpoint(): TrialCheckpoint {
  return { phase: 'pre_steps', index: 0, post_failed: [] };
}

/** The time by which a worker should have touched the trial again, for the watchdog. */
export function leaseUntil(now: number, until: number | undefined): string {
  return new Date(Math.max(now, until ?? now + UNBUDGETED_LEASE_MS) + LEASE_SLACK_MS).toISOString();
}

export function whereOf(step: Step, params: JsonObject): JsonObject {
  const where = interpolate(step.where, params);
  return isJsonObject(where) ? where : {};
}

/** The longest one call of the step's module may take with these arguments. */
export function maxRunMs(registry: ModuleRegistry, step: Step, where: JsonObject): number {
  const module = registry.get(step.do);
  return module?.maxRunMs ? module.maxRunMs(where) : DEFAULT_MAX_RUN_MS;
}

/** The least time a step lasts in total (a wait's length; a call's worst case otherwise). */
export function minTotalMs(registry: ModuleRegistry, step: Step, where: JsonObject): number {
  const module = registry.get(step.do);
  if (module?.minTotalMs) {
    const ms = module.minTotalMs(where);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }
  return 0;
}

/** What the post steps need at most (each call's worst case, each wait's length): kept back from the main steps at the trial's end of life. */
export function postStepsReserveMs(registry: ModuleRegistry, experiment: ExperimentSnapshot | undefined, params: JsonObject): number {
  return (experiment?.post_steps ?? []).reduce((sum, step) => {
    const where = whereOf(step, params);
    return sum + Math.max(maxRunMs(registry, step, where), minTotalMs(registry, step, where));
  }, 0);
}

/** The last moment a main step may start: the trial's end of life (queue retention) less what the post steps need. */
export function mainStepsEndOfLife(createdAt: string, reserveMs: number): number {
  return Date.parse(createdAt) + TRIAL_LIMITS.maxTrialMs - reserveMs;
}
