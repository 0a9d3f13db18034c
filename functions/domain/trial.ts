import { KallistiError } from './errors.js';
import type { Guard } from './guards.js';
import type { JsonObject, StringMap } from './types.js';

export const TRIAL_STATUSES = [
  'Scheduled',
  'In Progress',
  'Succeeded',
  'Failed',
  'Aborted',
  'Invalid',
  'Stop Initiated',
  'Stopped',
] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

export const FINAL_STATUSES: readonly TrialStatus[] = ['Succeeded', 'Failed', 'Aborted', 'Invalid', 'Stopped'];
export const STOPPABLE_STATUSES: readonly TrialStatus[] = ['Scheduled', 'In Progress', 'Stop Initiated'];

export function isFinal(status: TrialStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/**
 * The trial state machine. Anything not listed is impossible: a finished trial
 * never moves again, and nothing goes back to `Scheduled`.
 */
const TRANSITIONS: Record<TrialStatus, readonly TrialStatus[]> = {
  Scheduled: ['In Progress', 'Stop Initiated', 'Invalid', 'Aborted'],
  'In Progress': ['Succeeded', 'Failed', 'Aborted', 'Invalid', 'Stop Initiated'],
  'Stop Initiated': ['Stopped'],
  Succeeded: [],
  Failed: [],
  Aborted: [],
  Invalid: [],
  Stopped: [],
};

export class IllegalTransitionError extends KallistiError {}

export function canTransition(from: TrialStatus, to: TrialStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses a trial may be in for a move to `to` to be legal (used as a write condition). */
export function allowedSources(to: TrialStatus): TrialStatus[] {
  return TRIAL_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}

export function assertTransition(from: TrialStatus, to: TrialStatus): void {
  if (!canTransition(from, to)) {
    throw new IllegalTransitionError(`A trial cannot go from "${from}" to "${to}".`);
  }
}

export interface TrialRecordEntry {
  step_name: string;
  step_parameters: JsonObject;
  logs: string[];
}

export interface TrialRecord {
  pre_steps: TrialRecordEntry[];
  steps: TrialRecordEntry[];
  post_steps: TrialRecordEntry[];
  result: TrialRecordEntry[];
}

export function emptyTrialRecord(): TrialRecord {
  return { pre_steps: [], steps: [], post_steps: [], result: [] };
}

export type InitiatedFrom = 'api' | 'schedule';

export interface Trial {
  id: string;
  experiment: string;
  parameters: JsonObject;
  metadata: StringMap;
  ticket: JsonObject;
  status: TrialStatus;
  trial_record: TrialRecord;
  created_at: string;
  executed_at: string | null;
  completed_at: string | null;
  initiated_by: string;
  initiated_from: InitiatedFrom;
  schedule_id: string | null;
  /** Guards this trial adds to its experiment's (absent when none). */
  guards?: Guard[];
}
