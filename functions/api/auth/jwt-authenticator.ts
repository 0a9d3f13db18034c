import type { APIGatewayProxyEvent } from 'aws-lambda';
import { JwtVerifier } from 'aws-jwt-verify';
import {
  FetchError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwkValidationError,
  JwksValidationError,
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { SimplePenaltyBox, type Jwk } from 'aws-jwt-verify/jwk';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { DependencyError } from '../../domain/errors.js';
import type { Caller } from '../../ports.js';
import type { Authenticator } from '../identity.js';
import { grantedAccess, identityOf, scopeFor, type Access } from './access.js';
import type { AuthConfig } from './auth-config.js';
import { InsufficientScopeError, InvalidTokenError, MissingTokenError } from './challenge.js';
import { JwksFetcher, RefreshingJwksCache } from './jwks-fetcher.js';

/** Longer tokens are refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;
/** A JWS compact serialisation: three base64url parts. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const DEFAULT_JWKS_MAX_AGE_MS = 60 * 60 * 1000;
/** The key families each signature algorithm needs, so a key is only ever used with its own kind of algorithm. */
const KEY_TYPE_OF_ALG: Record<string, string> = { RS256: 'RSA', RS384: 'RSA', RS512: 'RSA', ES256: 'EC', ES384: 'EC', ES512: 'EC', EdDSA: 'OKP' };
const CURVE_OF_ALG: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

export interface AuthLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
}

export interface JwtAuthenticatorOptions {
  logger?: AuthLogger;
  /** How long a token naming an unknown key blocks another JWKS download (default 10 s, aws-jwt-verify's own). */
  unknownKeyBackoffSeconds?: number;
  /** Reload the JWKS when it is older than this, so withdrawn keys stop working (default 1 hour). */
  jwksMaxAgeMs?: number;
}

export interface JwtAuthenticator extends Authenticator {
  /** Downloads the signing keys now (local start-up), so the first request does not wait for them. */
  hydrate(): Promise<void>;
}

/** A token rejected by one of our own checks, with the reason the client sees. */
class RejectedTokenError extends Error {}

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235). */
function bearerToken(event: APIGatewayProxyEvent): string {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  if (header === undefined || header.trim() === '') throw new MissingTokenError();
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new InvalidTokenError('the Authorization header must be: Bearer <token>');
  const token = match[1];
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) throw new InvalidTokenError('the token is malformed');
  return token;
}

function checkAudience(payload: JwtPayload, audiences: readonly string[]): void {
  const aud = payload['aud'];
  // Cognito access tokens carry no `aud`; their audience is the app client in `client_id`.
  const given = aud === undefined ? [payload['client_id']] : Array.isArray(aud) ? aud : [aud];
  if (!given.some((value) => typeof value === 'string' && audiences.includes(value))) throw new RejectedTokenError('the token audience is not accepted');
}

/** The key decides the algorithm family: an RSA key only verifies RS*, an EC key only ES* on its own curve. */
function checkAlgorithmFitsKey(header: JwtHeader, jwk: Jwk): void {
  const alg = String(header.alg);
  if (KEY_TYPE_OF_ALG[alg] !== jwk.kty) throw new RejectedTokenError('the token signature algorithm does not match its key');
  const curve = CURVE_OF_ALG[alg];
  if (curve !== undefined && jwk.crv !== curve) throw new RejectedTokenError('the token signature algorithm does not match its key');
}

/** The reason a client sees for a rejected token; never the token itself. */
function describe(error: unknown): string {
  if (error instanceof RejectedTokenError) return error.message;
  if (error instanceof JwtExpiredError) return 'the token has expired';
  if (error instanceof JwtNotBeforeError) return 'the token is not valid yet';
  if (error instanceof JwtInvalidIssuerError) return 'the token issuer is not accepted';
  if (error instanceof JwtInvalidAudienceError) return 'the token audience is not accepted';
  if (error instanceof JwtInvalidSignatureAlgorithmError) return 'the token signature algorithm is not accepted';
  if (error instanceof JwtInvalidSignatureError) return 'the token signature is invalid';
  if (error instanceof KidNotFoundInJwksError || error instanceof WaitPeriodNotYetEndedJwkError || error instanceof JwtWithoutValidKidError) {
    return 'the token is not signed by a known key';
  }
  if (error instanceof JwkValidationError || error instanceof JwkInvalidUseError || error instanceof JwkInvalidKtyError) return 'the token signing key cannot be used';
  if (error instanceof JwtParseError) return 'the token is malformed';
  return 'the token is invalid';
}

/**
 * Bearer JWT authentication and scope/group authorization, the same on Lambda
 * and locally: signature against the provider's JWKS (cached; a token naming a
 * new key triggers a reload, so rotated keys are picked up), `exp` required and
 * `exp` / `nbf` checked with a small clock skew, exact issuer, accepted audience,
 * the algorithm bound to its key and never `none` or a shared-secret one.
 */
export function createJwtAuthenticator(config: AuthConfig, options: JwtAuthenticatorOptions = {}): JwtAuthenticator {
  const { logger } = options;
  const jwksCache = new RefreshingJwksCache(
    { fetcher: new JwksFetcher(), penaltyBox: new SimplePenaltyBox({ waitSeconds: options.unknownKeyBackoffSeconds ?? 10 }) },
    options.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS,
  );
  const verifier = JwtVerifier.create(
    {
      issuer: config.issuer,
      jwksUri: config.jwksUri,
      // The audience is checked below, where a Cognito access token's `client_id` can stand in for `aud`.
      audience: null,
      graceSeconds: config.clockSkewSeconds,
      customJwtCheck: ({ header, payload, jwk }) => {
        if (payload.exp === undefined) throw new RejectedTokenError('the token has no expiry (exp)');
        checkAudience(payload, config.audiences);
        checkAlgorithmFitsKey(header, jwk);
      },
    },
    { jwksCache },
  );

  async function verify(token: string): Promise<JwtPayload> {
    try {
      return await verifier.verify(token);
    } catch (error) {
      if (error instanceof FetchError || error instanceof JwksValidationError) {
        logger?.warn('Could not load the identity provider signing keys', { jwksUri: config.jwksUri, error: error.message });
        throw new DependencyError('The identity provider signing keys could not be loaded; try again shortly.', { cause: error });
      }
      const reason = describe(error);
      // Never the token: only why it was refused.
      logger?.info('Bearer token refused', { reason, error: error instanceof Error ? error.name : typeof error });
      if (!(error instanceof JwtBaseError || error instanceof RejectedTokenError)) {
        logger?.warn('Unexpected error while verifying a bearer token', { error: error instanceof Error ? error.message : String(error) });
      }
      throw new InvalidTokenError(reason, { cause: error });
    }
  }

  return {
    async authenticate(event: APIGatewayProxyEvent, access: Access): Promise<Caller> {
      const payload = await verify(bearerToken(event));
      const id = identityOf(payload, config.identityClaim);
      if (id === undefined) throw new InvalidTokenError(`the token has no usable ${config.identityClaim} claim`);
      if (!grantedAccess(payload, config).has(access)) throw new InsufficientScopeError(scopeFor(access));
      return { id };
    },
    async hydrate() {
      await verifier.hydrate();
    },
  };
}
