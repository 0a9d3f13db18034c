import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, RecordRejectedError } from '../../domain/errors.js';
import type { ScheduleTrialSummary } from '../../domain/schedule.js';
import { emptyTrialRecord, isFinal, RECORD_PHASES, type ExperimentSnapshot, type RecordPhase, type Trial, type TrialRecord, type TrialRecordEntry, type TrialRuntime, type TrialState, type TrialStatus } from '../../domain/trial.js';
import type { Page, PageRequest, RuntimeUpdateOptions, TimeRange, TrialChanges, TrialStore } from '../../ports.js';
import { isConditionalCheckFailed, isValidationException } from './client.js';
import { decodeToken, encodeToken } from './pagination.js';
import { INDEXES, KEY, type IndexDef } from './table.js';

const TYPE = 'TRIAL';
const UNFINISHED = 'UNFINISHED';
const SNAPSHOT = 'SNAPSHOT';
const RECORD = 'RECORD#';
/**
 * A short `result` entry is written in the trial item, by the same conditional write as
 * the final status: one write instead of two, and the entry lands only with the status.
 * Longer ones keep an item of their own: inside the trial item they would be copied into
 * every index that projects it, and could bring the item near DynamoDB's 400 KB.
 */
const RESULT = 'result_entry';
export const INLINE_RESULT_MAX_BYTES = 1024;
const partition = (id: string) => `TRIAL#${id}`;
const key = (id: string) => ({ pk: partition(id), sk: TYPE });
/** `RECORD#<list number>#<index>`: the entries of a trial sort in record order under its partition. */
const entryKey = (id: string, phase: RecordPhase, index: number) => ({ pk: partition(id), sk: `${RECORD}${RECORD_PHASES.indexOf(phase)}#${String(index).padStart(6, '0')}` });
const STORAGE_ATTRIBUTES = new Set(['pk', 'sk', 'type', ...Object.values(INDEXES).flatMap((i) => [i.pk, i.sk])]);
/** Parallel reads when a list page assembles the records of its trials. */
const ASSEMBLY_CONCURRENCY = 10;
const BATCH_GET_MAX = 100;

function toState(item: Record<string, unknown>): TrialState {
  const trial: Record<string, unknown> = {};
  // `trial_record` on the item itself is the layout of trials written before entries had items of their own.
  for (const [name, value] of Object.entries(item)) if (!STORAGE_ATTRIBUTES.has(name) && name !== 'trial_record' && name !== RESULT) trial[name] = value;
  return trial as unknown as TrialState;
}

/** Assembles the items under a trial's partition (trial, snapshot, entries) into the trial. */
function assemble(items: Record<string, unknown>[]): Trial | undefined {
  const main = items.find((item) => item['sk'] === TYPE);
  if (!main) return undefined;
  const legacy = main['trial_record'] as TrialRecord | undefined;
  const record: TrialRecord = legacy ? structuredClone(legacy) : emptyTrialRecord();
  for (const item of items) {
    const sk = String(item['sk']);
    if (!sk.startsWith(RECORD)) continue;
    const phase = item['phase'] as RecordPhase;
    const index = Number(item['index']);
    // The entry as written (its own fields, `truncated` included), without the storage keys.
    const { pk: _pk, sk: _sk, phase: _phase, index: _index, ...entry } = item;
    record[phase][index] = entry as unknown as TrialRecordEntry;
  }
  // Written with the final status, so it is the result of the transition that took place (an entry item a losing writer left does not count).
  const result = main[RESULT] as TrialRecordEntry | undefined;
  if (result) record.result[0] = result;
  for (const phase of RECORD_PHASES) record[phase] = record[phase].filter((entry) => entry !== undefined);
  const trial: Trial = { ...toState(main), trial_record: record };
  const snapshot = items.find((item) => item['sk'] === SNAPSHOT);
  if (snapshot) trial.experiment_snapshot = snapshot['snapshot'] as ExperimentSnapshot;
  return trial;
}

