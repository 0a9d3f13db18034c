import type { FieldError } from '../../domain/errors.js';
import type { Json, JsonObject } from '../../domain/types.js';
import { httpWhereSchema, performHttp } from '../cm/http.js';
import { holdsPlaceholder } from '../placeholders.js';
import { StepFailedError, type StepContext } from '../types.js';
import { parseTime, TIME_HELP } from './time.js';

const TIME = { oneOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'number', minimum: 0 }] } as const;
/** A Prometheus duration (`15s`, `1m30s`) or a number of seconds. */
const DURATION = { oneOf: [{ type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?|([0-9]+(ms|s|m|h|d|w|y))+)$', maxLength: 32 }, { type: 'number', exclusiveMinimum: 0 }] } as const;

/** Fields of both probes: Kallisti's `base_url`, chaosprometheus' arguments, and the HTTP step's auth fields. */
export const PROM_PROPERTIES = {
  base_url: httpWhereSchema.properties.url,
  query: { type: 'string', minLength: 1, maxLength: 16384 },
  timeout: DURATION,
  verify_tls: { type: 'boolean' },
  headers: httpWhereSchema.properties.headers,
  authentication: httpWhereSchema.properties.authentication,
} as const;
export { DURATION, TIME };

/** Save-time check of the time fields (a schema cannot parse "5 minutes ago"). */
export function checkTimes(fields: readonly string[]) {
  return (where: JsonObject, allowPlaceholders: boolean): FieldError[] => {
    const errors: FieldError[] = [];
    for (const field of fields) {
      const value = where[field];
      if (value === undefined || (allowPlaceholders && holdsPlaceholder(value))) continue;
      if ((typeof value === 'string' || typeof value === 'number') && parseTime(value, new Date()) === undefined) {
        errors.push({ path: field, message: `is not a time Kallisti understands; ${TIME_HELP}` });
      }
    }
    return errors;
  };
}

export function timeParam(where: JsonObject, field: string, now: Date): string {
  const value = where[field] as string | number;
  const at = parseTime(value, now);
  if (!at) throw new StepFailedError(`${field} ${JSON.stringify(value)} is not a time Kallisti understands; ${TIME_HELP}.`);
  return at.toISOString();
}

/**
 * GET `<base_url>/api/v1/<endpoint>` through the HTTP steps' guarded client (the same
 * address and egress rules), returning Prometheus' JSON answer as is, like chaosprometheus.
 * An answer other than 200, or one that is not Prometheus JSON, fails the step.
 */
export async function prometheusGet(where: JsonObject, endpoint: 'query' | 'query_range', params: Record<string, string>, context: StepContext): Promise<Json> {
  const base = String(where['base_url']).replace(/\/+$/, '');
  const url = `${base}/api/v1/${endpoint}?${new URLSearchParams(params).toString()}`;
  const timeout = typeof where['timeout'] === 'number' ? where['timeout'] : undefined;
  const request: JsonObject = {
    url,
    method: 'GET',
    headers: { Accept: 'application/json', ...((where['headers'] as Record<string, string> | undefined) ?? {}) },
    ...(where['authentication'] !== undefined && { authentication: where['authentication'] }),
    // The HTTP call outlives Prometheus' own evaluation timeout by a margin.
    ...(timeout !== undefined && { timeout: Math.min(timeout + 5, 900) }),
  };
  context.log(`Querying ${base}/api/v1/${endpoint} with ${JSON.stringify(params)}.`);
  const answer = await performHttp(request, context, { verifyTls: where['verify_tls'] !== false });
  const body = answer.response;
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  if (answer.status_code !== 200) {
    const reason = isObject && typeof body['error'] === 'string' ? `${String(body['errorType'] ?? 'error')}: ${body['error']}` : answer.response_text.slice(0, 300);
    throw new StepFailedError(`Prometheus ${endpoint} failed with status ${answer.status_code}: ${reason}`, body);
  }
  if (!isObject || typeof body['status'] !== 'string') throw new StepFailedError(`Prometheus ${endpoint} answered 200 without Prometheus JSON: ${answer.response_text.slice(0, 200)}`);
  return body;
}
