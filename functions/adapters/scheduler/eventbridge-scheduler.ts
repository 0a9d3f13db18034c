import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { toEventBridgeExpressions } from '../../domain/cron.js';
import type { Schedule } from '../../domain/schedule.js';
import { plannedFireTimes } from '../../domain/schedule-preview.js';
import type { Clock, CloudScheduler } from '../../ports.js';
import { MESSAGE_GROUP_ID } from '../sqs/sqs-trial-queue.js';

export interface EventBridgeTarget {
  /** ARN of the FIFO queue the worker consumes. */
  queueArn: string;
  /** Role EventBridge Scheduler assumes to send to the queue. */
  roleArn: string;
  /** Standard queue for firings that could not be delivered. */
  deadLetterArn: string;
}

export interface EventBridgeSchedulerConfig {
  groupName: string;
  /** Needed to arm schedules; a consumer that only disarms can leave it out. */
  target?: EventBridgeTarget;
  clock: Clock;
}

/** A Unix pattern with both day fields restricted needs two cloud schedules; at most two exist. */
const MAX_CLOUD_SCHEDULES = 2;
/** Retries of one firing share its body (same scheduled time), so content-based dedup drops duplicates. */
const RETRY_POLICY = { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 };

/** Cloud schedule names: 1–64 of [0-9a-zA-Z-_.]; a UUID plus `-0`/`-1` is 38. */
export function cloudScheduleName(scheduleId: string, index: number): string {
  return `${scheduleId}-${index}`;
}

/**
 * The Input each firing sends to the FIFO queue. Scheduler substitutes the
 * schedule ARN and the scheduled time: unique per firing, identical across
 * retries of one firing, which is what content-based deduplication needs.
 */
export function firingInput(schedule: Pick<Schedule, 'id' | 'experiment_id'>): string {
  return `{"kind":"schedule-firing","schedule_id":"${schedule.id}","experiment_id":"${schedule.experiment_id}","schedule_arn":"<aws.scheduler.schedule-arn>","scheduled_time":"<aws.scheduler.scheduled-time>"}`;
}

export class EventBridgeCloudScheduler implements CloudScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly config: EventBridgeSchedulerConfig,
  ) {}

  /**
   * The full definition of each cloud schedule (UpdateSchedule replaces every
   * field, so create and update send the same), or none when nothing is left to
   * fire (firings used up, or none before the end date).
   *
   * - The Unix pattern's expression(s), read in the schedule's time zone.
   * - State: a paused schedule stays defined, DISABLED.
   * - StartDate only while it is ahead: a start in the past changes nothing, and
   *   Scheduler refuses one more than 5 minutes old.
   * - EndDate: the schedule's end date or, for a counted enabled schedule, just
   *   after its last remaining fire time, whichever is first; the cloud schedule
   *   deletes itself then, a safety net should the worker never remove it.
   * - FlexibleTimeWindow: the jitter, in whole minutes, or OFF.
   */
  definitions(schedule: Schedule): CreateScheduleCommandInput[] {
    const target = this.config.target;
    if (!target) throw new Error('EventBridgeCloudScheduler: a target is required to arm schedules');
    const now = this.config.clock.now();
    const expressions = toEventBridgeExpressions(schedule.recurrence_pattern);
    // Enough to know whether anything is left, and the last of a counted schedule's firings.
    const planned = plannedFireTimes(schedule, now, schedule.recurrence_left ?? 1);
    if (planned.length === 0) return [];
    let endDate = schedule.end_date ? new Date(schedule.end_date) : undefined;
    if (schedule.recurrence_left !== null && schedule.state === 'ENABLED') {
      const last = planned[planned.length - 1] as Date;
      const safety = new Date(last.getTime() + 60_000);
      if (!endDate || safety < endDate) endDate = safety;
    }
    const startDate = schedule.start_date && new Date(schedule.start_date) > now ? new Date(schedule.start_date) : undefined;
    return expressions.map((expression, index) => ({
      Name: cloudScheduleName(schedule.id, index),
      GroupName: this.config.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: schedule.timezone,
      FlexibleTimeWindow: schedule.jitter_seconds > 0 ? { Mode: 'FLEXIBLE' as const, MaximumWindowInMinutes: schedule.jitter_seconds / 60 } : { Mode: 'OFF' as const },
      State: schedule.state,
      Description: `Kallisti schedule ${schedule.id} (experiment ${schedule.experiment_id}): ${schedule.recurrence_pattern} (${schedule.timezone})`.slice(0, 512),
      ...(startDate ? { StartDate: startDate } : {}),
      ...(endDate ? { EndDate: endDate, ActionAfterCompletion: 'DELETE' as const } : { ActionAfterCompletion: 'NONE' as const }),
      Target: {
        Arn: target.queueArn,
        RoleArn: target.roleArn,
        Input: firingInput(schedule),
        SqsParameters: { MessageGroupId: MESSAGE_GROUP_ID },
        DeadLetterConfig: { Arn: target.deadLetterArn },
        RetryPolicy: RETRY_POLICY,
      },
    }));
  }

  async arm(schedule: Schedule): Promise<void> {
    const definitions = this.definitions(schedule);
    for (const definition of definitions) {
      try {
        await this.client.send(new CreateScheduleCommand(definition));
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
        await this.client.send(new UpdateScheduleCommand(definition));
      }
    }
    // A pattern that needed two cloud schedules may now need one.
    for (let index = definitions.length; index < MAX_CLOUD_SCHEDULES; index += 1) await this.deleteIfPresent(cloudScheduleName(schedule.id, index));
  }

  async disarm(schedule: Pick<Schedule, 'id'>): Promise<void> {
    for (let index = 0; index < MAX_CLOUD_SCHEDULES; index += 1) await this.deleteIfPresent(cloudScheduleName(schedule.id, index));
  }

  private async deleteIfPresent(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.config.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

export function createEventBridgeCloudScheduler(config: EventBridgeSchedulerConfig): EventBridgeCloudScheduler {
  return new EventBridgeCloudScheduler(new SchedulerClient({}), config);
}
