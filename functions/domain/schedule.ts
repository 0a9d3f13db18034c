import type { JsonObject, StringMap } from './types.js';
import type { TrialStatus } from './trial.js';

/** ENABLED fires; DISABLED is paused (keeps its count and definition). */
export type ScheduleState = 'ENABLED' | 'DISABLED';

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
}

export const SCHEDULE_DEFAULTS: Readonly<ScheduleOptions> = Object.freeze({
  timezone: 'UTC',
  state: 'ENABLED',
  start_date: null,
  end_date: null,
  jitter_seconds: 0,
});

export const SCHEDULE_OPTION_NAMES = Object.keys(SCHEDULE_DEFAULTS) as (keyof ScheduleOptions)[];

export interface ScheduleDefinition extends Partial<ScheduleOptions> {
  recurrence_pattern: string;
  recurrence_count?: number | null;
  metadata?: StringMap;
  parameters?: JsonObject;
  ticket?: JsonObject;
}

export interface ScheduleTrialSummary {
  id: string;
  status: TrialStatus;
  executed_at: string | null;
}

export interface Schedule extends ScheduleOptions {
  id: string;
  experiment_id: string;
  metadata: StringMap;
  parameters: JsonObject;
  ticket: JsonObject;
  recurrence_pattern: string;
  recurrence_count: number | null;
  /** null = repeat forever. */
  recurrence_left: number | null;
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

export interface ScheduleView extends Schedule {
  trials: ScheduleTrialSummary[];
  /** The next time it fires (ISO 8601 UTC), or null when paused, exhausted or past its end date. */
  next_fire_time?: string | null;
}
