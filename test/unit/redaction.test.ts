import { collectSecrets, isSecretKey, redact, scrubText } from '../../functions/domain/redaction.js';

describe('isSecretKey', () => {
  it.each(['Authorization', 'cookie', 'Set-Cookie', 'Proxy-Authorization', 'password', 'DB_PASSWORD', 'clientSecret', 'api_token', 'X-Api-Key', 'keyId'])('treats %s as secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['url', 'method', 'Accept', 'status_code', 'username'])('treats %s as safe', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe('redact', () => {
  it('hides credential headers and secret-named keys at any depth', () => {
    const where = {
      url: 'http://x',
      headers: { Authorization: 'Bearer abc', Cookie: 'c=1', Accept: 'json' },
      request_body: { user: { password: 'p4ss', nested: [{ api_token: 't0k' }] }, keys: ['a', 'b'] },
    };
    expect(redact(where)).toEqual({
      url: 'http://x',
      headers: { Authorization: '***', Cookie: '***', Accept: 'json' },
      request_body: { user: { password: '***', nested: [{ api_token: '***' }] }, keys: '***' },
    });
  });

  it('hides every authentication value except its type', () => {
    expect(redact({ authentication: { type: 'basic', username: 'admin', password: 'pw' } })).toEqual({ authentication: { type: 'basic', username: '***', password: '***' } });
  });

  it('keeps nulls and does not change the input', () => {
    const input = { token: null, secret: 's' };
    expect(redact(input)).toEqual({ token: null, secret: '***' });
    expect(input.secret).toBe('s');
  });
});

describe('collectSecrets and scrubText', () => {
  it('collects the strings redact hides and scrubs them from text', () => {
    const where = { headers: { Authorization: 'Bearer abcdef' }, authentication: { type: 'bearer', token: 'abcdef' } };
    const secrets = collectSecrets(where);
    expect(secrets).toEqual(['Bearer abcdef', 'abcdef']);
    expect(scrubText('sent Bearer abcdef then abcdef', secrets)).toBe('sent *** then ***');
  });

  it('leaves very short secrets out of text scrubbing', () => {
    expect(collectSecrets({ password: 'ab' })).toEqual([]);
  });
});