/** The `result` entry to write in the trial item: `entries` holds it alone, and it is short. */
function inlineResult(entries: Partial<TrialRecord> | undefined): TrialRecordEntry | undefined {
  const result = entries?.result;
  if (!result || result.length !== 1 || RECORD_PHASES.some((phase) => phase !== 'result' && (entries[phase]?.length ?? 0) > 0)) return undefined;
  const entry = result[0] as TrialRecordEntry;
  return Buffer.byteLength(JSON.stringify(entry)) <= INLINE_RESULT_MAX_BYTES ? entry : undefined;
}

const hasEntries = (entries: Partial<TrialRecord> | undefined): boolean => RECORD_PHASES.some((phase) => (entries?.[phase]?.length ?? 0) > 0);

async function mapLimited<T, R>(items: T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class DynamoTrialStore implements TrialStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(trial: Trial): Promise<void> {
    const { trial_record: record, experiment_snapshot: snapshot, ...state } = trial;
    const order = `${trial.created_at}#${trial.id}`;
    const item: Record<string, unknown> = {
      ...state,
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
    // The snapshot goes first and never overwrites: a retried create keeps the first one,
    // and the trial item only ever points at a snapshot that exists.
    if (snapshot) {
      try {
        await this.client.send(new PutCommand({ TableName: this.tableName, Item: { pk: partition(trial.id), sk: SNAPSHOT, snapshot }, ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ConflictError(`Trial ${trial.id} already exists`, { cause: error });
      throw error;
    }
    // Entries only once the trial is ours: a create that loses to an existing trial writes nothing of it.
    await this.putEntries(trial.id, record);
  }

  async get(id: string): Promise<Trial | undefined> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': partition(id) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(result.Items ?? []));
      start = result.LastEvaluatedKey;
    } while (start);
    return assemble(items);
  }

  async getState(id: string): Promise<TrialState | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }));
    return Item ? toState(Item) : undefined;
  }

  async transition(id: string, from: readonly TrialStatus[], to: TrialStatus, changes: TrialChanges = {}): Promise<TrialState | undefined> {
    // A finished trial is an audit record: whatever the caller names as its current status, it never moves again.
    const live = from.filter((status) => !isFinal(status));
    if (live.length === 0) return undefined;
    const { trial_record: entries, ...fields } = changes;
    const inline = inlineResult(entries);
    if (inline) {
      try {
        return await this.update(id, live, to, fields, inline);
      } catch (error) {
        // The trial item cannot take the entry (it would pass 400 KB): the entry goes in an item of its own.
        if (!isValidationException(error)) throw error;
      }
    }
    if (hasEntries(entries)) {
      // Entries only of a trial that can still take them: a late writer never adds to a finished record.
      const current = await this.getState(id);
      if (!current || !live.includes(current.status)) return undefined;
      await this.putEntries(id, entries);
    }
    return this.update(id, live, to, fields);
  }

  /** The conditional status change itself, with the `result` entry when it fits in the trial item. */
  private async update(id: string, live: readonly TrialStatus[], to: TrialStatus, fields: Omit<TrialChanges, 'trial_record'>, result?: TrialRecordEntry): Promise<TrialState | undefined> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': to };
    const sets = ['#status = :to'];
    for (const [field, value] of Object.entries({ ...fields, ...(result && { [RESULT]: result }) })) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    const sources = live.map((status, i) => {
      values[`:from${i}`] = status;
      return `:from${i}`;
    });
    const remove = isFinal(to) ? ` REMOVE ${INDEXES.unfinished.pk}, ${INDEXES.unfinished.sk}${fields.runtime === undefined ? ', runtime' : ''}` : '';
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
      return Attributes ? toState(Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async putRecordEntry(id: string, phase: RecordPhase, index: number, entry: TrialRecordEntry): Promise<void> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...entry, ...entryKey(id, phase, index), phase, index } }));
    } catch (error) {
      if (isValidationException(error)) throw new RecordRejectedError(`The store refused the record entry of ${phase}[${index}]: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }

  async updateRuntime(id: string, runtime: Partial<TrialRuntime>, options: RuntimeUpdateOptions = {}): Promise<TrialState | undefined> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':running': 'In Progress', ':stopping': 'Stop Initiated' };
    const sets: string[] = [];
    if (options.replace) {
      values[':runtime'] = runtime;
      sets.push('runtime = :runtime');
    } else {
      for (const [field, value] of Object.entries(runtime)) {
        if (value === undefined) continue;
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`runtime.#${field} = :${field}`);
      }
    }
    // Who may write: the watchdog's takeover (the lease it saw), a recovery delivery (an orphaned trial) or anyone else (not orphaned).
    let holder: string;
    if (options.ifLease !== undefined) {
      names['#leaseSeen'] = 'lease_until';
      values[':leaseSeen'] = options.ifLease;
      holder = 'runtime.#leaseSeen = :leaseSeen';
    } else {
      names['#orphanedMark'] = 'orphaned';
      holder = options.recovery ? 'attribute_exists(runtime.#orphanedMark)' : 'attribute_not_exists(runtime.#orphanedMark)';
    }
    if (options.countInvocation) {
      values[':zero'] = 0;
      values[':one'] = 1;
      sets.push('invocations = if_not_exists(invocations, :zero) + :one');
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (:running, :stopping)${options.replace ? '' : ' AND attribute_exists(runtime)'} AND ${holder}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes ? toState(Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  private async putEntries(id: string, record: Partial<TrialRecord> | undefined): Promise<void> {
    for (const phase of RECORD_PHASES) {
      for (const [index, entry] of (record?.[phase] ?? []).entries()) await this.putRecordEntry(id, phase, index, entry);
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

  async list(filter: { experiment?: string; range?: TimeRange }, page: PageRequest): Promise<Page<Trial>> {
    const ids = (item: Record<string, unknown>) => String(item['pk']).slice('TRIAL#'.length);
    const keys = filter.experiment
      ? await this.query(INDEXES.byExperiment, `EXPERIMENT#${filter.experiment}`, page, true, ids, filter.range)
      : await this.query(INDEXES.byType, TYPE, page, true, ids, filter.range);
    // Each trial's record lives under its own partition: one Query per trial, a few at a time.
    const trials = await mapLimited(keys.items, ASSEMBLY_CONCURRENCY, (id) => this.get(id));
    return { items: trials.filter((trial): trial is Trial => trial !== undefined), nextToken: keys.nextToken };
  }

  listBySchedule(scheduleId: string, page: PageRequest): Promise<Page<ScheduleTrialSummary>> {
    return this.query(INDEXES.bySchedule, `SCHEDULE#${scheduleId}`, page, true, (item) => ({
      id: item['id'] as string,
      status: item['status'] as TrialStatus,
      executed_at: (item['executed_at'] as string | null | undefined) ?? null,
    }));
  }

  async listUnfinished(page: PageRequest): Promise<Page<TrialState>> {
    const keys = await this.query(INDEXES.unfinished, UNFINISHED, page, false, (item) => key(String(item['pk']).slice('TRIAL#'.length)));
    // The index is keys-only (small and cheap); the trial items come in one batch read.
    const found = new Map<string, TrialState>();
    for (let i = 0; i < keys.items.length; i += BATCH_GET_MAX) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = { [this.tableName]: { Keys: keys.items.slice(i, i + BATCH_GET_MAX), ConsistentRead: true } };
      while (request && Object.keys(request).length > 0) {
        const result = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.tableName] ?? []) found.set(String(item['pk']), toState(item));
        request = result.UnprocessedKeys as typeof request;
      }
    }
    const trials = keys.items.map((k) => found.get(k.pk)).filter((trial): trial is TrialState => trial !== undefined && !isFinal(trial.status));
    return { items: trials, nextToken: keys.nextToken };
  }
}
