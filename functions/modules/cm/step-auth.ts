import { createHash } from 'node:crypto';
import type { Json, JsonObject } from '../../domain/types.js';
import { StepFailedError, type StepContext } from '../types.js';
import { credentialSchema, credentialValues, isCredentialSpec, resolveCredential, type Credential } from './credentials.js';

/**
 * `where.authentication` of an HTTP step: `basic` / `bearer` with the values
 * inline or from `credentials`, and Kallisti's `oauth2_token` (docs/http-step-auth.md):
 * a token from `url` (password grant with the credential's user, client
 * credentials grant without one), cached for its lifetime, sent as `Bearer`.
 */
export const authenticationSchema = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', enum: ['basic', 'bearer', 'oauth2_token'] },
    username: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    credentials: credentialSchema,
    url: { type: 'string', format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', maxLength: 2048 },
    client: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1, maxLength: 512 }, secret: { type: 'string', maxLength: 4096 } },
    },
    resource: { type: 'string', maxLength: 2048 },
    token_key: { type: 'string', minLength: 1, maxLength: 128 },
  },
  allOf: [{ if: { properties: { type: { const: 'oauth2_token' } } }, then: { required: ['type', 'url'] } }],
} as const;

/** Performs one HTTP call through the same guarded path as the step itself. */
export type TokenRequest = (where: JsonObject, context: StepContext) => Promise<{ status_code: number; response_text: string; response: Json }>;

interface CachedToken {
  token: string;
  until: number;
}

/** Tokens by endpoint, client, user and resource; reused until shortly before they expire. Never written anywhere. */
const tokens = new Map<string, CachedToken>();
/** Renew this long before the token's own expiry. */
const EXPIRY_MARGIN_MS = 30_000;
const DEFAULT_LIFETIME_S = 300;

const hash = (parts: string[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

export function clearTokenCache(): void {
  tokens.clear();
}

export interface ResolvedAuthentication {
  /** The Authorization header to send, if any. */
  authorization?: string;
  /** Values to scrub from anything the step logs or returns. */
  secrets: string[];
}

async function credentialOf(auth: JsonObject, fallback: Json | undefined): Promise<Credential | undefined> {
  const spec = auth['credentials'] ?? fallback;
  return isCredentialSpec(spec) ? resolveCredential(spec) : undefined;
}

async function oauth2Token(auth: JsonObject, credential: Credential | undefined, request: TokenRequest, context: StepContext, now: () => number): Promise<string> {
  const url = String(auth['url']);
  const client = auth['client'] as { id: string; secret?: string } | undefined;
  const resource = typeof auth['resource'] === 'string' ? auth['resource'] : undefined;
  const tokenKey = typeof auth['token_key'] === 'string' ? auth['token_key'] : 'access_token';
  // As Kallisti: a token credential is the token itself; a user and password are exchanged for one.
  if (credential && 'token' in credential) return credential.token;
  if (!client) throw new StepFailedError('Authentication for the HTTP request failed: oauth2_token needs "client" (its id, and secret if any) to ask for a token.');
  const form = new URLSearchParams(credential ? { grant_type: 'password', username: credential.username, password: credential.password } : { grant_type: 'client_credentials' });
  if (resource !== undefined) form.set('resource', resource);
  // Hashed, so the map's keys hold no credential in clear.
  const cacheKey = hash([url, client.id, credential && 'username' in credential ? credential.username : '', resource ?? '', tokenKey, client.secret ?? '', credential && 'password' in credential ? credential.password : '']);
  const cached = tokens.get(cacheKey);
  if (cached && cached.until > now()) return cached.token;

  const basic = Buffer.from(`${client.id}:${client.secret ?? ''}`).toString('base64');
  const answer = await request(
    { url, method: 'POST', headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, request_body: form.toString() },
    context,
  );
  if (answer.status_code >= 400) throw new StepFailedError(`Authentication for the HTTP request failed: the token endpoint answered ${answer.status_code}.`);
  const body = answer.response !== null && typeof answer.response === 'object' && !Array.isArray(answer.response) ? answer.response : {};
  const token = body[tokenKey];
  if (typeof token !== 'string' || token === '') throw new StepFailedError(`Authentication for the HTTP request failed: the token endpoint's answer has no "${tokenKey}".`);
  const lifetime = typeof body['expires_in'] === 'number' && body['expires_in'] > 0 ? body['expires_in'] : DEFAULT_LIFETIME_S;
  tokens.set(cacheKey, { token, until: now() + Math.max(0, lifetime * 1000 - EXPIRY_MARGIN_MS) });
  context.log('Obtained an OAuth2 token for the request.');
  return token;
}

/** The step's Authorization header and the secrets to keep out of its record. */
export async function resolveAuthentication(where: JsonObject, request: TokenRequest, context: StepContext, now: () => number = Date.now): Promise<ResolvedAuthentication> {
  const auth = where['authentication'];
  if (auth === undefined || auth === null || typeof auth !== 'object' || Array.isArray(auth)) return { secrets: [] };
  const credential = await credentialOf(auth, where['credentials']);
  const secrets = credential ? credentialValues(credential) : [];
  switch (auth['type']) {
    case 'basic': {
      const user = credential && 'username' in credential ? credential.username : String(auth['username'] ?? '');
      const password = credential && 'password' in credential ? credential.password : String(auth['password'] ?? '');
      return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, secrets };
    }
    case 'bearer': {
      const token = credential && 'token' in credential ? credential.token : String(auth['token'] ?? '');
      return { authorization: `Bearer ${token}`, secrets: [...secrets, token] };
    }
    case 'oauth2_token': {
      const client = auth['client'] as { id?: string; secret?: string } | undefined;
      const clientSecrets = client?.secret ? [client.secret, Buffer.from(`${client.id ?? ''}:${client.secret}`).toString('base64')] : [];
      const token = await oauth2Token(auth, credential, request, context, now);
      return { authorization: `Bearer ${token}`, secrets: [...secrets, ...clientSecrets, token] };
    }
    default:
      return { secrets };
  }
}
