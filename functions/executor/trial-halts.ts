import type { AppLogger } from '../app-logger.js';
import type { Experiment } from '../domain/experiment.js';
import { emptyTrialRecord, type Trial, type TrialState } from '../domain/trial.js';
import type { ExperimentStore, SafetyMetrics, TrialStore } from '../ports.js';
import { messageOf } from './record-format.js';
import type { ExecutorSafety } from './safety-checks.js';
import type { TrialLog } from './trial-log.js';

export interface TrialHaltDeps {
  safety?: ExecutorSafety;
  experiments: ExperimentStore;
  trials: TrialStore;
  metrics?: SafetyMetrics;
  logger: AppLogger;
  log: TrialLog;
}

/** What the executor asks of the halts and freeze windows while it runs a trial. */
export function makeTrialHalts(deps: TrialHaltDeps) {
  const { safety, experiments, trials, logger, log } = deps;

  /** The stored experiment (id, metadata) the safety rules match on; a snapshot lacks them. */
  const storedExperiment = (trial: TrialState): Promise<Experiment | undefined> => experiments.get(trial.experiment, { includeDeleted: true });
  const asTrial = (state: TrialState): Trial => ({ ...state, trial_record: emptyTrialRecord() });

  return {
    storedExperiment,
    asTrial,

    /** A stopped trial's record names the halt behind the stop, when one is in force (best effort: the stop stands either way). */
    async noteHalt(trial: TrialState, lines: string[]): Promise<void> {
      if (!safety) return;
      try {
        const note = await safety.haltNote(asTrial(trial), await storedExperiment(trial));
        if (note) lines.push(log.error(note));
      } catch (error) {
        logger.warn('Could not read the halts for a stopped trial', { trialId: trial.id, error: messageOf(error) });
      }
    },

    /**
     * A halt engaged while the trial runs stops it, as the halt's own sweep does (which may
     * have missed it: it had not started yet, or the sweep's write failed). Asked when a
     * parked trial comes back and between its main steps; a halt that applies moves it to
     * `Stop Initiated`. Best effort: a failed read lets the trial go on to the next check.
     */
    async stoppedByHalt(trial: TrialState, stored: { experiment?: Experiment | undefined; read?: boolean }): Promise<boolean> {
      if (!safety) return false;
      try {
        if (!stored.read) stored.experiment = await storedExperiment(trial);
        stored.read = true;
        const note = await safety.haltNote(asTrial(trial), stored.experiment);
        if (!note) return false;
        const moved = await trials.transition(trial.id, ['In Progress'], 'Stop Initiated');
        if (moved) {
          deps.metrics?.increment('TrialStoppedByHalt', { source: 'worker' });
          logger.warn('Trial stopped by a halt found by the worker', { trialId: trial.id, halt: note });
        }
        return true;
      } catch (error) {
        logger.warn('Could not check the halts for a running trial', { trialId: trial.id, error: messageOf(error) });
        return false;
      }
    },
  };
}
