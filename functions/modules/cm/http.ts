import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Json, JsonObject } from '../../domain/types.js';
import { StepFailedError, type StepContext } from '../types.js';
import { isForbiddenAddress } from './address-policy.js';

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

export interface HttpPolicy {
  /** Allow requests to cloud metadata and link-local addresses (off by default). */
  allowLinkLocal: boolean;
}

let policy: HttpPolicy = { allowLinkLocal: process.env['KALLISTI_ALLOW_LINK_LOCAL'] === 'true' };

/** Set once at start-up from configuration (and by tests). */
export function setHttpPolicy(next: HttpPolicy): void {
  policy = next;
}

/** Refuses, at connect time, any address the policy forbids, so DNS tricks and redirects cannot reach it. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const list = addresses;
    const forbidden = !policy.allowLinkLocal ? list.find((a) => isForbiddenAddress(a.address)) : undefined;
    if (forbidden) {
      return callback(new StepFailedError(`Refusing to connect to ${hostname} (${forbidden.address}): cloud metadata and link-local addresses are not allowed.`), '', 0);
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return callback(new Error(`No address for ${hostname}`), '', 0);
    return callback(null, first.address, first.family);
  });
};

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
    const hostIsLiteral = isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0;
    if (hostIsLiteral && !policy.allowLinkLocal && isForbiddenAddress(url.hostname.replace(/^\[|\]$/g, ''))) {
      reject(new StepFailedError(`Refusing to connect to ${url.hostname}: cloud metadata and link-local addresses are not allowed.`));
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

  let url = new URL(String(where['url']));
  let currentMethod = method;
  let currentBody = body;
  const started = performance.now();
  for (let hop = 0; ; hop += 1) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StepFailedError(`Only http and https URLs are allowed, got ${url.protocol}`);
    let raw: RawResponse;
    try {
      raw = await requestOnce(url, currentMethod, headers, currentBody, signal);
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
