import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.js';
import type { Page, PageRequest } from '../../ports.js';
import { INDEXES, KEY } from './table.js';

type Key = Record<string, string>;

/** Opaque page token: the query's LastEvaluatedKey, base64url-encoded JSON. */
export function encodeToken(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * Decodes a token and checks that it is a key of the expected shape for this
 * very query (same attributes, same partition and, for a query limited to a sort
 * key prefix, a sort key with that prefix), so a forged token, or one of another
 * list in the same partition, is a clear 400 rather than a DynamoDB error
 * (a start key outside the key condition is a ValidationException).
 */
export function decodeToken(
  token: string | undefined,
  attributes: readonly string[],
  partition: { name: string; value: string },
  sortPrefix?: { name: string; prefix: string },
): Key | undefined {
  if (token === undefined) return undefined;
  const invalid = new ValidationError('Invalid next_token', [{ path: 'next_token', message: 'is not a token this list issued; start again without it' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid;
  const entries = Object.entries(parsed as Record<string, unknown>);
  const expected = [...new Set(attributes)].sort();
  const actual = entries.map(([k]) => k).sort();
  if (expected.length !== actual.length || expected.some((name, i) => name !== actual[i])) throw invalid;
  if (entries.some(([, v]) => typeof v !== 'string' || v.length === 0 || v.length > 1024)) throw invalid;
  const key = parsed as Key;
  if (key[partition.name] !== partition.value) throw invalid;
  if (sortPrefix && !key[sortPrefix.name]?.startsWith(sortPrefix.prefix)) throw invalid;
  return key;
}

/** One page of the items of one `type` in gsi1 (INDEXES.byType), newest first, from the page's token on. */
export async function newestOfType(client: DynamoDBDocumentClient, tableName: string, type: string, page: PageRequest): Promise<Page<Record<string, unknown>>> {
  const index = INDEXES.byType;
  const result = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.pk },
      ExpressionAttributeValues: { ':pk': type },
      ScanIndexForward: false,
      Limit: page.limit,
      ExclusiveStartKey: decodeToken(page.nextToken, [KEY.pk, KEY.sk, index.pk, index.sk], { name: index.pk, value: type }),
    }),
  );
  return { items: result.Items ?? [], nextToken: encodeToken(result.LastEvaluatedKey) };
}
