import http from 'node:http';
import { SimpleFetcher, type Fetcher } from 'aws-jwt-verify/https';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleJwksCache, type Jwks, type JwkWithKid, type PenaltyBox } from 'aws-jwt-verify/jwk';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { checkJwksUri } from './auth-config.js';

const TIMEOUT_MS = 3000;
const MAX_JWKS_BYTES = 512 * 1024;

/**
 * aws-jwt-verify's fetcher speaks https only. A provider on this machine (a local
 * Keycloak, or a test's key server) is reached over plain http; anything else
 * goes through the library's own fetcher.
 */
export class JwksFetcher implements Fetcher {
  private readonly https = new SimpleFetcher();

  async fetch(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    if (new URL(uri).protocol === 'https:') return this.https.fetch(uri, requestOptions, data);
    checkJwksUri(uri);
    return new Promise<ArrayBuffer>((resolve, reject) => {
      const request = http.get(uri, { timeout: TIMEOUT_MS }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new NonRetryableFetchError(uri, `Status code is ${response.statusCode}, expected 200`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_JWKS_BYTES) request.destroy(new FetchError(uri, 'JWKS response is too large'));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
        });
        response.on('error', (error) => reject(new FetchError(uri, error.message)));
      });
      request.on('timeout', () => request.destroy(new FetchError(uri, `Response time-out (after ${TIMEOUT_MS} ms.)`)));
      request.on('error', (error) => reject(error instanceof FetchError ? error : new FetchError(uri, error.message)));
    });
  }
}

/**
 * The library's cache keeps a JWKS until a token names an unknown key, so a key
 * the provider withdrew would stay trusted for the life of the container. This
 * one also reloads the JWKS once it is older than `maxAgeMs`, keeping the old
 * keys if the provider cannot be reached (and retrying a minute later).
 */
export class RefreshingJwksCache extends SimpleJwksCache {
  private readonly fetchedAt = new Map<string, number>();

  constructor(
    props: { fetcher: Fetcher; penaltyBox: PenaltyBox },
    private readonly maxAgeMs: number,
  ) {
    super(props);
  }

  override async getJwks(jwksUri: string): Promise<Jwks> {
    const jwks = await super.getJwks(jwksUri);
    this.fetchedAt.set(jwksUri, Date.now());
    return jwks;
  }

  override async getJwk(jwksUri: string, decomposedJwt: { header: JwtHeader; payload: JwtPayload }): Promise<JwkWithKid> {
    const at = this.fetchedAt.get(jwksUri);
    if (at !== undefined && Date.now() - at > this.maxAgeMs) {
      try {
        await this.getJwks(jwksUri);
      } catch {
        // Stale keys beat no keys while the provider is down; try again in a minute.
        this.fetchedAt.set(jwksUri, Date.now() - this.maxAgeMs + 60_000);
      }
    }
    return super.getJwk(jwksUri, decomposedJwt);
  }
}
