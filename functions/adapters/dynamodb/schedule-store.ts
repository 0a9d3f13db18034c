import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DeletionMarker } from '../../domain/deletion.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { FIRING_COUNT_PREFIX, withScheduleDefaults, type FiringCounts, type FiringRecord, type Schedule } from '../../domain/schedule.js';
import type { FiringOutcome, Page, PageRequest, ScheduleFiring, ScheduleStore } from '../../ports.js';
import { isConditionalCheckFailed } from './client.js';
import { decodeToken, encodeToken } from './pagination.js';
import { INDEXES, KEY, TTL_ATTRIBUTE } from './table.js';

/**
 * How long a firing record is kept: far beyond any redelivery (Scheduler retries
 * a firing for at most an hour here, SQS keeps a message 4 days), short enough
 * that an every-minute schedule keeps about 20,000 records, not 525,000 a year.
 */
export const FIRING_RECORD_TTL_DAYS = 14;
const FIRING_RECORD_TTL_SECONDS = FIRING_RECORD_TTL_DAYS * 24 * 3600;

const TYPE = 'SCHEDULE';
const partition = (experimentId: string) => `EXPERIMENT#${experimentId}`;
const key = (experimentId: string, scheduleId: string) => ({ pk: partition(experimentId), sk: `SCHEDULE#${scheduleId}` });
const firingPrefix = (scheduleId: string) => `FIRING#${scheduleId}#`;
const firingKey = (firing: Pick<ScheduleFiring, 'experiment_id' | 'schedule_id' | 'scheduled_time'>) => ({
  pk: partition(firing.experiment_id),
  sk: `${firingPrefix(firing.schedule_id)}${firing.scheduled_time}`,
});
/** A duplicate (another cloud schedule firing for the same time) is kept beside the firing it duplicates. */
const recordKey = (record: FiringRecord) =>
  record.outcome === 'duplicate' ? { ...firingKey(record), sk: `${firingKey(record).sk}#duplicate#${record.schedule_arn.split('/').pop() ?? ''}` } : firingKey(record);
const INTERNAL = new Set(['pk', 'sk', 'type', 'last_fired_time', INDEXES.byType.pk, INDEXES.byType.sk]);
const FIRING_INTERNAL = new Set(['pk', 'sk', 'type', TTL_ATTRIBUTE]);

/** "The stored generation is `generation`": records from before generations existed have none and count as 0. */
function generationIs(generation: number): string {
  return generation === 0 ? '(attribute_not_exists(generation) OR generation = :generation)' : 'generation = :generation';
}

/** Deleted schedules stay as audit records; every read and write below skips them. */
const LIVE = 'attribute_not_exists(deleted_at)';

function toSchedule(item: Record<string, unknown>): Schedule & Partial<DeletionMarker> {
  const schedule: Record<string, unknown> = {};
  const counts: FiringCounts = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(FIRING_COUNT_PREFIX)) {
      if (typeof value === 'number' && value > 0) counts[name.slice(FIRING_COUNT_PREFIX.length) as keyof FiringCounts] = value;
    } else if (!INTERNAL.has(name)) schedule[name] = value;
  }
  schedule['firing_counts'] = counts;
  if (typeof schedule['generation'] !== 'number') schedule['generation'] = 0;
  return withScheduleDefaults(schedule) as unknown as Schedule & Partial<DeletionMarker>;
}

function toFiringRecord(item: Record<string, unknown>): FiringRecord {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!FIRING_INTERNAL.has(name)) record[name] = value;
  return record as unknown as FiringRecord;
}

/** Counted in the same write as the firing itself (applyFiring). */
const STARTED_COUNT = `${FIRING_COUNT_PREFIX}started`;

const isDeletedItem = (item: Record<string, unknown>): boolean => item['deleted_at'] !== undefined;

