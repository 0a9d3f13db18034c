import packageJson from '../../package.json' with { type: 'json' };
import { infoFromEnv } from '../../functions/api/info.js';

describe('GET /info (kallisti views/info.py, config/settings.py KALLISTI_INFO_API_PLATFORM)', () => {
  const env = { KALLISTI_AUTH_JWT_TOKEN_URL: 'https://id.example.com/oauth2/token', KALLISTI_AUTH_URL: 'https://id.example.com/oauth2/authorize' };

  it('gives the identity provider\u2019s URLs when authentication is configured, "" for one unset', () => {
    expect(infoFromEnv(env, true)).toEqual({ version: packageJson.version, platform: { TOKEN_URL: env.KALLISTI_AUTH_JWT_TOKEN_URL, AUTHORIZE_URL: env.KALLISTI_AUTH_URL } });
    expect(infoFromEnv({ KALLISTI_AUTH_URL: env.KALLISTI_AUTH_URL }, true).platform).toEqual({ TOKEN_URL: '', AUTHORIZE_URL: env.KALLISTI_AUTH_URL });
  });

  it('advertises no login on an open deployment, with both keys still there as Kallisti answers', () => {
    expect(infoFromEnv(env, false)).toEqual({ version: packageJson.version, platform: { TOKEN_URL: '', AUTHORIZE_URL: '' } });
  });
});
