import { grantedAccess, identityOf, scopesOf } from '../../functions/api/auth/access.js';
import { AuthConfigError, readAuthConfig } from '../../functions/api/auth/auth-config.js';
import { bearerChallenge, InsufficientScopeError, InvalidTokenError, MissingTokenError } from '../../functions/api/auth/challenge.js';
import { authenticatorFromEnv, describeAuth } from '../../functions/api/auth/configure.js';
import { openAccess } from '../../functions/api/identity.js';

const FULL = {
  KALLISTI_AUTH_JWKS_URI: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json',
  KALLISTI_AUTH_JWT_ISSUER: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
  KALLISTI_AUTH_JWT_AUDIENCE: 'client-1, client-2',
};

function failure(env: NodeJS.ProcessEnv): string {
  try {
    readAuthConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('readAuthConfig', () => {
  it('means open access when nothing is set', () => {
    expect(readAuthConfig({})).toBeUndefined();
    expect(readAuthConfig({ KALLISTI_AUTH_JWKS_URI: '  ' })).toBeUndefined();
    expect(authenticatorFromEnv({}).authenticator).toBe(openAccess);
    expect(describeAuth(authenticatorFromEnv({}))).toContain('Authentication is OFF');
  });

  it('reads a full configuration with defaults', () => {
    expect(readAuthConfig(FULL)).toEqual({
      jwksUri: FULL.KALLISTI_AUTH_JWKS_URI,
      issuer: FULL.KALLISTI_AUTH_JWT_ISSUER,
      audiences: ['client-1', 'client-2'],
      identityClaim: 'sub',
      readGroups: [],
      writeGroups: [],
      adminGroups: [],
      clockSkewSeconds: 30,
    });
  });

  it('reads the identity claim, groups and clock skew', () => {
    const config = readAuthConfig({
      ...FULL,
      KALLISTI_AUTH_IDENTITY_CLAIM: 'cognito:username',
      KALLISTI_AUTH_GROUPS_CLAIM: 'cognito:groups',
      KALLISTI_AUTH_READ_GROUPS: 'auditors, ',
      KALLISTI_AUTH_WRITE_GROUPS: 'sre,chaos',
      KALLISTI_AUTH_CLOCK_SKEW_SECONDS: '5',
    });
    expect(config).toMatchObject({ identityClaim: 'cognito:username', groupsClaim: 'cognito:groups', readGroups: ['auditors'], writeGroups: ['sre', 'chaos'], clockSkewSeconds: 5 });
    expect(describeAuth(authenticatorFromEnv({ ...FULL, KALLISTI_AUTH_GROUPS_CLAIM: 'g', KALLISTI_AUTH_READ_GROUPS: 'r' }))).toContain('groups from g');
  });

  it.each([
    [{ KALLISTI_AUTH_JWKS_URI: FULL.KALLISTI_AUTH_JWKS_URI }, 'missing KALLISTI_AUTH_JWT_ISSUER, KALLISTI_AUTH_JWT_AUDIENCE'],
    [{ KALLISTI_AUTH_JWKS_URI: FULL.KALLISTI_AUTH_JWKS_URI, KALLISTI_AUTH_JWT_ISSUER: 'x' }, 'missing KALLISTI_AUTH_JWT_AUDIENCE'],
    [{ KALLISTI_AUTH_JWT_AUDIENCE: 'a', KALLISTI_AUTH_JWT_ISSUER: 'x' }, 'missing KALLISTI_AUTH_JWKS_URI'],
  ])('refuses a partial configuration %#, naming what is missing', (env, fragment) => {
    const message = failure(env);
    expect(message).toContain('only partly configured');
    expect(message).toContain(fragment);
    expect(() => authenticatorFromEnv(env)).toThrow(AuthConfigError);
  });

  it('refuses group or claim settings without the JWT settings', () => {
    expect(failure({ KALLISTI_AUTH_GROUPS_CLAIM: 'cognito:groups' })).toContain('KALLISTI_AUTH_GROUPS_CLAIM is set but authentication is not');
  });

  it('refuses groups without the claim that lists them, and a claim without groups', () => {
    expect(failure({ ...FULL, KALLISTI_AUTH_WRITE_GROUPS: 'sre' })).toContain('KALLISTI_AUTH_GROUPS_CLAIM is not');
    expect(failure({ ...FULL, KALLISTI_AUTH_GROUPS_CLAIM: 'cognito:groups' })).toContain('neither KALLISTI_AUTH_READ_GROUPS nor KALLISTI_AUTH_WRITE_GROUPS');
  });

  it.each(['http://idp.example.com/jwks.json', 'ftp://idp/jwks', 'not a url', 'http://169.254.169.254/jwks'])('refuses the JWKS URI %p', (uri) => {
    expect(failure({ ...FULL, KALLISTI_AUTH_JWKS_URI: uri })).toContain('KALLISTI_AUTH_JWKS_URI must be');
  });

  it.each(['http://localhost:8080/realms/dev/protocol/openid-connect/certs', 'http://127.0.0.1:9000/jwks', 'http://[::1]:9000/jwks'])('accepts plain http for a provider on this machine: %p', (uri) => {
    expect(readAuthConfig({ ...FULL, KALLISTI_AUTH_JWKS_URI: uri })?.jwksUri).toBe(uri);
  });

  it('refuses a bad clock skew and an empty audience list', () => {
    expect(failure({ ...FULL, KALLISTI_AUTH_CLOCK_SKEW_SECONDS: '-1' })).toContain('KALLISTI_AUTH_CLOCK_SKEW_SECONDS');
    expect(failure({ ...FULL, KALLISTI_AUTH_CLOCK_SKEW_SECONDS: '3600' })).toContain('KALLISTI_AUTH_CLOCK_SKEW_SECONDS');
    expect(failure({ ...FULL, KALLISTI_AUTH_JWT_AUDIENCE: ' , ' })).toContain('KALLISTI_AUTH_JWT_AUDIENCE');
  });
});

describe('grantedAccess', () => {
  const groups = { groupsClaim: 'cognito:groups', readGroups: ['readers'], writeGroups: ['writers'] };
  const none = { readGroups: [], writeGroups: [] };

  it('reads space-separated scope and scp arrays or strings', () => {
    expect([...scopesOf({ scope: 'openid  kallisti/read', scp: ['kallisti/write', 3] })].sort()).toEqual(['kallisti/read', 'kallisti/write', 'openid']);
    expect([...scopesOf({ scp: 'a b' })]).toEqual(['a', 'b']);
  });

  it('lets write imply read', () => {
    expect([...grantedAccess({ scope: 'kallisti/write' }, none)].sort()).toEqual(['read', 'write']);
    expect([...grantedAccess({ scope: 'kallisti/read' }, none)]).toEqual(['read']);
    expect([...grantedAccess({ scope: 'kallisti/reader kallisti/writes' }, none)]).toEqual([]);
  });

  it('maps groups only through the configured claim', () => {
    expect([...grantedAccess({ 'cognito:groups': ['writers'] }, groups)].sort()).toEqual(['read', 'write']);
    expect([...grantedAccess({ 'cognito:groups': ['readers'] }, groups)]).toEqual(['read']);
    expect([...grantedAccess({ groups: ['writers'] }, groups)]).toEqual([]);
    expect([...grantedAccess({ 'cognito:groups': ['writers'] }, none)]).toEqual([]);
  });

  it('takes the identity from a string or number claim, never an empty or huge one', () => {
    expect(identityOf({ sub: ' alice ' }, 'sub')).toBe('alice');
    expect(identityOf({ uid: 42 }, 'uid')).toBe('42');
    expect(identityOf({ sub: '' }, 'sub')).toBeUndefined();
    expect(identityOf({ sub: ['a'] }, 'sub')).toBeUndefined();
    expect(identityOf({ sub: 'x'.repeat(300) }, 'sub')).toBeUndefined();
  });
});

describe('bearerChallenge', () => {
  it('follows RFC 6750: no error code without credentials, invalid_token, insufficient_scope', () => {
    expect(bearerChallenge(new MissingTokenError())).toBe('Bearer realm="kallisti"');
    expect(bearerChallenge(new InvalidTokenError('the token has expired'))).toBe('Bearer realm="kallisti", error="invalid_token", error_description="the token has expired"');
    expect(bearerChallenge(new InsufficientScopeError('kallisti/write'))).toBe('Bearer realm="kallisti", error="insufficient_scope", scope="kallisti/write"');
    expect(bearerChallenge(new Error('other'))).toBeUndefined();
  });

  it('never lets a description break out of its quoted string', () => {
    expect(bearerChallenge(new InvalidTokenError('a "quoted"\\ \r\nvalue'))).toBe('Bearer realm="kallisti", error="invalid_token", error_description="a quoted value"');
  });
});
