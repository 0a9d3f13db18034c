import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { JsonObject } from '../../domain/types.js';
import { StepFailedError } from '../types.js';

/**
 * Credentials a step names instead of holding, as Kallisti's `credentials`
 * (ENV_VAR_USERNAME_PASSWORD, TOKEN_FILE, K8S_SVC_ACC_TOKEN_FILE) and, beyond
 * it, references to AWS secrets resolved by the worker when the step runs:
 * `{ "type": "secretsmanager" | "ssm", "id": "...", "key": "..." }`.
 */
export const credentialSchema = {
  type: 'object',
  required: ['type'],
  oneOf: [
    {
      properties: { type: { const: 'ENV_VAR_USERNAME_PASSWORD' }, username_key: { type: 'string', minLength: 1, maxLength: 256 }, password_key: { type: 'string', minLength: 1, maxLength: 256 } },
      required: ['type', 'username_key', 'password_key'],
      additionalProperties: false,
    },
    { properties: { type: { const: 'TOKEN_FILE' }, token_path: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['type', 'token_path'], additionalProperties: false },
    { properties: { type: { const: 'K8S_SVC_ACC_TOKEN_FILE' } }, required: ['type'], additionalProperties: false },
    {
      properties: { type: { enum: ['secretsmanager', 'ssm'] }, id: { type: 'string', minLength: 1, maxLength: 2048 }, key: { type: 'string', minLength: 1, maxLength: 256 } },
      required: ['type', 'id'],
      additionalProperties: false,
    },
  ],
} as const;

export type CredentialSpec =
  | { type: 'ENV_VAR_USERNAME_PASSWORD'; username_key: string; password_key: string }
  | { type: 'TOKEN_FILE'; token_path: string }
  | { type: 'K8S_SVC_ACC_TOKEN_FILE' }
  | { type: 'secretsmanager' | 'ssm'; id: string; key?: string };

/** What a credential resolves to: a user name and password, or a token. */
export type Credential = { username: string; password: string } | { token: string };

/** Reads AWS secrets (the worker's adapter; refuses ids outside its configured prefix). */
export interface SecretSource {
  read(type: 'secretsmanager' | 'ssm', id: string): Promise<string>;
}

export interface CredentialPolicy {
  /** Environment variables a step may read; `NAME` or `PREFIX*`. Empty: none. AWS_* is never readable. */
  envAllow: readonly string[];
  /** Directory TOKEN_FILE paths must lie in; undefined: TOKEN_FILE is refused. */
  tokenFileDir?: string;
  secrets?: SecretSource;
}

const K8S_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

let policy: CredentialPolicy = policyFromEnv(process.env);

/** KALLISTI_CREDENTIAL_ENV_ALLOW (comma-separated names or prefixes ending in *), KALLISTI_CREDENTIAL_FILE_DIR. */
export function policyFromEnv(env: NodeJS.ProcessEnv, secrets?: SecretSource): CredentialPolicy {
  const envAllow = (env['KALLISTI_CREDENTIAL_ENV_ALLOW'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const dir = env['KALLISTI_CREDENTIAL_FILE_DIR'];
  return { envAllow, ...(dir ? { tokenFileDir: path.resolve(dir) } : {}), ...(secrets ? { secrets } : {}) };
}

/** Set once at start-up (and by tests), like the HTTP policy. */
export function setCredentialPolicy(next: CredentialPolicy): void {
  policy = next;
}

function envAllowed(name: string): boolean {
  if (name.startsWith('AWS_')) return false;
  return policy.envAllow.some((rule) => (rule.endsWith('*') ? name.startsWith(rule.slice(0, -1)) : name === rule));
}

function readEnv(name: string): string {
  if (!envAllowed(name)) throw new StepFailedError(`Credential environment variable ${name} is not allowed (KALLISTI_CREDENTIAL_ENV_ALLOW).`);
  const value = process.env[name];
  if (value === undefined) throw new StepFailedError(`Credential environment variable ${name} is not set.`);
  return value;
}

async function readTokenFile(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new StepFailedError(`Could not read the token file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
}

/** A secret's value: the `key` field of a JSON secret, else the whole string (a JSON secret with username/password, or a token). */
function fromSecret(raw: string, key: string | undefined, what: string): Credential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const fields = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  if (key !== undefined) {
    const value = fields?.[key];
    if (typeof value === 'string') return { token: value };
    if (value !== null && typeof value === 'object') return fromSecret(JSON.stringify(value), undefined, what);
    throw new StepFailedError(`${what} has no string field "${key}".`);
  }
  if (fields && typeof fields['username'] === 'string' && typeof fields['password'] === 'string') return { username: fields['username'], password: fields['password'] };
  if (fields && typeof fields['token'] === 'string') return { token: fields['token'] };
  return { token: raw };
}

/** Resolves a credential when the step runs; the values never reach the trial record (callers scrub them). */
export async function resolveCredential(spec: CredentialSpec): Promise<Credential> {
  switch (spec.type) {
    case 'ENV_VAR_USERNAME_PASSWORD':
      return { username: readEnv(spec.username_key), password: readEnv(spec.password_key) };
    case 'TOKEN_FILE': {
      if (!policy.tokenFileDir) throw new StepFailedError('TOKEN_FILE credentials are not enabled (KALLISTI_CREDENTIAL_FILE_DIR).');
      const file = path.resolve(policy.tokenFileDir, spec.token_path);
      // Inside the directory as written and once links are followed: a symbolic link cannot lead out of it.
      const inside = async (candidate: string) => candidate.startsWith(`${await realpath(policy.tokenFileDir ?? '').catch(() => policy.tokenFileDir)}${path.sep}`);
      if (!file.startsWith(`${policy.tokenFileDir}${path.sep}`) || !(await inside(await realpath(file).catch(() => file)))) {
        throw new StepFailedError(`Token file ${spec.token_path} is outside ${policy.tokenFileDir}.`);
      }
      return { token: await readTokenFile(file) };
    }
    case 'K8S_SVC_ACC_TOKEN_FILE':
      return { token: await readTokenFile(K8S_TOKEN_PATH) };
    case 'secretsmanager':
    case 'ssm': {
      if (!policy.secrets) throw new StepFailedError(`${spec.type} credentials are not available here.`);
      const raw = await policy.secrets.read(spec.type, spec.id);
      return fromSecret(raw, spec.key, `${spec.type} secret ${spec.id}`);
    }
  }
}

export function isCredentialSpec(value: unknown): value is CredentialSpec {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as JsonObject)['type'] === 'string';
}

/** The secret strings a credential holds (and the Basic header built of them), so logs and outputs can be scrubbed of them. */
export function credentialValues(credential: Credential): string[] {
  const values = 'token' in credential ? [credential.token] : [credential.password, Buffer.from(`${credential.username}:${credential.password}`).toString('base64')];
  return values.filter((v) => v.length > 0);
}

/** A SecretSource whose adapter (and its SDK clients) loads with the first step that names a secret, then stays. */
export function lazySecretSource(load: () => Promise<SecretSource>): SecretSource {
  let loading: Promise<SecretSource> | undefined;
  return {
    async read(type, id) {
      loading ??= load().catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      return (await loading).read(type, id);
    },
  };
}
