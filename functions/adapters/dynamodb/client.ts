import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One document client per container; undefined values are dropped rather than
 * rejected. Every object written is plain JSON, but one with an own `constructor`
 * key (a step's response can have one) looks like a class instance to the
 * marshaller: convertClassInstanceToMap stores it as the map it is.
 */
export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
    unmarshallOptions: { wrapNumbers: false },
  });
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** DynamoDB refused the request itself (an item too large, a bad value): retrying the same write cannot help. */
export function isValidationException(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationException';
}
