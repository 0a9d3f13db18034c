import type { Json, JsonObject } from '../../domain/types.js';

interface SdkMetadata {
  requestId?: string;
  httpStatusCode?: number;
  attempts?: number;
}

/**
 * An SDK v3 response as the JSON boto3 users know: dates as ISO 8601 strings, bytes
 * as UTF-8 text, `undefined` fields dropped, and `$metadata` as boto3's
 * `ResponseMetadata` ({ RequestId, HTTPStatusCode, RetryAttempts }), so chaosaws
 * expectations such as `ResponseMetadata.HTTPStatusCode eq 200` keep working.
 */
export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined) continue;
      if (key === '$metadata') out['ResponseMetadata'] = responseMetadata(item as SdkMetadata);
      else out[key] = toJson(item);
    }
    return out;
  }
  return null;
}

function responseMetadata(metadata: SdkMetadata): JsonObject {
  const out: JsonObject = {};
  if (metadata.requestId !== undefined) out['RequestId'] = metadata.requestId;
  if (metadata.httpStatusCode !== undefined) out['HTTPStatusCode'] = metadata.httpStatusCode;
  out['RetryAttempts'] = Math.max(0, (metadata.attempts ?? 1) - 1);
  return out;
}

/** `toJson` for an object response. */
export function toJsonObject(value: object): JsonObject {
  return toJson(value) as JsonObject;
}
