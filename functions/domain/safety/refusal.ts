import { describeFreeze, freezeOccurrenceAt, type FreezeWindow, type Occurrence } from './freeze.js';
import type { Halt } from './halt.js';
import { haltRefusal, type HaltRefusal, type SafetyTarget } from './halt-refusal.js';
import { describeScope, inScope } from './scope.js';

export type { SafetyTarget };

/** Halts and freeze windows that may apply now (lifted halts and deleted windows left out). */
export interface SafetyRules {
  halts: Halt[];
  freezes: FreezeWindow[];
}

export type SafetyRefusal = HaltRefusal | { kind: 'freeze'; window: FreezeWindow; occurrence: Occurrence; message: string };

/**
 * Why a trial of `target` may not start: an active halt in scope at `now` (the
 * earliest engaged first), else a freeze window in scope covering `freezeAt`
 * (default `now`; a firing passes its scheduled time). Undefined = it may start.
 */
export function safetyRefusal(rules: SafetyRules, target: SafetyTarget, now: Date, freezeAt: Date = now): SafetyRefusal | undefined {
  const halted = haltRefusal(rules.halts, target, now);
  if (halted) return halted;
  const labels = { experiment: target.experimentMetadata, trial: target.trialMetadata };
  for (const window of rules.freezes) {
    if (!inScope(window.scope, labels)) continue;
    const occurrence = freezeOccurrenceAt(window, freezeAt);
    if (occurrence) {
      return { kind: 'freeze', window, occurrence, message: `Experiment ${target.experimentId} is frozen by ${describeFreeze(window, occurrence)}, which applies to ${describeScope(window.scope)}.` };
    }
  }
  return undefined;
}
