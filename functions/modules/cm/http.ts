import type http from 'node:http';
import type { Json, JsonObject } from '../../domain/types.js';
import { scrubJson, scrubText } from '../../domain/redaction.js';
import { StepFailedError, type StepContext } from '../types.js';
import { EgressRefusedError, guardedRequest, RedirectError, type GuardedResponse } from '../../net/guarded-request.js';
import { credentialSchema } from './credentials.js';
import { authenticationSchema, resolveAuthentication } from './step-auth.js';

const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_RESPONSE_BYTES = 1024 * 1024;

export const httpWhereSchema = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', maxLength: 2048 },
    method: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get', 'head', 'post', 'put', 'patch', 'delete', 'options'] },
    request_body: {},
    headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 }, maxProperties: 50 },
    authentication: authenticationSchema,
    /** Kallisti's step-level credential (used by basic, bearer and oauth2_token when they name none). */
    credentials: credentialSchema,
    timeout: { type: 'number', exclusiveMinimum: 0, maximum: 900 },
  },
} as const;

export interface HttpOutput extends JsonObject {
  status_code: number;
  response_text: string;
  response_headers: { [name: string]: string };
  response_time_in_seconds: number;
  response: Json;
}

/** Set once at start-up from configuration (and by tests); the policy every HTTP-speaking module shares. */
export { setEgressPolicy as setHttpPolicy } from '../../net/guarded-request.js';
export type { EgressPolicy as HttpPolicy, HostResolver } from '../../net/egress.js';

function buildHeaders(where: JsonObject, authorization: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...((where['headers'] as Record<string, string> | undefined) ?? {}) };
  if (authorization !== undefined) headers['Authorization'] = authorization;
  return headers;
}

function encodeBody(body: Json | undefined, headers: Record<string, string>): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  return Buffer.from(JSON.stringify(body));
}

function flattenHeaders(headers: http.IncomingHttpHeaders): { [name: string]: string } {
  const out: { [name: string]: string } = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function parseJson(text: string): Json {
  try {
    // A `__proto__` key would become a prototype when the response is copied; it stays visible in response_text.
    return JSON.parse(text, (key, value: Json) => (key === '__proto__' ? undefined : value)) as Json;
  } catch {
    return null;
  }
}

/** The longest an http step can take: its timeout covers every hop, redirects included. */
export function httpMaxRunMs(where: JsonObject): number {
  const seconds = typeof where['timeout'] === 'number' ? where['timeout'] : DEFAULT_TIMEOUT_SECONDS;
  return seconds * 1000 + 1000;
}

/** `verifyTls: false` accepts any server certificate (chaosprometheus' `verify_tls`); the egress rules still apply. */
export interface HttpOptions {
  verifyTls?: boolean;
}

/**
 * Performs the request of an http step, following at most MAX_REDIRECTS (5) redirects, under the egress policy.
 * Credentials it resolves (a referenced secret, an OAuth2 token) are not in `where`, so the executor cannot
 * scrub them: they are scrubbed here from everything the step returns or throws, whatever the server echoes.
 */
export async function performHttp(where: JsonObject, context: StepContext, options: HttpOptions = {}): Promise<HttpOutput> {
  // The token request of oauth2_token goes through this same guarded path (it has no authentication of its own).
  const auth = await resolveAuthentication(where, (tokenWhere, tokenContext) => performHttp(tokenWhere, tokenContext, options), context);
  const secrets = [...new Set(auth.secrets)].sort((a, b) => b.length - a.length);
  try {
    const output = await send(where, context, options, auth.authorization);
    return secrets.length === 0 ? output : (scrubJson(output, secrets) as HttpOutput);
  } catch (error) {
    if (secrets.length > 0 && error instanceof StepFailedError) throw new StepFailedError(scrubText(error.message, secrets), error.output === undefined ? undefined : scrubJson(error.output, secrets), error.kind);
    throw error;
  }
}

async function send(where: JsonObject, context: StepContext, options: HttpOptions, authorization: string | undefined): Promise<HttpOutput> {
  const method = String(where['method'] ?? 'GET').toUpperCase();
  const timeoutSeconds = typeof where['timeout'] === 'number' ? where['timeout'] : DEFAULT_TIMEOUT_SECONDS;
  const headers = buildHeaders(where, authorization);
  const body = encodeBody(where['request_body'], headers);
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutSeconds * 1000)]);

  const url = new URL(String(where['url']));
  const started = performance.now();
  let raw: GuardedResponse;
  try {
    raw = await guardedRequest(url, {
      method,
      headers,
      body,
      signal,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      ...(options.verifyTls === false && { verifyTls: false }),
      onRedirect: (status, to) => context.log(`Redirected (${status}) to ${to.origin}${to.pathname}`),
    });
  } catch (error) {
    if (error instanceof EgressRefusedError) throw new StepFailedError(error.message, undefined, 'blocked');
    if (error instanceof RedirectError) throw new StepFailedError(error.message, undefined, 'redirects');
    if (signal.aborted && !context.signal.aborted) throw new StepFailedError(`Request to ${url.origin} timed out after ${timeoutSeconds} s`, undefined, 'timeout');
    throw error instanceof Error && !context.signal.aborted ? new StepFailedError(`Request to ${url.origin} failed: ${error.message}`, undefined, 'network') : error;
  }
  const elapsed = (performance.now() - started) / 1000;
  return {
    status_code: raw.status,
    response_text: raw.body,
    response_headers: flattenHeaders(raw.headers),
    response_time_in_seconds: Math.round(elapsed * 1e6) / 1e6,
    response: parseJson(raw.body),
  };
}
