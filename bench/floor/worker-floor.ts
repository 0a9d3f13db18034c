/**
 * The worker function's floor for the cold-start benchmark: only the SDK clients the
 * worker creates at module scope (the DynamoDB document client, and SQS to hand a
 * running trial back to the queue; its Scheduler client loads on first use), and a
 * handler that acknowledges the batch. Bundled with the same esbuild options.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({});

export const handler = async (): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
  if ([documentClient, sqs].length !== 2) throw new Error('unreachable');
  return { batchItemFailures: [] };
};
