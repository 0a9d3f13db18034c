import type { AuthConfig } from './auth-config.js';

export type Access = 'read' | 'write' | 'admin';

export const READ_SCOPE = 'kallisti/read';
export const WRITE_SCOPE = 'kallisti/write';
/** Halts and freeze windows: the brakes every team's trials obey. */
export const ADMIN_SCOPE = 'kallisti/admin';

/** Longest identity accepted as `created_by` / `initiated_by`. */
export const MAX_IDENTITY_LENGTH = 256;

type Claims = Record<string, unknown>;

/** A claim holding names: a space-separated string (`scope`) or an array of strings (`scp`, `cognito:groups`). */
function names(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter((name) => name !== '');
  if (Array.isArray(claim)) return claim.filter((name): name is string => typeof name === 'string' && name !== '');
  return [];
}

export function scopesOf(claims: Claims): Set<string> {
  return new Set([...names(claims['scope']), ...names(claims['scp'])]);
}

/**
 * What a verified token lets its bearer do: `kallisti/admin` (or an admin group)
 * grants everything, `kallisti/write` (or a write group) grants read and write,
 * `kallisti/read` (or a read group) grants read.
 */
export function grantedAccess(claims: Claims, config: Pick<AuthConfig, 'groupsClaim' | 'readGroups' | 'writeGroups'> & { adminGroups?: string[] }): Set<Access> {
  const granted = new Set<Access>();
  const scopes = scopesOf(claims);
  const groups = new Set(config.groupsClaim ? names(claims[config.groupsClaim]) : []);
  if (scopes.has(ADMIN_SCOPE) || (config.adminGroups ?? []).some((group) => groups.has(group))) {
    granted.add('admin');
    granted.add('write');
    granted.add('read');
  }
  if (scopes.has(WRITE_SCOPE) || config.writeGroups.some((group) => groups.has(group))) {
    granted.add('write');
    granted.add('read');
  }
  if (scopes.has(READ_SCOPE) || config.readGroups.some((group) => groups.has(group))) granted.add('read');
  return granted;
}

/** The caller's identity from the configured claim; undefined when the token has no usable one. */
export function identityOf(claims: Claims, claim: string): string | undefined {
  const raw = claims[claim];
  const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
  if (!text || text.length > MAX_IDENTITY_LENGTH) return undefined;
  return text;
}

export function scopeFor(access: Access): string {
  return access === 'admin' ? ADMIN_SCOPE : access === 'write' ? WRITE_SCOPE : READ_SCOPE;
}
