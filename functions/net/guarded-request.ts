import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isSecretKey } from '../domain/redaction.js';
import { normalise } from './address-policy.js';
import { egressPolicyFromEnv, refusedBecause, type EgressPolicy, type HostResolver } from './egress.js';

/** A connection the egress policy refused; the message says where and why. */
export class EgressRefusedError extends Error {}

/** A redirect that cannot be followed (scheme, count). */
export class RedirectError extends Error {}

export const MAX_REDIRECTS = 5;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

const systemResolver: HostResolver = (hostname, family) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, family }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

let policy: EgressPolicy = { allowLinkLocal: false };
let policyError: Error | undefined;
try {
  policy = egressPolicyFromEnv(process.env);
} catch (error) {
  // A bad KALLISTI_EGRESS_ALLOW refuses every request (with the reason) rather than allowing all; start-up reports it too.
  policyError = error as Error;
}

/** Set once at start-up from configuration (and by tests). */
export function setEgressPolicy(next: EgressPolicy): void {
  policy = next;
  policyError = undefined;
}

export function currentEgressPolicy(): EgressPolicy {
  return policy;
}

function refusal(target: string, reason: string): EgressRefusedError {
  return new EgressRefusedError(`Refusing to connect to ${target}: ${reason}.`);
}

/**
 * Resolves at connect time and refuses when any address the name resolves to is
 * refused, so neither a DNS name pointing at the metadata service nor a redirect
 * to one can reach it (each redirect hop connects through here again).
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  const family = options.family === 4 || options.family === 6 ? options.family : 0;
  (policy.resolve ?? systemResolver)(hostname, family).then(
    (found) => {
      const list = family === 0 ? found : found.filter((a) => a.family === family);
      for (const candidate of list) {
        const reason = refusedBecause(policy, hostname, candidate.address);
        if (reason) return callback(refusal(`${hostname} (${candidate.address})`, reason), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    },
    (error: NodeJS.ErrnoException) => callback(error, '', 0),
  );
};

/** Headers the redaction rule calls secret must not follow a redirect to another origin (as browsers and curl do for credentials). */
export function withoutSecretHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isSecretKey(name)));
}

export interface GuardedRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
  signal: AbortSignal;
  /** Redirects to follow (default MAX_REDIRECTS; 0 returns the 3xx itself). */
  maxRedirects?: number;
  /** Bytes of body kept; the rest is read and dropped (default 1 MiB). */
  maxResponseBytes?: number;
  /** Told of each redirect followed. */
  onRedirect?: (status: number, to: URL) => void;
  /** false: accept any TLS certificate (an explicit opt-out of a step, e.g. a self-signed Prometheus). */
  verifyTls?: boolean;
}

export interface GuardedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The URL that answered, after redirects. */
  url: URL;
}

function requestOnce(url: URL, options: GuardedRequestOptions, headers: Record<string, string>, method: string, body: Buffer | undefined): Promise<Omit<GuardedResponse, 'url'>> {
  return new Promise((resolve, reject) => {
    // A literal IP never goes through the lookup, so it is checked here.
    const host = normalise(url.hostname);
    const reason = policyError ? policyError.message : isIP(host) !== 0 ? refusedBecause(policy, host, host) : undefined;
    if (reason) {
      reject(refusal(url.hostname, reason));
      return;
    }
    const limit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, { method, headers, signal: options.signal, lookup: guardedLookup, ...(options.verifyTls === false && { rejectUnauthorized: false }) }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < limit) chunks.push(chunk.subarray(0, limit - size));
        size += chunk.length;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * One HTTP exchange under the egress policy, following redirects: every hop's
 * resolved address is checked, only http/https is followed, and secret headers
 * are dropped once the origin changes. 303 (and 301/302 after a POST) turn into
 * a GET without a body, as browsers do.
 */
export async function guardedRequest(target: URL | string, options: GuardedRequestOptions): Promise<GuardedResponse> {
  const maxRedirects = options.maxRedirects ?? MAX_REDIRECTS;
  const first = new URL(target);
  let url = first;
  let method = options.method.toUpperCase();
  let body = options.body;
  let headers = options.headers;
  for (let hop = 0; ; hop += 1) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RedirectError(`Only http and https URLs are allowed, got ${url.protocol}`);
    const raw = await requestOnce(url, options, headers, method, body);
    const location = raw.headers.location;
    if (raw.status < 300 || raw.status >= 400 || !location || maxRedirects === 0) return { ...raw, url };
    if (hop >= maxRedirects) throw new RedirectError(`Too many redirects (more than ${maxRedirects})`);
    url = new URL(location, url);
    options.onRedirect?.(raw.status, url);
    if (url.origin !== first.origin) headers = withoutSecretHeaders(headers);
    if (raw.status === 303 || ((raw.status === 301 || raw.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}
