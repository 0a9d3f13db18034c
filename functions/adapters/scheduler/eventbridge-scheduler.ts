import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { toEventBridgeExpressions } from '../../domain/cron.js';
import { hasFiringsLeft, type Schedule } from '../../domain/schedule.js';
import { plannedFireTimes } from '../../domain/schedule-preview.js';
import { cloudEndDate } from '../../domain/schedule-end.js';
import type { Clock, CloudScheduleEntry, CloudScheduler } from '../../ports.js';
import { MESSAGE_GROUP_ID } from '../sqs/sqs-trial-queue.js';
import { cloudScheduleName, nameFromArn, parseCloudScheduleName } from './cloud-schedule-name.js';

export { cloudScheduleName, parseCloudScheduleName } from './cloud-schedule-name.js';

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
  /** Needed to arm schedules; a consumer that only removes can leave it out. */
  target?: EventBridgeTarget;
  clock: Clock;
}

/** A Unix pattern with both day fields restricted needs two cloud schedules; at most two exist per generation. */
const MAX_CLOUD_SCHEDULES = 2;
/** Retries of one firing share its body (same scheduled time), so content-based dedup drops duplicates. */
const RETRY_POLICY = { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 };
/** ListSchedules' largest page. */
const LIST_PAGE_SIZE = 100;
/** Patterns repeat across schedules: their expressions are remembered (a pure function), up to this many. */
const EXPRESSION_CACHE_SIZE = 1000;
const expressionCache = new Map<string, string[]>();

function expressionsOf(pattern: string): string[] {
  let expressions = expressionCache.get(pattern);
  if (!expressions) {
    expressions = toEventBridgeExpressions(pattern);
    if (expressionCache.size >= EXPRESSION_CACHE_SIZE) expressionCache.clear();
    expressionCache.set(pattern, expressions);
  }
  return expressions;
}

/**
 * The Input each firing sends to the FIFO queue. Scheduler substitutes the
 * schedule ARN and the scheduled time: unique per firing, identical across
 * retries of one firing, which is what content-based deduplication needs. The
 * generation tells the worker which definition of the schedule fired.
 */
export function firingInput(schedule: Pick<Schedule, 'id' | 'experiment_id' | 'generation'>): string {
  return `{"kind":"schedule-firing","schedule_id":"${schedule.id}","experiment_id":"${schedule.experiment_id}","generation":${schedule.generation},"schedule_arn":"<aws.scheduler.schedule-arn>","scheduled_time":"<aws.scheduler.scheduled-time>"}`;
}

/**
 * Kallisti schedules as EventBridge Scheduler schedules, one (or two, for a
 * day-of-month OR day-of-week pattern) per generation, named
 * `<schedule id>-g<generation>-<index>`. A definition is never updated in place:
 * a change creates the new generation's schedules and deletes the old ones, so
 * a late or repeated call about one generation cannot touch another.
 *
 * Documented behaviour relied on: CreateSchedule answers ConflictException when
 * the name exists in the group; DeleteSchedule answers ResourceNotFoundException
 * when it does not; ListSchedules pages with NextToken, at most 100 a page,
 * filtered by GroupName, and gives each schedule's Name and LastModificationDate
 * (not its definition); ActionAfterCompletion DELETE removes a schedule after its
 * last invocation before EndDate, and does nothing without an EndDate.
 */
