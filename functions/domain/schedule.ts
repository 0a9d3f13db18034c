import type { JsonObject, StringMap } from './types.js';
import type { TrialStatus } from './trial.js';

export interface ScheduleDefinition {
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

export interface Schedule {
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

export interface ScheduleView extends Schedule {
  trials: ScheduleTrialSummary[];
}
