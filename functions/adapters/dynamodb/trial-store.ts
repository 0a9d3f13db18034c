import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../domain/errors.js';
import type { ScheduleTrialSummary } from '../../domain/schedule.js';
import { isFinal, type Trial, type TrialStatus } from '../../domain/trial.js';
import type { Page, PageRequest, TimeRange, TrialProgress, TrialStore } from '../../ports.js';
import { isConditionalCheckFailed } from './client.js';
import { decodeToken, encodeToken } from './pagination.js';
import { INDEXES, KEY, type IndexDef } from './table.js';

const TYPE = 'TRIAL';
const UNFINISHED = 'UNFINISHED';
const key = (id: string) => ({ pk: `TRIAL#${id}`, sk: TYPE });
const STORAGE_ATTRIBUTES = new Set(['pk', 'sk', 'type', ...Object.values(INDEXES).flatMap((i) => [i.pk, i.sk])]);

function toTrial(item: Record<string, unknown>): Trial {
  const trial: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!STORAGE_ATTRIBUTES.has(name)) trial[name] = value;
  return trial as unknown as Trial;
}

export class DynamoTrialStore implements TrialStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(trial: Trial): Promise<void> {
    const order = `${trial.created_at}#${trial.id}`;
    const item: Record<string, unknown> = {
      ...trial,
      ...key(trial.id),
      type: TYPE,
      [INDEXES.byType.pk]: TYPE,
      [INDEXES.byType.sk]: order,
      [INDEXES.byExperiment.pk]: `EXPERIMENT#${trial.experiment}`,
      [INDEXES.byExperiment.sk]: order,
    };
    if (trial.schedule_id) {
      item[INDEXES.bySchedule.pk] = `SCHEDULE#${trial.schedule_id}`;
      item[INDEXES.bySchedule.sk] = order;
    }
    if (!isFinal(trial.status)) {
      item[INDEXES.unfinished.pk] = UNFINISHED;
      item[INDEXES.unfinished.sk] = order;
    }
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ConflictError(`Trial ${trial.id} already exists`, { cause: error });
      throw error;
    }
  }

  async get(id: string): Promise<Trial | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }));
    return Item ? toTrial(Item) : undefined;
  }

  async transition(
    id: string,
    from: readonly TrialStatus[],
    to: TrialStatus,
    changes: Partial<Pick<Trial, 'executed_at' | 'completed_at' | 'trial_record' | 'parameters'>> = {},
  ): Promise<Trial | undefined> {
    // A finished trial is an audit record: whatever the caller names as its current status, it never moves again.
    const live = from.filter((status) => !isFinal(status));
    if (live.length === 0) return undefined;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': to };
    const sets = ['#status = :to'];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const sources = live.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    const remove = isFinal(to) ? ` REMOVE ${INDEXES.unfinished.pk}, ${INDEXES.unfinished.sk}` : '';
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          // Only unfinished statuses can match, so no write reaches a finished trial.
          ConditionExpression: `attribute_exists(pk) AND #status IN (${sources.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toTrial(Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async saveProgress(id: string, progress: TrialProgress): Promise<Trial | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET trial_record = :record',
          ConditionExpression: 'attribute_exists(pk) AND #status IN (:running, :stopping)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':record': progress.trial_record, ':running': 'In Progress', ':stopping': 'Stop Initiated' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toTrial(Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  private async query<T>(
    index: IndexDef,
    partition: string,
    page: PageRequest,
    newestFirst: boolean,
    map: (item: Record<string, unknown>) => T,
    range: TimeRange = {},
  ): Promise<Page<T>> {
    // The sort key is `created_at#id` with a fixed-width created_at, so `sk >= from` keeps
    // created_at >= from, and `sk < to` (or BETWEEN's `sk <= to`: `to` has no `#id`, so
    // never equal) keeps created_at < to. DynamoDB rejects BETWEEN with from > to.
    const names: Record<string, string> = { '#pk': index.pk };
    const values: Record<string, unknown> = { ':pk': partition };
    let condition = '#pk = :pk';
    if (range.from !== undefined || range.to !== undefined) {
      if (range.from !== undefined && range.to !== undefined && range.from >= range.to) return { items: [] };
      names['#sk'] = index.sk;
      if (range.from !== undefined) values[':from'] = range.from;
      if (range.to !== undefined) values[':to'] = range.to;
      condition +=
        range.from === undefined ? ' AND #sk < :to' : range.to === undefined ? ' AND #sk >= :from' : ' AND #sk BETWEEN :from AND :to';
    }
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: !newestFirst,
        Limit: page.limit,
        ExclusiveStartKey: decodeToken(page.nextToken, [KEY.pk, KEY.sk, index.pk, index.sk], { name: index.pk, value: partition }),
      }),
    );
    return { items: (result.Items ?? []).map(map), nextToken: encodeToken(result.LastEvaluatedKey) };
  }

  list(filter: { experiment?: string; range?: TimeRange }, page: PageRequest): Promise<Page<Trial>> {
    return filter.experiment
      ? this.query(INDEXES.byExperiment, `EXPERIMENT#${filter.experiment}`, page, true, toTrial, filter.range)
      : this.query(INDEXES.byType, TYPE, page, true, toTrial, filter.range);
  }

  listBySchedule(scheduleId: string, page: PageRequest): Promise<Page<ScheduleTrialSummary>> {
    return this.query(INDEXES.bySchedule, `SCHEDULE#${scheduleId}`, page, true, (item) => ({
      id: item['id'] as string,
      status: item['status'] as TrialStatus,
      executed_at: (item['executed_at'] as string | null | undefined) ?? null,
    }));
  }

  async listUnfinished(page: PageRequest): Promise<Page<Trial>> {
    const keys = await this.query(INDEXES.unfinished, UNFINISHED, page, false, (item) => String(item['pk']).slice('TRIAL#'.length));
    // The index is keys-only (small and cheap); this list is read once at local start-up.
    const trials: Trial[] = [];
    for (const id of keys.items) {
      const trial = await this.get(id);
      if (trial && !isFinal(trial.status)) trials.push(trial);
    }
    return { items: trials, nextToken: keys.nextToken };
  }
}
