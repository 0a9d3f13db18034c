import type { Experiment } from './domain/experiment.js';
import type { Schedule, ScheduleTrialSummary } from './domain/schedule.js';
import type { Trial, TrialRecord, TrialStatus } from './domain/trial.js';

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
  /** Returns undefined for unknown and for deleted experiments unless includeDeleted. */
  get(id: string, options?: { includeDeleted?: boolean }): Promise<Experiment | undefined>;
  /** Replaces a live experiment unchanged since `expectedUpdatedAt`; NotFoundError if unknown or deleted, ConflictError on a concurrent change. */
  replace(experiment: Experiment, expectedUpdatedAt: string): Promise<void>;
  /** Soft delete; NotFoundError if unknown or already deleted. */
  markDeleted(id: string, by: string, at: string): Promise<void>;
  list(page: PageRequest): Promise<Page<Experiment>>;
}

export interface TrialProgress {
  trial_record: TrialRecord;
}

export interface TrialStore {
  create(trial: Trial): Promise<void>;
  get(id: string): Promise<Trial | undefined>;
  list(filter: { experiment?: string }, page: PageRequest): Promise<Page<Trial>>;
  listBySchedule(scheduleId: string, page: PageRequest): Promise<Page<ScheduleTrialSummary>>;
  /**
   * Moves a trial to `to` only if its current status is one of `from`; merges
   * `changes`. Returns the updated trial, or undefined if the condition failed.
   */
  transition(id: string, from: readonly TrialStatus[], to: TrialStatus, changes?: Partial<Pick<Trial, 'executed_at' | 'completed_at' | 'trial_record'>>): Promise<Trial | undefined>;
  /** Writes progress of a running trial without touching its status; returns the stored trial (its status shows a stop request). */
  saveProgress(id: string, progress: TrialProgress): Promise<Trial | undefined>;
  /** Trials not yet finished (Scheduled, In Progress, Stop Initiated), oldest first: the local worker's durable queue. */
  listUnfinished(page: PageRequest): Promise<Page<Trial>>;
}

export interface ScheduleStore {
  create(schedule: Schedule): Promise<void>;
  get(experimentId: string, scheduleId: string): Promise<Schedule | undefined>;
  replace(schedule: Schedule): Promise<void>;
  delete(experimentId: string, scheduleId: string): Promise<void>;
  listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>>;
}

/** Hands an accepted trial to the sequential worker. */
export interface TrialQueue {
  enqueue(trialId: string): Promise<void>;
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
