import type { TrialFinished } from './domain/trial-finished.js';
import type { DeletionMarker } from './domain/deletion.js';
import type { Experiment } from './domain/experiment.js';
import type { FiringRecord, Schedule, ScheduleTrialSummary } from './domain/schedule.js';
import type { RecordPhase, Trial, TrialRecord, TrialRecordEntry, TrialRuntime, TrialState, TrialStatus } from './domain/trial.js';
import type { FreezeWindow } from './domain/safety/freeze.js';
import type { Halt } from './domain/safety/halt.js';
import type { SafetyRules } from './domain/safety/refusal.js';

/** One page of a list, with an opaque token for the next page (absent on the last one). */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface PageRequest {
  limit: number;
  nextToken?: string;
}

export interface ExperimentStore {
  /** Fails with ConflictError if the id exists. */
  create(experiment: Experiment): Promise<void>;
  /** Returns undefined for unknown and for deleted experiments unless includeDeleted (then with its deletion marker). */
  get(id: string, options?: { includeDeleted?: boolean }): Promise<(Experiment & Partial<DeletionMarker>) | undefined>;
  /** Replaces a live experiment unchanged since `expectedUpdatedAt`; NotFoundError if unknown or deleted, ConflictError on a concurrent change. */
  replace(experiment: Experiment, expectedUpdatedAt: string): Promise<void>;
  /** Soft delete; NotFoundError if unknown or already deleted. */
  markDeleted(id: string, by: string, at: string): Promise<void>;
  list(page: PageRequest): Promise<Page<Experiment>>;
}

/**
 * What a status change may write along with the status. `trial_record` entries are
 * written at their positions (list + index), replacing what was there; lists and
 * entries not given are left alone.
 */
export type TrialChanges = Partial<Pick<Trial, 'executed_at' | 'completed_at' | 'parameters' | 'invocations' | 'runtime'>> & { trial_record?: Partial<TrialRecord> };

/**
 * Trials created at or after `from` and before `to`: ISO 8601 UTC instants with
 * milliseconds (`2024-05-01T12:00:00.000Z`), as the stores write `created_at`.
 */
export interface TimeRange {
  from?: string;
  to?: string;
}

/**
 * Trials: one small item per trial (status, summary, runtime), plus one item per
 * record entry and one for the experiment snapshot, so a step's write costs the same
 * however long the trial, and no step output can make a trial unsavable.
 */
export interface TrialStore {
  /** Writes the trial with its snapshot and any record entries it already has. */
  create(trial: Trial): Promise<void>;
  /** The whole trial: record entries assembled into the Kallisti-shaped `trial_record`. */
  get(id: string): Promise<Trial | undefined>;
  /** The trial item alone (no record, no snapshot): cheap enough to poll. */
  getState(id: string): Promise<TrialState | undefined>;
  /** Newest first; `range` narrows on created_at. */
  list(filter: { experiment?: string; range?: TimeRange }, page: PageRequest): Promise<Page<Trial>>;
  listBySchedule(scheduleId: string, page: PageRequest): Promise<Page<ScheduleTrialSummary>>;
  /**
   * Moves a trial to `to` only if its current status is one of `from`, writing
   * `changes` (record entries first; a short lone `result` entry may be written by the
   * same conditional write as the status). Returns the updated trial item, or undefined
   * if the condition failed. A finished trial never matches, even when `from` names
   * its status; reaching a final status drops the runtime bookkeeping.
   */
  transition(id: string, from: readonly TrialStatus[], to: TrialStatus, changes?: TrialChanges): Promise<TrialState | undefined>;
  /**
   * Writes one record entry at its list and index, replacing any entry there (so
   * a re-run after an interruption never appends a second one). RecordRejectedError
   * when the store refuses the entry itself: retrying cannot help.
   */
  putRecordEntry(id: string, phase: RecordPhase, index: number, entry: TrialRecordEntry): Promise<void>;
  /**
   * Writes the runtime of a trial that is In Progress or Stop Initiated: the fields
   * given (the trial must have a runtime already), or all of it with `replace`.
   * `countInvocation` adds one to `invocations`. Returns the trial item as it was
   * before, or undefined when the trial is not running or has no runtime to patch,
   * or a condition below fails.
   */
  updateRuntime(id: string, runtime: Partial<TrialRuntime>, options?: RuntimeUpdateOptions): Promise<TrialState | undefined>;
  /** Trials not yet finished (Scheduled, In Progress, Stop Initiated), oldest first: the local worker's durable queue and the watchdog's list. */
  listUnfinished(page: PageRequest): Promise<Page<TrialState>>;
}

