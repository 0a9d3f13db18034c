import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { nextFireTimes, toEventBridgeExpressions } from '../../domain/cron.js';
import type { Schedule } from '../../domain/schedule.js';
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
   * field, so create and update send the same). A counted schedule also gets an
   * EndDate just after its last remaining fire time and deletes itself then: a
   * safety net should the worker never get to remove it.
   */
  definitions(schedule: Schedule): CreateScheduleCommandInput[] {
    const target = this.config.target;
    if (!target) throw new Error('EventBridgeCloudScheduler: a target is required to arm schedules');
    const expressions = toEventBridgeExpressions(schedule.recurrence_pattern);
    let endDate: Date | undefined;
    if (schedule.recurrence_left !== null && schedule.recurrence_left > 0) {
      const times = nextFireTimes(schedule.recurrence_pattern, this.config.clock.now(), schedule.recurrence_left);
      const last = times[times.length - 1];
      if (last) endDate = new Date(last.getTime() + 60_000);
    }
    return expressions.map((expression, index) => ({
      Name: cloudScheduleName(schedule.id, index),
      GroupName: this.config.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Description: `Kallisti schedule ${schedule.id} (experiment ${schedule.experiment_id}): ${schedule.recurrence_pattern}`.slice(0, 512),
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
