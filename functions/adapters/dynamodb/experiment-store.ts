import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { Experiment } from '../../domain/experiment.js';
import type { ExperimentStore, Page, PageRequest } from '../../ports.js';
import { isConditionalCheckFailed } from './client.js';
import { newestOfType } from './pagination.js';
import { INDEXES } from './table.js';

const TYPE = 'EXPERIMENT';
const key = (id: string) => ({ pk: `EXPERIMENT#${id}`, sk: TYPE });
const STORAGE_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'version', 'deleted_at', 'deleted_by', 'type'];

export interface StoredExperiment extends Experiment {
  deleted_at?: string;
  deleted_by?: string;
}

function toExperiment(item: Record<string, unknown>): StoredExperiment {
  const experiment: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!STORAGE_ATTRIBUTES.includes(name) || name === 'deleted_at' || name === 'deleted_by') experiment[name] = value;
  }
  return experiment as unknown as StoredExperiment;
}

export class DynamoExperimentStore implements ExperimentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private item(experiment: Experiment) {
    return {
      ...experiment,
      ...key(experiment.id),
      type: TYPE,
      [INDEXES.byType.pk]: TYPE,
      [INDEXES.byType.sk]: `${experiment.created_at}#${experiment.id}`,
    };
  }

  async create(experiment: Experiment): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: this.item(experiment), ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new ConflictError(`Experiment ${experiment.id} already exists`, { cause: error });
      throw error;
    }
  }

  async get(id: string, options: { includeDeleted?: boolean } = {}): Promise<StoredExperiment | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true }));
    if (!Item) return undefined;
    if (Item['deleted_at'] !== undefined && !options.includeDeleted) return undefined;
    return toExperiment(Item);
  }

  /**
   * Full replace of a live experiment, only if nobody changed it since it was
   * read (`expectedUpdatedAt`): a concurrent delete is never undone and a
   * concurrent edit is never silently lost.
   */
  async replace(experiment: Experiment, expectedUpdatedAt: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(experiment),
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at) AND updated_at = :expected',
          ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (!(await this.get(experiment.id))) throw new NotFoundError(`Experiment ${experiment.id} not found`, { cause: error });
      throw new ConflictError(`Experiment ${experiment.id} was changed by another request; read it again and retry`, { cause: error });
    }
  }

  async markDeleted(id: string, by: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(id),
          UpdateExpression: 'SET deleted_at = :at, deleted_by = :by, updated_at = :at, updated_by = :by REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at)',
          ExpressionAttributeValues: { ':at': at, ':by': by },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFoundError(`Experiment ${id} not found`, { cause: error });
      throw error;
    }
  }

  async list(page: PageRequest): Promise<Page<Experiment>> {
    const { items, nextToken } = await newestOfType(this.client, this.tableName, TYPE, page);
    return { items: items.map(toExperiment), nextToken };
  }
}
