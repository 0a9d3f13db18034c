import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Json, JsonObject } from '../../domain/types.js';
import { StepFailedError, type StepContext } from '../types.js';
import { isForbiddenAddress, isLoopbackAddress } from './address-policy.js';

export const MAX_REDIRECTS = 5;
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
    authentication: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { type: 'string', enum: ['basic', 'bearer'] },
        username: { type: 'string' },
        password: { type: 'string' },
        token: { type: 'string' },
      },
      additionalProperties: false,
    },
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

/** Every address a hostname resolves to (dns.lookup with `all: true` by default). */
export type HostResolver = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export interface HttpPolicy {
  /** Allow requests to cloud metadata and link-local addresses (off by default; KALLISTI_ALLOW_LINK_LOCAL=true). */
  allowLinkLocal: boolean;
  /** How hostnames are resolved; tests map names to chosen addresses. Every address returned is checked before connecting. */
  resolve?: HostResolver;
  /** Refuse loopback addresses (on by default on AWS Lambda, where the runtime API listens there). */
  blockLoopback?: boolean;
}

const systemResolver: HostResolver = (hostname, family) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, family }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

let policy: HttpPolicy = {
  allowLinkLocal: process.env['KALLISTI_ALLOW_LINK_LOCAL'] === 'true',
  blockLoopback: process.env['AWS_LAMBDA_RUNTIME_API'] !== undefined,
};

/** Why the policy refuses an address, or undefined when it may be used. */
function refusedBecause(address: string): string | undefined {
  if (!policy.allowLinkLocal && isForbiddenAddress(address)) return 'cloud metadata and link-local addresses are not allowed';
  if (policy.blockLoopback && isLoopbackAddress(address)) return 'loopback addresses are not allowed on AWS Lambda';
  return undefined;
}

/** Set once at start-up from configuration (and by tests). */
export function setHttpPolicy(next: HttpPolicy): void {
  policy = next;
}

function refusal(target: string, reason: string): StepFailedError {
  return new StepFailedError(`Refusing to connect to ${target}: ${reason}.`);
}

/**
 * Resolves at connect time and refuses when any address the name resolves to is
 * forbidden, so neither a DNS name pointing at the metadata service nor a
 * redirect to one can reach it (each redirect hop connects through here again).
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  const family = options.family === 4 || options.family === 6 ? options.family : 0;
  (policy.resolve ?? systemResolver)(hostname, family).then(
    (found) => {
      const list = family === 0 ? found : found.filter((a) => a.family === family);
      for (const candidate of list) {
        const reason = refusedBecause(candidate.address);
        if (reason) return callback(refusal(`${hostname} (${candidate.address})`, reason), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    },
    (error: NodeJS.ErrnoException) => callback(error, '', 0),
  );
};

/** Credentials meant for one origin must not follow a redirect to another (as browsers and curl do). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())));
}

function buildHeaders(where: JsonObject): Record<string, string> {
  const headers: Record<string, string> = { ...((where['headers'] as Record<string, string> | undefined) ?? {}) };
  const auth = where['authentication'] as { type: string; username?: string; password?: string; token?: string } | undefined;
  if (auth?.type === 'basic') {
    headers['Authorization'] = `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`;
  } else if (auth?.type === 'bearer') {
    headers['Authorization'] = `Bearer ${auth.token ?? ''}`;
  }
  return headers;
}

function encodeBody(body: Json | undefined, headers: Record<string, string>): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  return Buffer.from(JSON.stringify(body));
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function requestOnce(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A literal IP never goes through the lookup below, so it is checked here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const reason = isIP(host) !== 0 ? refusedBecause(host) : undefined;
    if (reason) {
      reject(refusal(url.hostname, reason));
      return;
    }
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, { method, headers, signal, lookup: guardedLookup }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
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
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

/** Performs the request of an http step, following at most MAX_REDIRECTS redirects. */
export async function performHttp(where: JsonObject, context: StepContext): Promise<HttpOutput> {
  const method = String(where['method'] ?? 'GET').toUpperCase();
  const timeoutSeconds = typeof where['timeout'] === 'number' ? where['timeout'] : DEFAULT_TIMEOUT_SECONDS;
  const headers = buildHeaders(where);
  const body = encodeBody(where['request_body'], headers);
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutSeconds * 1000)]);

  const first = new URL(String(where['url']));
  let url = first;
  let currentMethod = method;
  let currentBody = body;
  let currentHeaders = headers;
  const started = performance.now();
  for (let hop = 0; ; hop += 1) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StepFailedError(`Only http and https URLs are allowed, got ${url.protocol}`);
    let raw: RawResponse;
    try {
      raw = await requestOnce(url, currentMethod, currentHeaders, currentBody, signal);
    } catch (error) {
      if (error instanceof StepFailedError) throw error;
      if (signal.aborted && !context.signal.aborted) throw new StepFailedError(`Request to ${url.origin} timed out after ${timeoutSeconds} s`);
      throw error instanceof Error && !context.signal.aborted ? new StepFailedError(`Request to ${url.origin} failed: ${error.message}`) : error;
    }
    const location = raw.headers.location;
    if (raw.status >= 300 && raw.status < 400 && location) {
      if (hop >= MAX_REDIRECTS) throw new StepFailedError(`Too many redirects (more than ${MAX_REDIRECTS})`);
      url = new URL(location, url);
      context.log(`Redirected (${raw.status}) to ${url.origin}${url.pathname}`);
      if (url.origin !== first.origin) currentHeaders = withoutCredentials(currentHeaders);
      if (raw.status === 303 || ((raw.status === 301 || raw.status === 302) && currentMethod === 'POST')) {
        currentMethod = 'GET';
        currentBody = undefined;
      }
      continue;
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
}