export interface RuntimeUpdateOptions {
  countInvocation?: boolean;
  replace?: boolean;
  /** Only if the stored runtime's `lease_until` is this one (the watchdog's takeover: one wins, and never over a worker that touched the trial since). */
  ifLease?: string;
  /**
   * Who writes: a recovery delivery (true) may only touch a trial the watchdog marked
   * `orphaned`; anyone else (false, the default) only one it did not. Ignored with `ifLease`.
   */
  recovery?: boolean;
}

/** One firing of a schedule, as EventBridge Scheduler (or the local scheduler) delivers it. */
export interface ScheduleFiring {
  kind: 'schedule-firing';
  schedule_id: string;
  experiment_id: string;
  /** The cloud schedule that fired (two cloud schedules can serve one Kallisti schedule). */
  schedule_arn: string;
  /** The firing's own time: the same across retries of one firing, different for every firing. */
  scheduled_time: string;
  /** The schedule generation the cloud schedule was armed with; absent (read as 0) from cloud schedules armed before generations existed. */
  generation?: number;
  /** When the scheduler actually sent it (scheduled time plus jitter): the local timer's time, or SQS's SentTimestamp. */
  fired_at?: string;
}

/** What applying a firing to its schedule did. */
export type FiringOutcome =
  /** This call counted the firing (decremented recurrence_left when counted). */
  | 'applied'
  /** An earlier delivery of the same firing already counted it. */
  | 'already-applied'
  /** recurrence_left was already 0. */
  | 'exhausted'
  /** A later firing was already counted; this one is a late duplicate. */
  | 'stale'
  /** The schedule changed (its generation moved on) since the firing's cloud schedule was armed. */
  | 'superseded'
  /** The schedule no longer exists (or was deleted). */
  | 'missing';

export interface ScheduleStore {
  /** Fails with ConflictError if the id exists. */
  create(schedule: Schedule): Promise<void>;
  /** Returns undefined for unknown and for deleted schedules unless includeDeleted (then with its deletion marker). */
  get(experimentId: string, scheduleId: string, options?: { includeDeleted?: boolean }): Promise<(Schedule & Partial<DeletionMarker>) | undefined>;
  /**
   * Writes the user-editable fields, `generation` (which must be the stored one
   * plus 1) and recurrence_left when `resetLeft`, if the stored generation is
   * still `schedule.generation - 1`; never clobbers the worker's counting.
   * NotFoundError (also when deleted) / ConflictError otherwise. Returns the stored schedule.
   */
  update(schedule: Schedule, resetLeft: boolean): Promise<Schedule>;
  /**
   * Soft delete: kept for audit with who and when, gone from get, lists and
   * firings; the generation moves on by one. NotFoundError if unknown or
   * already deleted. Returns the schedule as marked.
   */
  markDeleted(experimentId: string, scheduleId: string, by: string, at: string): Promise<Schedule>;
  /** Live schedules of an experiment. */
  listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>>;
  /** Every live schedule (local arming, reconciliation). */
  listAll(page: PageRequest): Promise<Page<Schedule>>;
  /**
   * Records how a firing was handled, once: returns the record written first
   * (this one if this call won). A second delivery of a firing finds the first
   * record, and with it the trial id it started.
   */
  recordFiring(record: FiringRecord): Promise<FiringRecord>;
  /** A schedule's firing records, newest first (by scheduled time). */
  listFirings(experimentId: string, scheduleId: string, page: PageRequest): Promise<Page<FiringRecord>>;
  /** Changes the outcome of a recorded firing whose trial could not be started after all. */
  settleFiring(firing: ScheduleFiring, outcome: FiringRecord['outcome'], reason: string): Promise<void>;
  /**
   * Counts a firing against its schedule exactly once, whatever the number of
   * deliveries, and only while the schedule is still at the firing's generation.
   * `counted` (from a recent read) says which write to try first; any value is safe.
   */
  applyFiring(firing: ScheduleFiring, hint?: { counted: boolean }): Promise<{ outcome: FiringOutcome; schedule?: Schedule }>;
}

/** One cloud schedule as the cloud lists it. */
export interface CloudScheduleEntry {
  /** The cloud schedule's own name (unique in the group). */
  name: string;
  /** The Kallisti schedule it belongs to, and the generation it was armed with; undefined for a name Kallisti did not make. */
  scheduleId?: string;
  generation?: number;
  /** When the cloud last created or changed it (absent when the cloud does not say). */
  modifiedAt?: Date;
}

/**
 * The cloud side of schedules (EventBridge Scheduler on AWS, timers locally).
 * Each generation of a schedule has its own cloud schedule(s), so arming a new
 * definition never overwrites, and removing an old one never removes, another
 * generation's. Every call is idempotent.
 */
