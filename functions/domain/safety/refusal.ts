import type { JsonObject } from '../types.js';
import { describeFreeze, freezeOccurrenceAt, type FreezeWindow, type Occurrence } from './freeze.js';
import { describeHalt, isHaltActive, type Halt } from './halt.js';
import { describeScope, inScope } from './scope.js';

/** Halts and freeze windows that may apply now (lifted halts and deleted windows left out). */
export interface SafetyRules {
  halts: Halt[];
  freezes: FreezeWindow[];
}

export type SafetyRefusal =
  | { kind: 'halt'; halt: Halt; message: string }
  | { kind: 'freeze'; window: FreezeWindow; occurrence: Occurrence; message: string };

export interface SafetyTarget {
  experimentId: string;
  experimentMetadata?: JsonObject;
  trialMetadata?: JsonObject;
}

/**
 * Why a trial of `target` may not start: an active halt in scope at `now` (the
 * earliest engaged first), else a freeze window in scope covering `freezeAt`
 * (default `now`; a firing passes its scheduled time). Undefined = it may start.
 */
export function safetyRefusal(rules: SafetyRules, target: SafetyTarget, now: Date, freezeAt: Date = now): SafetyRefusal | undefined {
  const labels = { experiment: target.experimentMetadata, trial: target.trialMetadata };
  const halts = rules.halts.filter((halt) => isHaltActive(halt, now) && inScope(halt.scope, labels)).sort((a, b) => a.created_at.localeCompare(b.created_at));
  const halt = halts[0];
  if (halt) {
    return { kind: 'halt', halt, message: `Experiment ${target.experimentId} is halted by ${describeHalt(halt)}, which applies to ${describeScope(halt.scope)}.` };
  }
  for (const window of rules.freezes) {
    if (!inScope(window.scope, labels)) continue;
    const occurrence = freezeOccurrenceAt(window, freezeAt);
    if (occurrence) {
      return { kind: 'freeze', window, occurrence, message: `Experiment ${target.experimentId} is frozen by ${describeFreeze(window, occurrence)}, which applies to ${describeScope(window.scope)}.` };
    }
  }
  return undefined;
}
