/**
 * Authentication settings, read once at start (cold start on Lambda, `npm start`
 * locally). Either all three of the JWT variables are set (every endpoint but
 * /health, /docs and /openapi.json needs a bearer JWT) or none is (open access);
 * anything in between is a configuration mistake that must stop the start.
 */

export const AUTH_ENV = {
  jwksUri: 'KALLISTI_AUTH_JWKS_URI',
  issuer: 'KALLISTI_AUTH_JWT_ISSUER',
  audience: 'KALLISTI_AUTH_JWT_AUDIENCE',
  identityClaim: 'KALLISTI_AUTH_IDENTITY_CLAIM',
  groupsClaim: 'KALLISTI_AUTH_GROUPS_CLAIM',
  readGroups: 'KALLISTI_AUTH_READ_GROUPS',
  writeGroups: 'KALLISTI_AUTH_WRITE_GROUPS',
  adminGroups: 'KALLISTI_AUTH_ADMIN_GROUPS',
  clockSkewSeconds: 'KALLISTI_AUTH_CLOCK_SKEW_SECONDS',
} as const;

/** The three variables that switch authentication on; they go together. */
const REQUIRED = [AUTH_ENV.jwksUri, AUTH_ENV.issuer, AUTH_ENV.audience] as const;

export const DEFAULT_IDENTITY_CLAIM = 'sub';
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const MAX_CLOCK_SKEW_SECONDS = 300;

export interface AuthConfig {
  /** Where the identity provider publishes its signing keys (https, or http on a loopback host for a local provider). */
  jwksUri: string;
  /** The exact `iss` the tokens must carry. */
  issuer: string;
  /** Accepted audiences: a token's `aud` (or, when it has none, its `client_id`, as Cognito access tokens carry) must be one of them. */
  audiences: string[];
  /** The claim whose value becomes `created_by` / `initiated_by`. */
  identityClaim: string;
  /** The claim listing the caller's groups (e.g. `cognito:groups`); absent = groups grant nothing. */
  groupsClaim?: string;
  /** Groups that may read. */
  readGroups: string[];
  /** Groups that may read and write. */
  writeGroups: string[];
  /** Groups that may also engage halts and manage freeze windows. */
  adminGroups: string[];
  /** Tolerance for `exp` / `nbf` against this machine's clock. */
  clockSkewSeconds: number;
}

export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (value(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Signing keys fetched in clear text could be swapped on the way; only a provider on this machine is exempt. */
export function checkJwksUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new AuthConfigError(`${AUTH_ENV.jwksUri} must be a URL, got "${uri}"`);
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  throw new AuthConfigError(`${AUTH_ENV.jwksUri} must be an https:// URL (http:// only for localhost), got "${uri}"`);
}

/**
 * Reads the authentication settings; `undefined` means open access (nothing
 * configured). Throws AuthConfigError naming the variable when the settings
 * are incomplete or wrong.
 */
export function readAuthConfig(env: NodeJS.ProcessEnv): AuthConfig | undefined {
  const given = REQUIRED.filter((name) => value(env, name) !== undefined);
  const extras = [AUTH_ENV.identityClaim, AUTH_ENV.groupsClaim, AUTH_ENV.readGroups, AUTH_ENV.writeGroups, AUTH_ENV.adminGroups, AUTH_ENV.clockSkewSeconds].filter((name) => value(env, name) !== undefined);
  if (given.length === 0) {
    if (extras.length > 0) {
      throw new AuthConfigError(`${extras.join(', ')} ${extras.length === 1 ? 'is' : 'are'} set but authentication is not: set ${REQUIRED.join(', ')} as well, or unset ${extras.join(', ')}`);
    }
    return undefined;
  }
  const missing = REQUIRED.filter((name) => value(env, name) === undefined);
  if (missing.length > 0) {
    throw new AuthConfigError(
      `Authentication is only partly configured: missing ${missing.join(', ')}. Set all of ${REQUIRED.join(', ')} to require bearer tokens, or none of them for open access.`,
    );
  }

  const jwksUri = value(env, AUTH_ENV.jwksUri) as string;
  checkJwksUri(jwksUri);
  const audiences = list(env, AUTH_ENV.audience);
  if (audiences.length === 0) throw new AuthConfigError(`${AUTH_ENV.audience} must name at least one audience`);

  const groupsClaim = value(env, AUTH_ENV.groupsClaim);
  const readGroups = list(env, AUTH_ENV.readGroups);
  const writeGroups = list(env, AUTH_ENV.writeGroups);
  const adminGroups = list(env, AUTH_ENV.adminGroups);
  if (!groupsClaim && (readGroups.length > 0 || writeGroups.length > 0 || adminGroups.length > 0)) {
    throw new AuthConfigError(`${AUTH_ENV.readGroups} / ${AUTH_ENV.writeGroups} / ${AUTH_ENV.adminGroups} are set but ${AUTH_ENV.groupsClaim} is not: name the claim that lists the groups (e.g. cognito:groups)`);
  }
  if (groupsClaim && readGroups.length === 0 && writeGroups.length === 0 && adminGroups.length === 0) {
    throw new AuthConfigError(`${AUTH_ENV.groupsClaim} is set but neither ${AUTH_ENV.readGroups} nor ${AUTH_ENV.writeGroups} is: name the groups that may read or write`);
  }

  const skewText = value(env, AUTH_ENV.clockSkewSeconds);
  const clockSkewSeconds = skewText === undefined ? DEFAULT_CLOCK_SKEW_SECONDS : Number(skewText);
  if (!Number.isInteger(clockSkewSeconds) || clockSkewSeconds < 0 || clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS) {
    throw new AuthConfigError(`${AUTH_ENV.clockSkewSeconds} must be a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}, got "${skewText}"`);
  }

  const config: AuthConfig = {
    jwksUri,
    issuer: value(env, AUTH_ENV.issuer) as string,
    audiences,
    identityClaim: value(env, AUTH_ENV.identityClaim) ?? DEFAULT_IDENTITY_CLAIM,
    readGroups,
    writeGroups,
    adminGroups,
    clockSkewSeconds,
  };
  if (groupsClaim) config.groupsClaim = groupsClaim;
  return config;
}