export class EventBridgeCloudScheduler implements CloudScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly config: EventBridgeSchedulerConfig,
  ) {}

  /**
   * The full definition of each cloud schedule of the schedule's generation, or
   * none when nothing is left to fire (firings used up, or none before the end date).
   *
   * - The Unix pattern's expression(s), read in the schedule's time zone.
   * - State: a paused schedule stays defined, DISABLED.
   * - StartDate only while it is ahead: a start in the past changes nothing, and
   *   Scheduler refuses one more than 5 minutes old.
   * - EndDate: the schedule's end date or, for a counted enabled schedule with
   *   at most EXACT_END_LIMIT firings left, one full period after its last
   *   remaining fire time (domain/schedule-end.ts), whichever is first; the cloud
   *   schedule deletes itself then. With more left it stays open-ended: the
   *   worker (at 0) and reconciliation remove it.
   * - FlexibleTimeWindow: the jitter, in whole minutes, or OFF.
   */
  definitions(schedule: Schedule): CreateScheduleCommandInput[] {
    const target = this.config.target;
    if (!target) throw new Error('EventBridgeCloudScheduler: a target is required to arm schedules');
    const now = this.config.clock.now();
    const expressions = toEventBridgeExpressions(schedule.recurrence_pattern);
    if (!hasFiringsLeft(schedule) || plannedFireTimes(schedule, now, 1).length === 0) return [];
    const endDate = cloudEndDate(schedule, now);
    const startDate = schedule.start_date && new Date(schedule.start_date) > now ? new Date(schedule.start_date) : undefined;
    return expressions.map((expression, index) => ({
      Name: cloudScheduleName(schedule.id, schedule.generation, index),
      GroupName: this.config.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: schedule.timezone,
      FlexibleTimeWindow: schedule.jitter_seconds > 0 ? { Mode: 'FLEXIBLE' as const, MaximumWindowInMinutes: schedule.jitter_seconds / 60 } : { Mode: 'OFF' as const },
      State: schedule.state,
      Description: `Kallisti schedule ${schedule.id} (experiment ${schedule.experiment_id}, generation ${schedule.generation}): ${schedule.recurrence_pattern} (${schedule.timezone})`.slice(0, 512),
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

  /** What `definitions` would name, without computing the definitions (no EndDate walk): reconciliation asks for every schedule. */
  expectedNames(schedule: Schedule): string[] {
    if (!hasFiringsLeft(schedule)) return [];
    // A valid pattern always fires again unless an end date stops it: only then is a fire time looked for.
    if (schedule.end_date !== null && plannedFireTimes(schedule, this.config.clock.now(), 1).length === 0) return [];
    return expressionsOf(schedule.recurrence_pattern).map((_, index) => cloudScheduleName(schedule.id, schedule.generation, index));
  }

  async arm(schedule: Schedule, replaces = true): Promise<void> {
    const definitions = this.definitions(schedule);
    // Nothing left to fire (used up, or no fire time before the end date): nothing of this schedule should stay.
    if (definitions.length === 0) return this.disarm(schedule);
    for (const definition of definitions) {
      try {
        await this.client.send(new CreateScheduleCommand(definition));
      } catch (error) {
        // The same generation is the same definition: armed already (a retry, or reconciliation).
        if (!(error instanceof ConflictException)) throw error;
      }
    }
    if (replaces && schedule.generation > 0) await this.removeGeneration(schedule.id, schedule.generation - 1);
  }

  async disarm(schedule: Pick<Schedule, 'id' | 'generation'>): Promise<void> {
    const generations = schedule.generation > 0 ? [schedule.generation, schedule.generation - 1] : [schedule.generation];
    await Promise.all(generations.map((generation) => this.removeGeneration(schedule.id, generation)));
  }

  async remove(nameOrArn: string): Promise<void> {
    const name = nameFromArn(nameOrArn, this.config.groupName);
    if (name !== undefined) await this.deleteIfPresent(name);
  }

  async *list(): AsyncIterable<CloudScheduleEntry[]> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new ListSchedulesCommand({ GroupName: this.config.groupName, MaxResults: LIST_PAGE_SIZE, NextToken: nextToken }));
      yield (page.Schedules ?? []).flatMap((summary) => {
        if (!summary.Name) return [];
        const parsed = parseCloudScheduleName(summary.Name);
        return [{ name: summary.Name, ...parsed, ...(summary.LastModificationDate && { modifiedAt: summary.LastModificationDate }) }];
      });
      nextToken = page.NextToken;
    } while (nextToken);
  }

  private async removeGeneration(scheduleId: string, generation: number): Promise<void> {
    await Promise.all(Array.from({ length: MAX_CLOUD_SCHEDULES }, (_, index) => this.deleteIfPresent(cloudScheduleName(scheduleId, generation, index))));
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
