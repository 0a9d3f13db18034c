import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

export interface TokenOptions {
  key?: TestKey;
  /** Signs with this key but names `key`'s kid in the header. */
  signWith?: TestKey;
  /** Merged over `{ sub: 'alice', scope: 'kallisti/read kallisti/write' }`; an undefined value removes the claim. */
  claims?: JWTPayload & Record<string, unknown>;
  issuer?: string;
  /** null: no `aud` claim. */
  audience?: string | null;
  /** Epoch seconds; null: no `exp` claim. Default: in 5 minutes. */
  expiresAt?: number | null;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A test-only key pair, generated for the run; nothing is read from or written to disk. */
export async function makeKey(kid: string, alg: TestKey['alg']): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/**
 * An identity provider for tests: an RSA and an EC signing key, a JWKS on a
 * loopback port (keys can be published or withdrawn later, for rotation), and
 * tokens signed with jose.
 */
export class TestIdentityProvider {
  readonly issuer = 'https://idp.example.test/pool';
  readonly audience = 'kallisti-api';
  readonly published: JWK[] = [];
  fetches = 0;
  /** When set, the JWKS endpoint answers 500 (a provider outage). */
  failing = false;
  jwksUri = '';
  private readonly server = http.createServer((_req, res) => {
    this.fetches += 1;
    if (this.failing) {
      res.writeHead(500);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: this.published }));
  });

  private constructor(
    readonly rsa: TestKey,
    readonly ec: TestKey,
  ) {}

  static async start(): Promise<TestIdentityProvider> {
    const provider = new TestIdentityProvider(await makeKey('rsa-1', 'RS256'), await makeKey('ec-1', 'ES256'));
    provider.publish(provider.rsa);
    provider.publish(provider.ec);
    await new Promise<void>((resolve) => provider.server.listen(0, '127.0.0.1', resolve));
    provider.jwksUri = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}/.well-known/jwks.json`;
    return provider;
  }

  publish(key: TestKey): void {
    this.published.push(key.jwk);
  }

  withdraw(key: TestKey): void {
    const index = this.published.indexOf(key.jwk);
    if (index >= 0) this.published.splice(index, 1);
  }

  /** The variables that switch authentication on for this provider, plus `extra`. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { KALLISTI_AUTH_JWKS_URI: this.jwksUri, KALLISTI_AUTH_JWT_ISSUER: this.issuer, KALLISTI_AUTH_JWT_AUDIENCE: this.audience, ...extra };
  }

  async token(options: TokenOptions = {}): Promise<string> {
    const key = options.key ?? this.rsa;
    const claims: Record<string, unknown> = { sub: 'alice', scope: 'kallisti/read kallisti/write', ...options.claims };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).setIssuer(options.issuer ?? this.issuer).setIssuedAt();
    if (options.audience !== null) jwt.setAudience(options.audience ?? this.audience);
    if (options.expiresAt !== null) jwt.setExpirationTime(options.expiresAt ?? nowSeconds() + 300);
    return jwt.sign((options.signWith ?? key).privateKey);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
