import packageJson from '../../package.json' with { type: 'json' };

/** `GET /info`, as Kallisti's: the version, and the identity provider's URLs. */
export interface Info {
  version: string;
  platform: { TOKEN_URL: string; AUTHORIZE_URL: string };
}

/**
 * Kallisti's own settings (kallisti config/settings.py KALLISTI_INFO_API_PLATFORM): both keys
 * always, from KALLISTI_AUTH_JWT_TOKEN_URL and KALLISTI_AUTH_URL, `""` when unset; given only
 * when authentication is configured, so an open deployment advertises no login.
 */
export function infoFromEnv(env: NodeJS.ProcessEnv, authConfigured: boolean): Info {
  const url = (name: string) => (authConfigured ? (env[name] ?? '').trim() : '');
  return { version: packageJson.version, platform: { TOKEN_URL: url('KALLISTI_AUTH_JWT_TOKEN_URL'), AUTHORIZE_URL: url('KALLISTI_AUTH_URL') } };
}
