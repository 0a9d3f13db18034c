import { KallistiError } from './errors.js';
import type { Experiment, Step, StepList } from './experiment.js';
import type { Guard, GuardState } from './guards.js';
import type { Json, JsonObject } from './types.js';

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
  // A Scheduled trial stopped before the worker reached it ends Stopped at once (no step ran).
  Scheduled: ['In Progress', 'Stop Initiated', 'Stopped', 'Invalid', 'Aborted'],
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

/** The lists of a record, in the order a run fills them. */
export const RECORD_PHASES = ['pre_steps', 'steps', 'post_steps', 'result'] as const;
export type RecordPhase = (typeof RECORD_PHASES)[number];

export function emptyTrialRecord(): TrialRecord {
  return { pre_steps: [], steps: [], post_steps: [], result: [] };
}

/** `api` or `schedule` when we set it; free text (up to 20 characters) when a caller names it, as Kallisti allows. */
export type InitiatedFrom = 'api' | 'schedule' | (string & {});

export type FinalVerdict = 'Succeeded' | 'Failed' | 'Aborted' | 'Stopped';

/** Where a run goes on in its next slice, and what it has concluded so far. */
export interface TrialCheckpoint {
  /** The next step to run, or the step that was suspended. */
  phase: StepList;
  index: number;
  /** The suspended step's own state (a resumable module's `suspend`), and when it wants to go on. */
  step_state?: JsonObject;
  /** The suspended step's record entry so far, to go on with when it resumes. */
  step_entry?: TrialRecordEntry;
  resume_at?: string;
  /** Set once the main steps are over: the status and result lines the run ends with. */
  verdict?: { status: FinalVerdict; lines: string[] };
  /** Labels of post steps that failed so far. */
  post_failed: string[];
  /** Values of earlier step outputs that later steps reference (`steps.<name>.<path>` → value). */
  outputs?: { [reference: string]: Json };
  /** The run was interrupted (its worker died): only post steps go on, and it ends Failed. */
  recovering?: boolean;
  /** `during` guards while the main steps go on: when each is next due, and failure streaks (tolerance counts across slices). */
  guards?: GuardState;
}

/** The executor's bookkeeping on an unfinished trial; internal, never shown by the API. */
export interface TrialRuntime {
  /** `running`: a worker is in a slice of it; `parked`: the last slice saved its checkpoint and handed the message back. */
  slice: 'running' | 'parked';
  checkpoint: TrialCheckpoint;
  /** By when a worker should have touched the trial again; past it (and a grace period) the watchdog steps in. */
  lease_until: string;
  /** Receipt handle of the message last received for the trial: lets a stop make a parked message visible at once. */
  receipt?: string;
  /**
   * Set by the watchdog when the trial could no longer progress (its message lost, no
   * worker past its slice): why. From then on only a recovery delivery may run the
   * trial (post steps, then Failed with this reason); its old message, if it ever
   * comes back, is acknowledged without running anything.
   */
  orphaned?: string;
}

/**
 * The experiment as it was when the trial was created: what the trial runs and
 * recovers from, whatever happens to the experiment afterwards.
 */
export interface ExperimentSnapshot {
  name: string;
  description: string;
  parameters: JsonObject;
  pre_steps: Step[];
  steps: Step[];
  post_steps: Step[];
  /** The experiment's guards (absent when none). */
  guards?: Guard[];
  /** The experiment's `updated_at` at that moment: which version of it this is. */
  updated_at: string;
}

export function snapshotOf(experiment: Experiment): ExperimentSnapshot {
  return structuredClone({
    name: experiment.name,
    description: experiment.description,
    parameters: experiment.parameters,
    pre_steps: experiment.pre_steps,
    steps: experiment.steps,
    post_steps: experiment.post_steps,
    ...(experiment.guards && experiment.guards.length > 0 && { guards: experiment.guards }),
    updated_at: experiment.updated_at,
  });
}

export interface Trial {
  id: string;
  experiment: string;
  parameters: JsonObject;
  metadata: JsonObject;
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
  /** Absent on trials created before snapshots existed: those run the stored experiment. */
  experiment_snapshot?: ExperimentSnapshot;
  /** Worker invocations (slices) the trial took so far. */
  invocations?: number;
  /** Present while a run is under way (see TrialRuntime). */
  runtime?: TrialRuntime;
}

/** A trial without its record entries and snapshot: the one small item the worker reads and writes. */
export type TrialState = Omit<Trial, 'trial_record' | 'experiment_snapshot'>;
