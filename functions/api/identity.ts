import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '../ports.js';

export const ANONYMOUS: Caller = { id: 'anonymous' };

/** Resolves who is calling; returns undefined when the request cannot be let in. */
export interface Authenticator {
  authenticate(event: APIGatewayProxyEvent, access: 'read' | 'write'): Promise<Caller>;
}

/** Open mode (no identity provider configured): everyone is `anonymous`. */
export const openAccess: Authenticator = {
  async authenticate() {
    return ANONYMOUS;
  },
};
