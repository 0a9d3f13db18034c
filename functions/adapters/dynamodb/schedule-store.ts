import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DeletionMarker } from '../../domain/deletion.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { withScheduleDefaults, type Schedule } from '../../domain/schedule.js';
import type { FiringOutcome, Page, PageRequest, ScheduleFiring, ScheduleStore } from '../../ports.js';
import { isConditionalCheckFailed } from './client.js';
import { decodeToken, encodeToken } from './pagination.js';
import { INDEXES, KEY } from './table.js';

const TYPE = 'SCHEDULE';
const partition = (experimentId: string) => `EXPERIMENT#${experimentId}`;
const key = (experimentId: string, scheduleId: string) => ({ pk: partition(experimentId), sk: `SCHEDULE#${scheduleId}` });
const firingKey = (firing: ScheduleFiring) => ({ pk: partition(firing.experiment_id), sk: `FIRING#${firing.schedule_id}#${firing.scheduled_time}` });
const INTERNAL = new Set(['pk', 'sk', 'type', 'last_fired_time', INDEXES.byType.pk, INDEXES.byType.sk]);

/** Deleted schedules stay as audit records; every read and write below skips them. */
const LIVE = 'attribute_not_exists(deleted_at)';

function toSchedule(item: Record<string, unknown>): Schedule & Partial<DeletionMarker> {
  const schedule: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!INTERNAL.has(name)) schedule[name] = value;
  return withScheduleDefaults(schedule) as unknown as Schedule & Partial<DeletionMarker>;
}

const isDeletedItem = (item: Record<string, unknown>): boolean => item['deleted_at'] !== undefined;

/**
 * Schedules live in their experiment's partition (listing them is one Query);
 * each firing leaves a small item keyed by schedule id + scheduled time, which
 * makes "one trial per firing" a conditional put. `last_fired_time` on the
 * schedule makes "one decrement per firing" a conditional update: firings
 * reach the worker in order through the FIFO queue, so a firing not later
 * than the last one counted has been counted already.
 *
 * Deleting a schedule marks it (`deleted_at`, `deleted_by`) and drops it from
 * the gsi1 index, so `listAll` (local arming) no longer finds it; reads, lists,
 * updates and firings all skip marked schedules.
 */
