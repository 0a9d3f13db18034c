/**
 * The worker function's floor for the cold-start benchmark: only the SDK clients the
 * worker uses (DynamoDB and EventBridge Scheduler), created at module scope, and a
 * handler that acknowledges the batch. Bundled with the same esbuild options.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const scheduler = new SchedulerClient({});

export const handler = async (): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
  if ([documentClient, scheduler].length !== 2) throw new Error('unreachable');
  return { batchItemFailures: [] };
};
