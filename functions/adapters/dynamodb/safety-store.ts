import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { FreezeWindow } from '../../domain/safety/freeze.js';
import type { Halt } from '../../domain/safety/halt.js';
import type { SafetyRules } from '../../domain/safety/refusal.js';
import type { Page, PageRequest, SafetyStore } from '../../ports.js';
import { isConditionalCheckFailed } from './client.js';
import { newestOfType } from './pagination.js';
import { INDEXES } from './table.js';

/** Every halt and freeze window lives in this one partition, so enforcement reads them in one Query. */
const PARTITION = 'SAFETY';
const HALT = 'HALT';
const FREEZE = 'FREEZE';
const haltKey = (id: string) => ({ pk: PARTITION, sk: `${HALT}#${id}` });
const freezeKey = (id: string) => ({ pk: PARTITION, sk: `${FREEZE}#${id}` });
const STORAGE_ATTRIBUTES = new Set(['pk', 'sk', 'type', INDEXES.byType.pk, INDEXES.byType.sk]);

function strip<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!STORAGE_ATTRIBUTES.has(name)) record[name] = value;
  return record as T;
}

/**
 * Halts (sk HALT#<id>) and freeze windows (sk FREEZE#<id>) in partition SAFETY.
 * Enforcement needs the standing ones at once and strongly consistent (a halt
 * must refuse the very next trial), which a GSI cannot give: it is one Query on
 * the partition, filtered to unlifted halts and undeleted windows. Histories
 * (newest first) come from gsi1 under HALT / FREEZE. Halts are rare, so the
 * partition stays small; expired halts and past one-off windows are filtered in
 * the domain.
 */
export class DynamoSafetyStore implements SafetyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async put(type: string, key: { pk: string; sk: string }, record: Halt | FreezeWindow): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, ...key, type, [INDEXES.byType.pk]: type, [INDEXES.byType.sk]: `${record.created_at}#${record.id}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ConflictError(`${type === HALT ? 'Halt' : 'Freeze window'} ${record.id} already exists`, { cause: error });
      throw error;
    }
  }

  createHalt(halt: Halt): Promise<void> {
    return this.put(HALT, haltKey(halt.id), halt);
  }

  createFreeze(window: FreezeWindow): Promise<void> {
    return this.put(FREEZE, freezeKey(window.id), window);
  }

  async getHalt(id: string): Promise<Halt | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: haltKey(id), ConsistentRead: true }));
    return Item ? strip<Halt>(Item) : undefined;
  }

  async liftHalt(id: string, by: string, at: string): Promise<Halt> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: haltKey(id),
          UpdateExpression: 'SET lifted_by = :by, lifted_at = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_type(lifted_at, :null)',
          ExpressionAttributeValues: { ':by': by, ':at': at, ':null': 'NULL' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<Halt>(Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const halt = await this.getHalt(id);
      if (!halt) throw new NotFoundError(`Halt ${id} not found`, { cause: error });
      throw new ConflictError(`Halt ${id} was already lifted by ${halt.lifted_by} at ${halt.lifted_at}`, { cause: error });
    }
  }

  async recordStoppedTrials(id: string, trialIds: string[]): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: haltKey(id),
        UpdateExpression: 'SET stopped_trials = :ids',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':ids': trialIds },
      }),
    );
  }

  async deleteFreeze(id: string, by: string, at: string): Promise<FreezeWindow> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: freezeKey(id),
          UpdateExpression: 'SET deleted_by = :by, deleted_at = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at)',
          ExpressionAttributeValues: { ':by': by, ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<FreezeWindow>(Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: freezeKey(id), ConsistentRead: true }));
      if (!Item) throw new NotFoundError(`Freeze window ${id} not found`, { cause: error });
      throw new NotFoundError(`Freeze window ${id} not found: it was deleted by ${String(Item['deleted_by'])} at ${String(Item['deleted_at'])}`, { cause: error });
    }
  }

  private async history<T>(type: string, page: PageRequest): Promise<Page<T>> {
    const { items, nextToken } = await newestOfType(this.client, this.tableName, type, page);
    return { items: items.map((item) => strip<T>(item)), nextToken };
  }

  listHalts(page: PageRequest): Promise<Page<Halt>> {
    return this.history<Halt>(HALT, page);
  }

  listFreezes(page: PageRequest): Promise<Page<FreezeWindow>> {
    return this.history<FreezeWindow>(FREEZE, page);
  }

  async standingRules(): Promise<SafetyRules> {
    const rules: SafetyRules = { halts: [], freezes: [] };
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'attribute_not_exists(deleted_at) AND (attribute_not_exists(lifted_at) OR attribute_type(lifted_at, :null))',
          ExpressionAttributeValues: { ':pk': PARTITION, ':null': 'NULL' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? []) {
        if (item['type'] === HALT) rules.halts.push(strip<Halt>(item));
        else if (item['type'] === FREEZE) rules.freezes.push(strip<FreezeWindow>(item));
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return rules;
  }
}