export class DynamoScheduleStore implements ScheduleStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private static indexKeys(schedule: Schedule): Record<string, string> {
    return { [INDEXES.byType.pk]: TYPE, [INDEXES.byType.sk]: `${schedule.created_at}#${schedule.id}` };
  }

  async create(schedule: Schedule): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...schedule,
            ...key(schedule.experiment_id, schedule.id),
            type: TYPE,
            ...DynamoScheduleStore.indexKeys(schedule),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ConflictError(`Schedule ${schedule.id} already exists`, { cause: error });
      throw error;
    }
  }

  async get(experimentId: string, scheduleId: string, options: { includeDeleted?: boolean } = {}): Promise<(Schedule & Partial<DeletionMarker>) | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(experimentId, scheduleId), ConsistentRead: true }));
    if (!Item) return undefined;
    if (isDeletedItem(Item) && !options.includeDeleted) return undefined;
    return toSchedule(Item);
  }

  async update(schedule: Schedule, expectedUpdatedAt: string, resetLeft: boolean): Promise<Schedule> {
    const values: Record<string, unknown> = {
      ':pattern': schedule.recurrence_pattern,
      ':count': schedule.recurrence_count,
      ':metadata': schedule.metadata,
      ':parameters': schedule.parameters,
      ':ticket': schedule.ticket,
      ':updated_by': schedule.updated_by,
      ':updated_at': schedule.updated_at,
      ':expected': expectedUpdatedAt,
      ':timezone': schedule.timezone,
      ':state': schedule.state,
      ':start_date': schedule.start_date,
      ':end_date': schedule.end_date,
      ':jitter': schedule.jitter_seconds,
    };
    const sets = [
      'recurrence_pattern = :pattern',
      'recurrence_count = :count',
      'metadata = :metadata',
      '#parameters = :parameters',
      'ticket = :ticket',
      'updated_by = :updated_by',
      'updated_at = :updated_at',
      '#timezone = :timezone',
      '#state = :state',
      '#start_date = :start_date',
      '#end_date = :end_date',
      '#jitter_seconds = :jitter',
    ];
    if (resetLeft) {
      values[':left'] = schedule.recurrence_left;
      sets.push('recurrence_left = :left');
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(schedule.experiment_id, schedule.id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND ${LIVE} AND updated_at = :expected`,
          ExpressionAttributeNames: Object.fromEntries(['parameters', 'state', 'timezone', 'start_date', 'end_date', 'jitter_seconds'].map((n) => [`#${n}`, n])),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toSchedule(Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (!(await this.get(schedule.experiment_id, schedule.id))) throw new NotFoundError(`Schedule ${schedule.id} not found`, { cause: error });
      throw new ConflictError(`Schedule ${schedule.id} was changed by another request; read it again and retry`, { cause: error });
    }
  }

  async markDeleted(experimentId: string, scheduleId: string, by: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(experimentId, scheduleId),
          UpdateExpression: `SET deleted_at = :at, deleted_by = :by, updated_at = :at, updated_by = :by REMOVE ${INDEXES.byType.pk}, ${INDEXES.byType.sk}`,
          ConditionExpression: `attribute_exists(pk) AND ${LIVE}`,
          ExpressionAttributeValues: { ':at': at, ':by': by },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError(`Schedule ${scheduleId} not found`, { cause: error });
      throw error;
    }
  }

  async restore(schedule: Schedule): Promise<void> {
    const index = DynamoScheduleStore.indexKeys(schedule);
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(schedule.experiment_id, schedule.id),
        UpdateExpression: 'SET updated_at = :updated_at, updated_by = :updated_by, #ipk = :ipk, #isk = :isk REMOVE deleted_at, deleted_by',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#ipk': INDEXES.byType.pk, '#isk': INDEXES.byType.sk },
        ExpressionAttributeValues: { ':updated_at': schedule.updated_at, ':updated_by': schedule.updated_by, ':ipk': index[INDEXES.byType.pk], ':isk': index[INDEXES.byType.sk] },
      }),
    );
  }

  async delete(experimentId: string, scheduleId: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: key(experimentId, scheduleId), ConditionExpression: 'attribute_exists(pk)' }));
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError(`Schedule ${scheduleId} not found`, { cause: error });
      throw error;
    }
  }

  /**
   * A page of live schedules. DynamoDB filters after it counts `Limit`, so a page
   * with deleted schedules in it is topped up from the next ones: each query asks
   * only for what is still missing, so the token always points just past the
   * last schedule looked at.
   */
  private async livePage(input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey' | 'FilterExpression'>, page: PageRequest, startKey: Record<string, unknown> | undefined): Promise<Page<Schedule>> {
    const items: Schedule[] = [];
    let exclusiveStartKey = startKey;
    do {
      const result = await this.client.send(
        new QueryCommand({ ...input, FilterExpression: LIVE, Limit: page.limit - items.length, ExclusiveStartKey: exclusiveStartKey }),
      );
      items.push(...(result.Items ?? []).map(toSchedule));
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (exclusiveStartKey && items.length < page.limit);
    return { items, nextToken: encodeToken(exclusiveStartKey) };
  }

  async listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>> {
    return this.livePage(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partition(experimentId), ':prefix': 'SCHEDULE#' },
      },
      page,
      decodeToken(page.nextToken, [KEY.pk, KEY.sk], { name: KEY.pk, value: partition(experimentId) }),
    );
  }

  async listAll(page: PageRequest): Promise<Page<Schedule>> {
    const index = INDEXES.byType;
    return this.livePage(
      {
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.pk },
        ExpressionAttributeValues: { ':pk': TYPE },
      },
      page,
      decodeToken(page.nextToken, [KEY.pk, KEY.sk, index.pk, index.sk], { name: index.pk, value: TYPE }),
    );
  }

  async claimFiring(firing: ScheduleFiring, trialId: string): Promise<string> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...firingKey(firing), type: 'FIRING', trial_id: trialId, schedule_arn: firing.schedule_arn, scheduled_time: firing.scheduled_time },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return trialId;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: firingKey(firing), ConsistentRead: true }));
      return String(Item?.['trial_id']);
    }
  }

  async applyFiring(firing: ScheduleFiring, hint: { counted: boolean } = { counted: true }): Promise<{ outcome: FiringOutcome; schedule?: Schedule }> {
    const fresh = `attribute_exists(pk) AND ${LIVE} AND (attribute_not_exists(last_fired_time) OR last_fired_time < :t)`;
    // A counted schedule loses one and records the firing in the same write;
    // a forever schedule (recurrence_left null) only records it. The conditions
    // make each write apply to one kind only, so trying the likely one first
    // (a refused write is still billed) is safe whatever the hint says.
    const counted = () =>
      this.conditionalUpdate(firing, 'SET last_fired_time = :t, recurrence_left = recurrence_left - :one', `${fresh} AND recurrence_left > :zero`, { ':one': 1, ':zero': 0 });
    const forever = () =>
      this.conditionalUpdate(firing, 'SET last_fired_time = :t', `${fresh} AND (attribute_not_exists(recurrence_left) OR attribute_type(recurrence_left, :nullType))`, {
        ':nullType': 'NULL',
      });
    for (const attempt of hint.counted ? [counted, forever] : [forever, counted]) {
      const applied = await attempt();
      if (applied) return { outcome: 'applied', schedule: applied };
    }

    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(firing.experiment_id, firing.schedule_id), ConsistentRead: true }));
    if (!Item || isDeletedItem(Item)) return { outcome: 'missing' };
    const schedule = toSchedule(Item);
    const last = Item['last_fired_time'] as string | undefined;
    if (last === firing.scheduled_time) return { outcome: 'already-applied', schedule };
    if (last !== undefined && last > firing.scheduled_time) return { outcome: 'stale', schedule };
    return { outcome: 'exhausted', schedule };
  }

  private async conditionalUpdate(firing: ScheduleFiring, update: string, condition: string, values: Record<string, unknown>): Promise<Schedule | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(firing.experiment_id, firing.schedule_id),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':t': firing.scheduled_time, ...values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toSchedule(Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}
