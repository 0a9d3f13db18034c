import type { JsonObject } from '../types.js';
import { describeHalt, isHaltActive, type Halt } from './halt.js';
import { describeScope, inScope } from './scope.js';

export interface SafetyTarget {
  experimentId: string;
  experimentMetadata?: JsonObject;
  trialMetadata?: JsonObject;
}

export interface HaltRefusal {
  kind: 'halt';
  halt: Halt;
  message: string;
}

/**
 * The halt that stops a trial of `target` at `now`: the earliest engaged of the active
 * halts in scope. Kept apart from freeze windows (refusal.ts), whose recurrences need
 * the cron parser and time zones: with no freeze window standing, nothing loads them.
 */
export function haltRefusal(halts: readonly Halt[], target: SafetyTarget, now: Date): HaltRefusal | undefined {
  const labels = { experiment: target.experimentMetadata, trial: target.trialMetadata };
  const halt = halts.filter((h) => isHaltActive(h, now) && inScope(h.scope, labels)).sort((a, b) => a.created_at.localeCompare(b.created_at))[0];
  return halt ? { kind: 'halt', halt, message: `Experiment ${target.experimentId} is halted by ${describeHalt(halt)}, which applies to ${describeScope(halt.scope)}.` } : undefined;
}
