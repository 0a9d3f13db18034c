/**
 * Whether a firing that reached the worker may start a trial, by the schedule's
 * own rules (pause, starting deadline, overlap), and which firings local mode
 * missed while it was down. Pure: the use case reads what these need.
 */
import { isFinal, type TrialStatus } from './trial.js';
import type { Schedule } from './schedule.js';
import { plannedFireTimes } from './schedule-preview.js';

/** The newest trial the schedule started before this firing, as far as overlap cares. */
export interface PreviousTrial {
  id: string;
  status: TrialStatus;
  completed_at: string | null;
}

export type PolicySkip =
  | { outcome: 'skipped_paused'; reason: string }
  | { outcome: 'skipped_deadline'; reason: string }
  | { outcome: 'skipped_overlap'; reason: string };

/**
 * Checked in this order, so the record names the first rule that applies:
 *
 * 1. Paused (`state` DISABLED) when the firing arrived: a firing already on its
 *    way when the schedule was paused does not run.
 * 2. Later than `starting_deadline_seconds` after its scheduled time (the queue
 *    was busy with a long trial).
 * 3. `overlap: skip` and the schedule's previous trial had not finished at this
 *    firing's scheduled time (still Scheduled or In Progress then). Judged by
 *    times, not by the status now, because firings queue behind the running
 *    trial: by the time this one is handled the previous trial may be done.
 */
export function policySkip(
  schedule: Pick<Schedule, 'state' | 'overlap' | 'starting_deadline_seconds'>,
  scheduledTime: string,
  receivedAt: Date,
  previous: PreviousTrial | undefined,
): PolicySkip | undefined {
  if (schedule.state === 'DISABLED') {
    return { outcome: 'skipped_paused', reason: 'the schedule was paused (state DISABLED) when the firing arrived' };
  }
  const lateMs = receivedAt.getTime() - Date.parse(scheduledTime);
  if (schedule.starting_deadline_seconds !== null && lateMs > schedule.starting_deadline_seconds * 1000) {
    return {
      outcome: 'skipped_deadline',
      reason: `the firing reached the worker ${Math.round(lateMs / 1000)} s after its scheduled time, later than starting_deadline_seconds (${schedule.starting_deadline_seconds})`,
    };
  }
  if (schedule.overlap === 'skip' && previous) {
    const unfinished = !isFinal(previous.status);
    const finishedAfter = previous.completed_at !== null && previous.completed_at > scheduledTime;
    if (unfinished || finishedAfter) {
      const state = unfinished ? `is still ${previous.status}` : `was still running at ${scheduledTime} (it finished at ${previous.completed_at})`;
      return { outcome: 'skipped_overlap', reason: `overlap is skip and the previous trial ${previous.id} ${state}` };
    }
  }
  return undefined;
}

/** How many missed firings local mode records one by one per schedule; older ones are counted in the oldest record's reason. */
export const MAX_MISSED_RECORDS = 100;

export interface MissedFirings {
  /** The missed fire times recorded one by one, oldest first (at most MAX_MISSED_RECORDS). */
  times: Date[];
  /** How many earlier ones there were beyond those. */
  more: number;
}

/**
 * Fire times of an enabled schedule strictly after `since` and not after `now`:
 * the firings local mode should have made while it was not running. `since` is
 * the later of the schedule's last recorded firing and its last change (a
 * schedule changed or resumed at 10:00 missed nothing before 10:00).
 */
export function missedFireTimes(schedule: Schedule, since: Date, now: Date): MissedFirings {
  if (schedule.state === 'DISABLED' || !(since < now)) return { times: [], more: 0 };
  // plannedFireTimes stops strictly before its end date; `now` itself may be a fire time.
  const until = new Date(now.getTime() + 1);
  const endDate = schedule.end_date && Date.parse(schedule.end_date) < until.getTime() ? schedule.end_date : until.toISOString();
  const window = { ...schedule, end_date: endDate, recurrence_left: null };
  // A counted schedule cannot have missed more firings than it had left.
  const limit = schedule.recurrence_left === null ? Infinity : Math.max(0, schedule.recurrence_left);
  const times: Date[] = [];
  let total = 0;
  let cursor = since;
  // A page at a time, keeping the newest MAX_MISSED_RECORDS (a year of `* * * * *` is 525,600 fire times).
  while (total < limit) {
    const wanted = Math.min(PAGE, limit - total);
    const page = plannedFireTimes(window, cursor, wanted);
    times.push(...page);
    total += page.length;
    if (times.length > MAX_MISSED_RECORDS) times.splice(0, times.length - MAX_MISSED_RECORDS);
    if (page.length < wanted) break;
    cursor = page[page.length - 1] as Date;
  }
  return { times, more: total - times.length };
}

const PAGE = 1000;