export interface CloudScheduler {
  /**
   * Creates this generation's cloud schedule(s) (existing ones are kept), then,
   * unless `replaces` is false (a new schedule has no previous generation),
   * removes the previous generation's.
   */
  arm(schedule: Schedule, replaces?: boolean): Promise<void>;
  /** Removes the cloud schedule(s) of this generation and of the one before it; missing ones are fine. */
  disarm(schedule: Pick<Schedule, 'id' | 'generation'>): Promise<void>;
  /** Removes one cloud schedule by name or ARN (as a firing names it); missing is fine. */
  remove(nameOrArn: string): Promise<void>;
  /** Every cloud schedule Kallisti's group holds, a page at a time. */
  list(): AsyncIterable<CloudScheduleEntry[]>;
}

/** What reconciliation needs of the cloud besides changing it: which schedules should exist. */
export interface ReconcilableCloudScheduler extends CloudScheduler {
  /** The names of the cloud schedules this generation of the schedule should have now (none when nothing is left to fire). */
  expectedNames(schedule: Schedule): string[];
}

/** Hands an accepted trial to the sequential worker. */
export interface TrialQueue {
  enqueue(trialId: string): Promise<void>;
  /**
   * Makes a trial parked in the queue (its message handed back until a long wait
   * ends) deliverable now, so a stop takes effect within seconds. `receipt` is the
   * receipt handle of the message's last delivery. A message no longer parked is
   * left alone.
   */
  wake(trialId: string, receipt: string | undefined): Promise<void>;
}

/** The worker's hold on the message it runs (SQS: ChangeMessageVisibility on its receipt handle). */
export interface MessageVisibility {
  /** The message is delivered again `seconds` from now (0 to 43,200); meanwhile nothing behind it in the group is. */
  setVisibility(receipt: string, seconds: number): Promise<void>;
}

/** Whether any message at all waits in the queue (the watchdog's test for a trial whose message was lost). */
export interface QueueProbe {
  isEmpty(): Promise<boolean>;
  /** Exact knowledge, where the queue has it (local mode): whether the trial is queued or running. */
  holds?(trialId: string): boolean;
}

/** How the watchdog hands a trial it took over to the worker: a delivery that runs its recovery (post steps, then the final status). */
export interface RecoveryQueue {
  /** `key` names this takeover: sending it twice delivers once. */
  enqueueRecovery(trialId: string, key: string): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/** Who is calling, as resolved by the HTTP layer from the request's identity. */
export interface Caller {
  id: string;
}

/**
 * Halts and freeze windows. Neither is ever removed: lifting a halt and deleting
 * a window record who and when.
 */
export interface SafetyStore {
  createHalt(halt: Halt): Promise<void>;
  getHalt(id: string): Promise<Halt | undefined>;
  /** Lifts an unlifted halt; NotFoundError if unknown, ConflictError (naming who lifted it) if already lifted. */
  liftHalt(id: string, by: string, at: string): Promise<Halt>;
  /** Records the trials a halt asked to stop. */
  recordStoppedTrials(id: string, trialIds: string[]): Promise<void>;
  /** Every halt, newest first. */
  listHalts(page: PageRequest): Promise<Page<Halt>>;
  createFreeze(window: FreezeWindow): Promise<void>;
  /** Soft delete; NotFoundError if unknown or already deleted (then naming who deleted it). */
  deleteFreeze(id: string, by: string, at: string): Promise<FreezeWindow>;
  /** Every window, deleted ones included, newest first. */
  listFreezes(page: PageRequest): Promise<Page<FreezeWindow>>;
  /** Unlifted halts and undeleted windows, read strongly consistent in one round trip per MB: what enforcement checks. */
  standingRules(): Promise<SafetyRules>;
}

/** Counters of safety events (refusals, trips, halts), as a metrics backend will publish them. */
export interface SafetyMetrics {
  increment(name: SafetyMetricName, dimensions?: Record<string, string>): void;
}

export type SafetyMetricName = 'HaltEngaged' | 'HaltLifted' | 'TrialRefused' | 'TrialStoppedByHalt' | 'FiringSkipped' | 'GuardTripped' | 'FreezeCreated';

/** Told when a trial reaches a final status (EventBridge, email, log, webhook). Must not throw for the trial's sake: callers isolate it anyway. */
export interface TrialFinishedObserver {
  readonly name: string;
  trialFinished(event: TrialFinished): Promise<void>;
}

/** Kallisti's notification list: who is emailed when a trial finishes. */
export interface NotificationSettings {
  emails: string[];
}

export interface NotificationStore {
  get(): Promise<NotificationSettings>;
  put(settings: NotificationSettings & { updated_by: string; updated_at: string }): Promise<void>;
}

/** The email subscriptions of the trial-finished topic, kept in step with the notification list. */
export interface EmailSubscriptions {
  /** Subscribes new addresses, unsubscribes removed ones; answers the removed ones SNS cannot remove yet (unconfirmed). */
  sync(emails: readonly string[]): Promise<{ pendingRemoval: string[] }>;
}
