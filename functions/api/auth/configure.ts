import { openAccess, type Authenticator } from '../identity.js';
import { readAuthConfig, type AuthConfig } from './auth-config.js';
import { createJwtAuthenticator, type AuthLogger, type JwtAuthenticator } from './jwt-authenticator.js';

export type ConfiguredAuth = { mode: 'jwt'; config: AuthConfig; authenticator: JwtAuthenticator } | { mode: 'open'; authenticator: Authenticator };

export const OPEN_ACCESS_WARNING =
  'Authentication is OFF: every endpoint is open to anyone who can reach it, and callers are recorded as "anonymous". ' +
  'Set KALLISTI_AUTH_JWKS_URI, KALLISTI_AUTH_JWT_ISSUER and KALLISTI_AUTH_JWT_AUDIENCE to require bearer tokens.';

/**
 * The authenticator the configuration asks for: JWT when the three variables are
 * set, open access when none is. Throws (naming the variable) on a partial or
 * wrong configuration, so a half-configured deployment never starts open.
 */
export function authenticatorFromEnv(env: NodeJS.ProcessEnv, logger?: AuthLogger): ConfiguredAuth {
  const config = readAuthConfig(env);
  if (!config) return { mode: 'open', authenticator: openAccess };
  return { mode: 'jwt', config, authenticator: createJwtAuthenticator(config, { logger }) };
}

/** One line saying how callers are checked, for start-up logs. */
export function describeAuth(auth: ConfiguredAuth): string {
  if (auth.mode === 'open') return OPEN_ACCESS_WARNING;
  const { config } = auth;
  const groups = config.groupsClaim ? `; groups from ${config.groupsClaim} (read: ${config.readGroups.join(', ') || '-'}; write: ${config.writeGroups.join(', ') || '-'})` : '';
  return `Authentication: bearer JWT from issuer ${config.issuer}, audience ${config.audiences.join(', ')}, identity from ${config.identityClaim}${groups}.`;
}
