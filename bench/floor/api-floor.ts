/**
 * The API function's floor for the cold-start benchmark: only the SDK clients the
 * API creates at module scope, like functions/api/lambda.ts does (DynamoDB and SQS;
 * its Scheduler adapter loads on the first schedule write), and a handler that
 * answers 200. Bundled with the same esbuild options.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const sqs = new SQSClient({});

export const handler = async (): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ status: 'ok', clients: [documentClient, sqs].length }),
});
