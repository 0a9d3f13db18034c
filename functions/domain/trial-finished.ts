import type { TrialState, TrialStatus } from './trial.js';
import type { JsonObject } from './types.js';

/** What a trial-finished event says: on EventBridge (`source` kallisti, `detail-type` Trial Finished), by email, or to a webhook. */
export interface TrialFinished {
  id: string;
  experiment: string;
  status: TrialStatus;
  ticket: JsonObject;
  /** The schedule that started the trial; null when it was started through the API. */
  schedule: string | null;
  initiated_by: string;
  initiated_from: string;
  executed_at: string | null;
  completed_at: string | null;
  metadata: JsonObject;
}

export const TRIAL_FINISHED_SOURCE = 'kallisti';
export const TRIAL_FINISHED_DETAIL_TYPE = 'Trial Finished';

/** The event for a finished trial: identifiers, outcome and labels only, never parameters or the trial record. */
export function trialFinished(trial: TrialState): TrialFinished {
  return {
    id: trial.id,
    experiment: trial.experiment,
    status: trial.status,
    ticket: trial.ticket,
    schedule: trial.schedule_id,
    initiated_by: trial.initiated_by,
    initiated_from: trial.initiated_from,
    executed_at: trial.executed_at,
    completed_at: trial.completed_at,
    metadata: trial.metadata,
  };
}
