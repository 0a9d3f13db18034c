import packageJson from '../../package.json' with { type: 'json' };

/** `GET /info`, as Kallisti's: the version, and the identity provider's URLs when they are configured. */
export interface Info {
  version: string;
  platform: { TOKEN_URL?: string; AUTHORIZE_URL?: string };
}

/** Kallisti's own variable names: KALLISTI_AUTH_JWT_TOKEN_URL and KALLISTI_AUTH_URL; shown only when authentication is on. */
export function infoFromEnv(env: NodeJS.ProcessEnv, authConfigured: boolean): Info {
  const platform: Info['platform'] = {};
  if (authConfigured) {
    if (env['KALLISTI_AUTH_JWT_TOKEN_URL']) platform.TOKEN_URL = env['KALLISTI_AUTH_JWT_TOKEN_URL'];
    if (env['KALLISTI_AUTH_URL']) platform.AUTHORIZE_URL = env['KALLISTI_AUTH_URL'];
  }
  return { version: packageJson.version, platform };
}
