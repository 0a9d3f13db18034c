import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NotificationSettings, NotificationStore } from '../../ports.js';

/** One item holds the notification list (Kallisti keeps it as a singleton row too). */
const KEY = { pk: 'SETTINGS', sk: 'NOTIFICATION' };

export class DynamoNotificationStore implements NotificationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<NotificationSettings> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }));
    return { emails: Array.isArray(Item?.['emails']) ? (Item['emails'] as string[]) : [] };
  }

  async put(settings: NotificationSettings & { updated_by: string; updated_at: string }): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: { ...KEY, type: 'SETTINGS', ...settings } }));
  }
}
