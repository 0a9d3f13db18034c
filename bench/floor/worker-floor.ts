/**
 * The worker function's floor for the cold-start benchmark: only the SDK client the
 * worker creates at module scope (the DynamoDB document client; its Scheduler client
 * loads on first use), and a handler that acknowledges the batch. Bundled with the
 * same esbuild options.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });

export const handler = async (): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
  if (!documentClient) throw new Error('unreachable');
  return { batchItemFailures: [] };
};
