import type { Experiment } from '../experiment.js';
import { TRIAL_STATUSES, type Trial, type TrialRecordEntry, type TrialStatus } from '../trial.js';
import { redact } from '../redaction.js';
import type { Json, JsonObject } from '../types.js';

/** An experiment as stored, deleted ones included (the store adds when and by whom). */
export type ReportedExperiment = Experiment & { deleted_at?: string; deleted_by?: string };

/** How many trials, in which status, and how long they ran: known before a section is rendered. */
export interface StatusTally {
  total: number;
  byStatus: Record<TrialStatus, number>;
  /** Sum of completed_at − executed_at over the trials that have both. */
  durationMs: number;
}

/** One experiment of a report and its selected trials, newest first. */
export interface ReportSection {
  experiment: ReportedExperiment;
  tally: StatusTally;
  /** Read lazily, page by page, so a renderer holds one trial at a time. */
  trials: AsyncIterable<Trial>;
}

/**
 * What every renderer reads. The tallies are counted before rendering starts
 * (JUnit needs them in its opening tags); the sections and their trials are
 * iterated once, in order.
 */
export interface Report {
  generatedAt: string;
  tally: StatusTally;
  sections: AsyncIterable<ReportSection>;
}

export function emptyTally(): StatusTally {
  return { total: 0, byStatus: Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as Record<TrialStatus, number>, durationMs: 0 };
}

/** Milliseconds a trial ran, or 0 when it has not both started and ended. */
export function trialDurationMs(trial: Pick<Trial, 'executed_at' | 'completed_at'>): number {
  if (!trial.executed_at || !trial.completed_at) return 0;
  const ms = Date.parse(trial.completed_at) - Date.parse(trial.executed_at);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

export function addToTally(tally: StatusTally, trial: Pick<Trial, 'status' | 'executed_at' | 'completed_at'>): void {
  tally.total += 1;
  tally.byStatus[trial.status] = (tally.byStatus[trial.status] ?? 0) + 1;
  tally.durationMs += trialDurationMs(trial);
}

export function mergeTally(into: StatusTally, other: StatusTally): void {
  into.total += other.total;
  into.durationMs += other.durationMs;
  for (const status of TRIAL_STATUSES) into.byStatus[status] += other.byStatus[status];
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A report over data already in memory (one trial, tests). */
export function reportOf(generatedAt: string, sections: readonly { experiment: ReportedExperiment; trials: readonly Trial[] }[]): Report {
  const tally = emptyTally();
  const built: ReportSection[] = sections.map(({ experiment, trials }) => {
    const own = emptyTally();
    for (const trial of trials) addToTally(own, trial);
    mergeTally(tally, own);
    return { experiment, tally: own, trials: iterate(trials) };
  });
  return { generatedAt, tally, sections: iterate(built) };
}

/**
 * The experiment fields a report shows, in a fixed order (the store does not
 * keep the order of map keys): Kallisti's report fields, then the audit trail.
 */
export function reportedExperimentFields(experiment: ReportedExperiment): JsonObject {
  const fields: JsonObject = {
    id: experiment.id,
    name: experiment.name,
    description: experiment.description ?? '',
    metadata: experiment.metadata ?? {},
    parameters: experiment.parameters ?? {},
    pre_steps: (experiment.pre_steps ?? []) as unknown as Json,
    steps: (experiment.steps ?? []) as unknown as Json,
    post_steps: (experiment.post_steps ?? []) as unknown as Json,
    created_by: experiment.created_by,
    created_at: experiment.created_at,
    updated_by: experiment.updated_by,
    updated_at: experiment.updated_at,
  };
  if (experiment.deleted_at !== undefined) fields['deleted_at'] = experiment.deleted_at;
  if (experiment.deleted_by !== undefined) fields['deleted_by'] = experiment.deleted_by;
  return fields;
}

const entries = (list: TrialRecordEntry[] | undefined): Json =>
  (list ?? []).map((e) => ({ step_name: e.step_name, step_parameters: e.step_parameters ?? {}, logs: e.logs ?? [] }));

/** The trial fields a report shows, status and times first, the record in step order. */
export function reportedTrialFields(trial: Trial): JsonObject {
  const record = trial.trial_record;
  return {
    id: trial.id,
    experiment: trial.experiment,
    status: trial.status,
    created_at: trial.created_at,
    executed_at: trial.executed_at ?? null,
    completed_at: trial.completed_at ?? null,
    initiated_by: trial.initiated_by,
    initiated_from: trial.initiated_from,
    schedule_id: trial.schedule_id ?? null,
    // Like GET /trial: an unfinished trial still holds its credential-named parameters.
    parameters: redact(trial.parameters ?? {}),
    metadata: trial.metadata ?? {},
    ticket: trial.ticket ?? {},
    trial_record: {
      pre_steps: entries(record?.pre_steps),
      steps: entries(record?.steps),
      post_steps: entries(record?.post_steps),
      result: entries(record?.result),
    },
  };
}
