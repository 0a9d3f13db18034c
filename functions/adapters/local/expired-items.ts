import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KEY, TTL_ATTRIBUTE } from '../dynamodb/table.js';

const BATCH = 25;

/**
 * Local mode's stand-in for DynamoDB TTL, which dynalite does not implement:
 * deletes every item whose TTL attribute (epoch seconds) is before `now`. A Scan,
 * run at start-up and every few hours in the background, never on a request path.
 * Returns how many items were deleted.
 */
export async function purgeExpiredItems(client: DynamoDBDocumentClient, tableName: string, now: Date): Promise<number> {
  let deleted = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#ttl < :now',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#pk': KEY.pk, '#sk': KEY.sk },
        ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
        ProjectionExpression: '#pk, #sk',
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += BATCH) {
      let pending: Record<string, { DeleteRequest: { Key: Record<string, unknown> } }[]> | undefined = {
        [tableName]: keys.slice(i, i + BATCH).map((Key) => ({ DeleteRequest: { Key } })),
      };
      while (pending && Object.keys(pending).length > 0) {
        const result = await client.send(new BatchWriteCommand({ RequestItems: pending }));
        pending = result.UnprocessedItems as typeof pending;
      }
    }
    deleted += keys.length;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return deleted;
}
