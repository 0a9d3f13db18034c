import { parseUnixCron } from './cron.js';
import { nextZonedFireTimes } from './fire-times.js';
import { fireWindow, type FiringPlan } from './schedule-preview.js';

/**
 * Up to this many firings ahead, a counted schedule's end is computed exactly;
 * beyond it the cloud schedule is left open-ended (the worker removes it at 0,
 * and reconciliation removes what the worker could not).
 */
export const EXACT_END_LIMIT = 1000;

/** Extra time after the margin period, so a firing on the boundary is not cut off by clock rounding. */
const END_SLACK_MS = 60_000;

/**
 * When the cloud schedule may stop (EndDate): the schedule's own end date, or,
 * for an enabled counted schedule, its last remaining fire time plus one full
 * period of the pattern (the longest gap between consecutive fire times ahead)
 * and a minute, whichever comes first. A missed or late firing therefore still
 * leaves a spare firing before the cloud schedule deletes itself, while the
 * store goes on counting. A paused schedule gets no count-based end: its
 * firings resume only when it is enabled again.
 *
 * Computed in bounded time: no count-based end for forever schedules nor for
 * more than EXACT_END_LIMIT firings left.
 */
export function cloudEndDate(plan: FiringPlan, from: Date): Date | undefined {
  const own = plan.end_date ? new Date(plan.end_date) : undefined;
  const left = plan.recurrence_left;
  if (left === null || left <= 0 || left > EXACT_END_LIMIT || plan.state !== 'ENABLED') return own;
  // The period is measured past the schedule's own end date too, so a gap is never cut short by it.
  const times = nextZonedFireTimes(parseUnixCron(plan.recurrence_pattern), { ...fireWindow(plan), endDate: null }, from, left + 1);
  const last = times[left - 1];
  if (!last) return own;
  let period = 0;
  for (let index = 1; index < times.length; index += 1) {
    period = Math.max(period, (times[index] as Date).getTime() - (times[index - 1] as Date).getTime());
  }
  const byCount = new Date(last.getTime() + period + END_SLACK_MS);
  return own && own < byCount ? own : byCount;
}
