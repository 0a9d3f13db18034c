import { ForbiddenError, UnauthorizedError } from '../../domain/errors.js';

export const REALM = 'kallisti';

/** No usable credentials at all (RFC 6750 §3.1: the challenge then carries no error code). */
export class MissingTokenError extends UnauthorizedError {
  constructor() {
    super('Unauthorized: this endpoint needs an Authorization: Bearer <token> header.');
  }
}

/** A bearer token was given but cannot be accepted (malformed, expired, wrong issuer, audience, key...). */
export class InvalidTokenError extends UnauthorizedError {
  constructor(
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(`Unauthorized: ${description}.`, options);
  }
}

/** A valid token that does not grant what the operation needs. */
export class InsufficientScopeError extends ForbiddenError {
  constructor(readonly scope: string) {
    super(`Forbidden: this operation needs the scope ${scope} (or a group mapped to it).`);
  }
}

/** A quoted-string for an auth-param: printable ASCII only, without quotes or backslashes. */
function quoted(text: string): string {
  return `"${text.replace(/[^ !#-[\]-~]/g, '').replace(/ {2,}/g, ' ')}"`;
}

/** The `WWW-Authenticate` value (RFC 6750 §3) for an authentication or authorization failure; undefined for other errors. */
export function bearerChallenge(error: unknown): string | undefined {
  if (error instanceof InvalidTokenError) return `Bearer realm=${quoted(REALM)}, error="invalid_token", error_description=${quoted(error.description)}`;
  if (error instanceof InsufficientScopeError) return `Bearer realm=${quoted(REALM)}, error="insufficient_scope", scope=${quoted(error.scope)}`;
  if (error instanceof UnauthorizedError) return `Bearer realm=${quoted(REALM)}`;
  return undefined;
}
