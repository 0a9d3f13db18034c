import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '../ports.js';
import type { Access } from './auth/access.js';

export const ANONYMOUS: Caller = { id: 'anonymous' };

/**
 * Resolves who is calling and whether they may do what the route needs: throws
 * UnauthorizedError (401) without valid credentials, ForbiddenError (403) when
 * the credentials do not grant `access`.
 */
export interface Authenticator {
  authenticate(event: APIGatewayProxyEvent, access: Access): Promise<Caller>;
}

/** Open mode (no identity provider configured): everyone is `anonymous`. */
export const openAccess: Authenticator = {
  async authenticate() {
    return ANONYMOUS;
  },
};
