import { collectSecrets, hideParameters, isSecretKey, keepMasked, maskParameters, maskWhere, parameterSecrets, redact, scrubJson, scrubText, secretParameterNames } from '../../functions/domain/redaction.js';
import type { Step } from '../../functions/domain/experiment.js';

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

describe('credential parameters', () => {
  const steps: Step[] = [
    { step: 'a', do: 'cm.http_request', where: { url: 'http://x/{{ path }}', headers: { Authorization: 'Bearer {{ bearer }}', Accept: '{{ accept }}' } } },
    { step: 'b', do: 'cm.http_request', where: { url: 'http://x', authentication: { type: '{{ kind }}', username: '{{ user }}', password: '{{ pass }}' } } },
  ];
  const params = { path: 'p', bearer: 'b3arer-value', accept: 'json', kind: 'basic', user: 'svc', pass: 'pa55word', api_token: 't0ken-value', region: 'eu' };

  it('finds parameters used in secret positions and parameters with secret names', () => {
    expect(secretParameterNames(steps, params)).toEqual(['api_token', 'bearer', 'pass', 'user']);
  });

  it('collects their values for scrubbing and hides them in a kept record', () => {
    const names = secretParameterNames(steps, params);
    expect(parameterSecrets(params, names)).toEqual(['b3arer-value', 't0ken-value', 'pa55word', 'svc']);
    expect(hideParameters(params, names)).toEqual({ ...params, bearer: '***', pass: '***', user: '***', api_token: '***' });
    expect(params.bearer).toBe('b3arer-value');
  });

  it('scrubs secrets out of every string of a JSON value, keys untouched', () => {
    expect(scrubJson({ url: 'http://x/?k=s3cret', s3cret: ['a s3cret b', 1, null] }, ['s3cret'])).toEqual({ url: 'http://x/?k=***', s3cret: ['a *** b', 1, null] });
  });

  it('collects the Basic header a basic authentication sends', () => {
    expect(collectSecrets({ authentication: { type: 'basic', username: 'svc', password: 'pa55word' } })).toContain(Buffer.from('svc:pa55word').toString('base64'));
  });
});

describe('the view rule', () => {
  const steps: Step[] = [{ step: 's', do: 'cm.http_request', where: { url: 'http://x', authentication: { type: 'basic', username: 'u', password: '{{ p }}' } } }];

  it('masks parameters by name at any depth and by use', () => {
    expect(maskParameters({ p: 'by-use', api_key: 'by-name', conn: { secret: 'nested' }, plain: 'shown' }, steps)).toEqual({ p: '***', api_key: '***', conn: { secret: '***' }, plain: 'shown' });
  });

  it('masks literal credentials in where and shows templates', () => {
    expect(maskWhere({ headers: { Authorization: 'Bearer abc', 'X-Api-Key': '{{ k }}', Accept: 'json' }, authentication: { type: 'bearer', token: 'lit' } })).toEqual({
      headers: { Authorization: '***', 'X-Api-Key': '{{ k }}', Accept: 'json' },
      authentication: { type: 'bearer', token: '***' },
    });
  });

  it('keeps a stored value only where a client sends back the mask it was shown', () => {
    const stored = { token: 'real', plain: '***', list: [{ password: 'p1' }] };
    const view = { token: '***', plain: '***', list: [{ password: '***' }] };
    expect(keepMasked({ token: '***', plain: '***', list: [{ password: '***' }], added: '***' }, stored, view)).toEqual({ token: 'real', plain: '***', list: [{ password: 'p1' }], added: '***' });
    expect(keepMasked({ token: 'new' }, stored, view)).toEqual({ token: 'new' });
  });
});

describe('step credentials (Kallisti credentials, secret references, oauth2_token)', () => {
  const where = {
    url: 'https://api.example.com/orders',
    credentials: { type: 'secretsmanager', id: 'kallisti/dev/orders', key: 'password' },
    authentication: { type: 'oauth2_token', url: 'https://id.example.com/token', client: { id: 'kallisti', secret: 'client-secret-1' }, credentials: { type: 'ENV_VAR_USERNAME_PASSWORD', username_key: 'SVC_USER', password_key: 'SVC_PASS' }, resource: 'api://x' },
  };

  it('views and records show only the type of a credentials or authentication object', () => {
    const shown = { url: 'https://api.example.com/orders', credentials: { type: 'secretsmanager', id: '***', key: '***' }, authentication: { type: 'oauth2_token', url: '***', client: '***', credentials: '***', resource: '***' } };
    expect(redact(where)).toEqual(shown);
    expect(maskWhere(where)).toEqual({ ...shown, authentication: { ...shown.authentication, client: { id: '***', secret: '***' }, credentials: { type: '***', username_key: '***', password_key: '***' } } });
  });

  it('scrubs free text of the client secret, not of names and addresses (token URL, client id, secret name, variable names)', () => {
    expect(collectSecrets(where)).toEqual(['client-secret-1']);
  });
});
