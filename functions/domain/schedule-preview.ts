/**
 * A schedule's upcoming firings, as local mode fires them and as the cloud
 * schedule(s) will: same pattern, zone, dates and daylight-saving rules
 * (see fire-times.ts), limited by the firings left and silent while paused.
 */
import { parseUnixCron, toEventBridgeExpressions } from './cron.js';
import { nextZonedFireTimes, type FireWindow } from './fire-times.js';
import type { Schedule, ScheduleOptions } from './schedule.js';
import { formatLocal } from './time-zone.js';

/** The most fire times one preview answers. */
export const MAX_PREVIEW_COUNT = 100;

export type FiringPlan = Pick<Schedule, 'recurrence_pattern' | 'recurrence_left'> & Pick<ScheduleOptions, 'timezone' | 'state' | 'start_date' | 'end_date'>;

export interface FireTimePreview {
  /** ISO 8601 UTC instant. */
  time: string;
  /** The same instant on the schedule's wall clock, with its offset. */
  local_time: string;
}

export interface SchedulePreview {
  timezone: string;
  state: Schedule['state'];
  /** The EventBridge Scheduler expression(s) the cloud schedule(s) use, read in `timezone`. */
  eventbridge_expressions: string[];
  fire_times: FireTimePreview[];
}

export function fireWindow(plan: Pick<ScheduleOptions, 'timezone' | 'start_date' | 'end_date'>): FireWindow {
  return {
    timezone: plan.timezone,
    startDate: plan.start_date ? new Date(plan.start_date) : null,
    endDate: plan.end_date ? new Date(plan.end_date) : null,
  };
}

/**
 * The next fire times strictly after `after`, ignoring pause, at most `count`
 * and at most the firings left. What an enabled schedule will do.
 */
export function plannedFireTimes(plan: FiringPlan, after: Date, count: number): Date[] {
  const limit = plan.recurrence_left === null ? count : Math.min(count, Math.max(0, plan.recurrence_left));
  return nextZonedFireTimes(parseUnixCron(plan.recurrence_pattern), fireWindow(plan), after, limit);
}

/** The next fire times, honouring pause: a paused schedule fires nothing. */
export function upcomingFireTimes(plan: FiringPlan, after: Date, count: number): Date[] {
  return plan.state === 'DISABLED' ? [] : plannedFireTimes(plan, after, count);
}

export function nextFireTime(plan: FiringPlan, after: Date): string | null {
  return upcomingFireTimes(plan, after, 1)[0]?.toISOString() ?? null;
}

export function previewSchedule(plan: FiringPlan, after: Date, count: number): SchedulePreview {
  return {
    timezone: plan.timezone,
    state: plan.state,
    eventbridge_expressions: toEventBridgeExpressions(plan.recurrence_pattern),
    fire_times: upcomingFireTimes(plan, after, count).map((d) => ({ time: d.toISOString(), local_time: formatLocal(plan.timezone, d.getTime()) })),
  };
}
