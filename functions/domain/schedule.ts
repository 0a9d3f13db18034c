import type { Guard } from './guards.js';
import type { JsonObject } from './types.js';
import type { TrialStatus } from './trial.js';

/** ENABLED fires; DISABLED is paused (keeps its count and definition). */
export type ScheduleState = 'ENABLED' | 'DISABLED';
/** What a firing does while the schedule's previous trial is still Scheduled or In Progress. */
export type OverlapPolicy = 'queue' | 'skip';
/** What local mode does at start-up with firings missed while it was down. */
export type CatchUpPolicy = 'none' | 'latest';

/** The production options of a schedule; every one is optional in a request and has a default. */
export interface ScheduleOptions {
  /** IANA time zone the cron fields are read in. */
  timezone: string;
  state: ScheduleState;
  /** ISO 8601 UTC instant; firings happen at or after it. */
  start_date: string | null;
  /** ISO 8601 UTC instant; firings happen before it. */
  end_date: string | null;
  /** Random delay of each firing, 0-3600 seconds in whole minutes (EventBridge's flexible time window). */
  jitter_seconds: number;
  overlap: OverlapPolicy;
  /** A firing reaching the worker later than this after its scheduled time does not run; null = no deadline. */
  starting_deadline_seconds: number | null;
  catch_up: CatchUpPolicy;
}

export const SCHEDULE_DEFAULTS: Readonly<ScheduleOptions> = Object.freeze({
  timezone: 'UTC',
  state: 'ENABLED',
  start_date: null,
  end_date: null,
  jitter_seconds: 0,
  overlap: 'queue',
  starting_deadline_seconds: null,
  catch_up: 'none',
});

export const SCHEDULE_OPTION_NAMES = Object.keys(SCHEDULE_DEFAULTS) as (keyof ScheduleOptions)[];

export interface ScheduleDefinition extends Partial<ScheduleOptions> {
  recurrence_pattern: string;
  recurrence_count?: number | null;
  metadata?: JsonObject;
  parameters?: JsonObject;
  ticket?: JsonObject;
  /** Guards every trial of this schedule adds to its experiment's. */
  guards?: Guard[];
}

export interface ScheduleTrialSummary {
  id: string;
  status: TrialStatus;
  executed_at: string | null;
}

export interface Schedule extends ScheduleOptions {
  id: string;
  experiment_id: string;
  metadata: JsonObject;
  parameters: JsonObject;
  ticket: JsonObject;
  recurrence_pattern: string;
  recurrence_count: number | null;
  /** Absent when the schedule adds no guards. */
  guards?: Guard[];
  /** null = repeat forever. */
  recurrence_left: number | null;
  /**
   * Incremented by every change (create = 1, each update, delete). The cloud
   * schedule carries the generation it was armed with, so a firing of an older
   * definition is recognised and dropped. Records written before generations
   * existed read as 0.
   */
  generation: number;
  /** How many firings ended each way, kept by recordFiring/settleFiring; filled in by the store on reads (see GET …/firings for each one). */
  firing_counts?: FiringCounts;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
}

/** A stored schedule written before the options existed reads with their defaults. */
export function withScheduleDefaults<T extends Partial<ScheduleOptions>>(stored: T): T & ScheduleOptions {
  const filled = { ...stored } as T & ScheduleOptions;
  for (const name of SCHEDULE_OPTION_NAMES) {
    if (filled[name] === undefined) (filled as unknown as Record<string, unknown>)[name] = SCHEDULE_DEFAULTS[name];
  }
  return filled;
}

/** Counters of firing outcomes live on the schedule item as `firing_count_<outcome>`. */
export const FIRING_COUNT_PREFIX = 'firing_count_';

export interface ScheduleView extends Schedule {
  trials: ScheduleTrialSummary[];
  /** The next time it fires (ISO 8601 UTC), or null when paused, exhausted or past its end date. */
  next_fire_time?: string | null;
}

/** Largest `recurrence_count` accepted: every minute for almost two years. More than that means forever. */
export const MAX_RECURRENCE_COUNT = 1_000_000;

/** A schedule with something left to fire should be armed in the cloud; an exhausted one should not. */
export function hasFiringsLeft(schedule: Pick<Schedule, 'recurrence_left'>): boolean {
  return schedule.recurrence_left === null || schedule.recurrence_left > 0;
}

/** What a firing made of, once it reached the worker: kept (with a TTL) as the schedule's firing record. */
export type FiringRecordOutcome =
  /** A trial was created for it (`trial_id`). */
  | 'started'
  /** `overlap` is skip and the schedule's previous trial had not finished at the firing's time. */
  | 'skipped_overlap'
  /** It reached the worker later than `starting_deadline_seconds` after its time. */
  | 'skipped_deadline'
  /** The schedule was paused when the firing arrived. */
  | 'skipped_paused'
  /** Its experiment no longer exists or was deleted: dropped, its cloud schedule removed. */
  | 'skipped_experiment_deleted'
  /** Another cloud schedule of the same schedule fired for the same time (a day-of-month OR day-of-week pattern): one trial only. */
  | 'duplicate'
  /** Armed by an older definition of the schedule than the stored one: dropped, that cloud schedule removed. */
  | 'stale_generation'
  /** Local mode was not running at its time (recorded at the next start-up). */
  | 'missed'
  /** Its schedule no longer exists or was deleted: dropped, its cloud schedule removed. */
  | 'orphaned'
  /** The schedule had no firings left: dropped, its cloud schedule removed. */
  | 'exhausted'
  /** A later firing was already counted: a late duplicate, dropped. */
  | 'late'
  /** A halt covered the experiment (`rule_id`): no trial; the firing still counts. */
  | 'skipped_halted'
  /** A freeze window covered the scheduled time (`rule_id`): no trial; the firing still counts. */
  | 'skipped_frozen';

export const FIRING_RECORD_OUTCOMES: readonly FiringRecordOutcome[] = [
  'started',
  'skipped_overlap',
  'skipped_deadline',
  'skipped_paused',
  'skipped_experiment_deleted',
  'duplicate',
  'stale_generation',
  'missed',
  'orphaned',
  'exhausted',
  'late',
];

/** How many firings ended each way, over the schedule's life (outcomes never seen are left out). */
export type FiringCounts = Partial<Record<FiringRecordOutcome, number>>;

/**
 * One firing of a schedule as the worker handled it, keyed by schedule id and
 * scheduled time: the same firing delivered twice finds this record and starts
 * no second trial.
 */
export interface FiringRecord {
  schedule_id: string;
  experiment_id: string;
  scheduled_time: string;
  /** The cloud schedule that fired. */
  schedule_arn: string;
  /** The generation the cloud schedule was armed with (0 for a firing that carries none). */
  generation: number;
  outcome: FiringRecordOutcome;
  /** Why, in words, when the firing started nothing. */
  reason?: string;
  trial_id?: string;
  /** The halt or freeze window that skipped it. */
  rule_id?: string;
  /** When the worker first handled it. */
  received_at: string;
  /** When the scheduler actually sent it (its scheduled time plus any jitter), when known. */
  fired_at?: string;
}