/**
 * Schedules live in their experiment's partition (listing them is one Query);
 * each firing leaves a small record keyed by schedule id + scheduled time (what
 * it made: a trial, or why not), which makes "one trial per firing" a
 * conditional put; records expire after FIRING_RECORD_TTL_DAYS (TTL attribute
 * `expires_at`). Every change to a schedule moves its `generation` on by one,
 * conditionally on the generation read, so concurrent changes cannot both win. `last_fired_time` on the
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

  async update(schedule: Schedule, resetLeft: boolean): Promise<Schedule> {
    const previous = schedule.generation - 1;
    const values: Record<string, unknown> = {
      ':pattern': schedule.recurrence_pattern,
      ':count': schedule.recurrence_count,
      ':metadata': schedule.metadata,
      ':parameters': schedule.parameters,
      ':ticket': schedule.ticket,
      ':updated_by': schedule.updated_by,
      ':updated_at': schedule.updated_at,
      ':timezone': schedule.timezone,
      ':state': schedule.state,
      ':start_date': schedule.start_date,
      ':end_date': schedule.end_date,
      ':jitter': schedule.jitter_seconds,
      ':overlap': schedule.overlap,
      ':deadline': schedule.starting_deadline_seconds,
      ':catch_up': schedule.catch_up,
      ':next': schedule.generation,
      ':generation': previous,
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
      '#overlap = :overlap',
      '#starting_deadline_seconds = :deadline',
      '#catch_up = :catch_up',
      'generation = :next',
    ];
    if (resetLeft) {
      values[':left'] = schedule.recurrence_left;
      sets.push('recurrence_left = :left');
    }
    // A schedule without guards carries no guards attribute at all.
    const hasGuards = schedule.guards !== undefined && schedule.guards.length > 0;
    if (hasGuards) {
      values[':guards'] = schedule.guards;
      sets.push('guards = :guards');
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(schedule.experiment_id, schedule.id),
          UpdateExpression: `SET ${sets.join(', ')}${hasGuards ? '' : ' REMOVE guards'}`,
          ConditionExpression: `attribute_exists(pk) AND ${LIVE} AND ${generationIs(previous)}`,
          ExpressionAttributeNames: Object.fromEntries(['parameters', 'state', 'timezone', 'start_date', 'end_date', 'jitter_seconds', 'overlap', 'starting_deadline_seconds', 'catch_up'].map((n) => [`#${n}`, n])),
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

  async markDeleted(experimentId: string, scheduleId: string, by: string, at: string): Promise<Schedule> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(experimentId, scheduleId),
          UpdateExpression: `SET deleted_at = :at, deleted_by = :by, updated_at = :at, updated_by = :by, generation = if_not_exists(generation, :zero) + :one REMOVE ${INDEXES.byType.pk}, ${INDEXES.byType.sk}`,
          ConditionExpression: `attribute_exists(pk) AND ${LIVE}`,
          ExpressionAttributeValues: { ':at': at, ':by': by, ':zero': 0, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toSchedule(Attributes ?? {});
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
      decodeToken(page.nextToken, [KEY.pk, KEY.sk], { name: KEY.pk, value: partition(experimentId) }, { name: KEY.sk, prefix: 'SCHEDULE#' }),
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

  async recordFiring(record: FiringRecord): Promise<FiringRecord> {
    const expiresAt = Math.floor(Date.parse(record.received_at) / 1000) + FIRING_RECORD_TTL_SECONDS;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, ...recordKey(record), type: 'FIRING', [TTL_ATTRIBUTE]: expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      // A started firing is counted by applyFiring, in the write that counts it against the schedule.
      if (record.outcome !== 'started') await this.count(record, { [record.outcome]: 1 });
      return record;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: recordKey(record), ConsistentRead: true }));
      // Expired and purged between the two calls: what this call wanted to record stands.
      return Item ? toFiringRecord(Item) : record;
    }
  }

  async settleFiring(firing: ScheduleFiring, outcome: FiringRecord['outcome'], reason: string): Promise<void> {
    let before: string | undefined;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: firingKey(firing),
          UpdateExpression: 'SET outcome = :outcome, reason = :reason',
          ConditionExpression: 'attribute_exists(pk) AND outcome <> :outcome',
          ExpressionAttributeValues: { ':outcome': outcome, ':reason': reason },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      before = Attributes?.['outcome'] as string | undefined;
    } catch (error) {
      // Nothing recorded (expired meanwhile), or already settled so: nothing to settle.
      if (!isConditionalCheckFailed(error)) throw error;
      return;
    }
    // Settling follows a refused count, so a `started` record was never counted as started.
    await this.count(firing, before && before !== 'started' ? { [before]: -1, [outcome]: 1 } : { [outcome]: 1 });
  }

  /**
   * Moves the schedule's outcome counters (ADD creates a missing one). Counting
   * follows the record write, so a crash between the two can leave a count one
   * short; the records themselves are the truth.
   */
  private async count(firing: Pick<ScheduleFiring, 'experiment_id' | 'schedule_id'>, deltas: Record<string, number>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const adds = Object.entries(deltas).map(([outcome, delta], i) => {
      names[`#c${i}`] = `${FIRING_COUNT_PREFIX}${outcome}`;
      values[`:d${i}`] = delta;
      return `#c${i} :d${i}`;
    });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(firing.experiment_id, firing.schedule_id),
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // A firing of a schedule that is gone has nothing to count on.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async listFirings(experimentId: string, scheduleId: string, page: PageRequest): Promise<Page<FiringRecord>> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partition(experimentId), ':prefix': firingPrefix(scheduleId) },
        ScanIndexForward: false,
        Limit: page.limit,
        ExclusiveStartKey: decodeToken(page.nextToken, [KEY.pk, KEY.sk], { name: KEY.pk, value: partition(experimentId) }, { name: KEY.sk, prefix: firingPrefix(scheduleId) }),
      }),
    );
    return { items: (result.Items ?? []).map(toFiringRecord), nextToken: encodeToken(result.LastEvaluatedKey) };
  }

  async applyFiring(firing: ScheduleFiring, hint: { counted: boolean } = { counted: true }): Promise<{ outcome: FiringOutcome; schedule?: Schedule }> {
    const generation = firing.generation ?? 0;
    const fresh = `attribute_exists(pk) AND ${LIVE} AND ${generationIs(generation)} AND (attribute_not_exists(last_fired_time) OR last_fired_time < :t)`;
    // A counted schedule loses one and records the firing in the same write;
    // a forever schedule (recurrence_left null) only records it. The conditions
    // make each write apply to one kind only, so trying the likely one first
    // (a refused write is still billed) is safe whatever the hint says.
    const counted = () =>
      this.conditionalUpdate(firing, `SET last_fired_time = :t, recurrence_left = recurrence_left - :one ADD ${STARTED_COUNT} :one`, `${fresh} AND recurrence_left > :zero`, {
        ':one': 1,
        ':zero': 0,
        ':generation': generation,
      });
    const forever = () =>
      this.conditionalUpdate(firing, `SET last_fired_time = :t ADD ${STARTED_COUNT} :one`, `${fresh} AND (attribute_not_exists(recurrence_left) OR attribute_type(recurrence_left, :nullType))`, {
        ':nullType': 'NULL',
        ':one': 1,
        ':generation': generation,
      });
    for (const attempt of hint.counted ? [counted, forever] : [forever, counted]) {
      const applied = await attempt();
      if (applied) return { outcome: 'applied', schedule: applied };
    }

    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(firing.experiment_id, firing.schedule_id), ConsistentRead: true }));
    if (!Item || isDeletedItem(Item)) return { outcome: 'missing' };
    const schedule = toSchedule(Item);
    if (schedule.generation !== generation) return { outcome: 'superseded', schedule };
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
