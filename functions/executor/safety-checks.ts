import type { Experiment } from '../domain/experiment.js';
import { describeHalt } from '../domain/safety/halt.js';
import { haltRefusal } from '../domain/safety/halt-refusal.js';
import type { Trial } from '../domain/trial.js';
import type { Clock, SafetyStore } from '../ports.js';
import type { SafetyGate } from '../use-cases/safety-gate.js';

/** What the executor asks of the safety rules: may a trial start, and was a stop a halt's doing. */
export interface ExecutorSafety {
  /** Why the trial may not start now (a halt or freeze window), as its record's closing line; undefined = it may. */
  refuseStart(trial: Trial, experiment: Experiment): Promise<string | undefined>;
  /** For a stopped trial: the halt in force over it, if any, so its record names what stopped it. */
  haltNote(trial: Trial, experiment: Experiment | undefined): Promise<string | undefined>;
}

/**
 * A trial is checked once more when the worker picks it up: one accepted just
 * before a halt was engaged, or queued until a freeze window opened, does not start.
 */
export function makeExecutorSafety(deps: { gate: SafetyGate; safety: SafetyStore; clock: Clock }): ExecutorSafety {
  return {
    async refuseStart(trial, experiment) {
      const refusal = await deps.gate.refusal({ experimentId: experiment.id, experimentMetadata: experiment.metadata, trialMetadata: trial.metadata }, 'worker');
      return refusal ? `Trial Aborted: ${refusal.message} No step was run.` : undefined;
    },
    async haltNote(trial, experiment) {
      const rules = await deps.safety.standingRules();
      const refusal = haltRefusal(rules.halts, { experimentId: trial.experiment, experimentMetadata: experiment?.metadata, trialMetadata: trial.metadata }, deps.clock.now());
      return refusal ? `The stop was requested by ${describeHalt(refusal.halt)}.` : undefined;
    },
  };
}
