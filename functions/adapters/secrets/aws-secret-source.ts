import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { StepFailedError } from '../../modules/types.js';
import type { SecretSource } from '../../modules/cm/credentials.js';

export interface AwsSecretSourceOptions {
  /** Only secret names / parameter names starting with this may be read (the worker's IAM policy says the same). */
  prefix: string;
  /** How long a value is reused (default 60 s): a trial's steps read a secret once, a rotation is seen within a minute. */
  ttlMs?: number;
  now?: () => number;
}

/** The name part of a secret or parameter id, which may be given as a full ARN. */
function nameOf(type: 'secretsmanager' | 'ssm', id: string): string {
  if (!id.startsWith('arn:')) return type === 'ssm' ? id.replace(/^\//, '') : id;
  const rest = id.split(':').slice(5).join(':');
  return type === 'ssm' ? rest.replace(/^parameter\//, '') : rest.replace(/^secret:/, '');
}

/**
 * Secrets Manager secrets and SSM parameters (SecureString decrypted), read by
 * the worker when a step runs, cached briefly, and only under the configured
 * name prefix.
 */
export class AwsSecretSource implements SecretSource {
  private readonly cache = new Map<string, { value: string; until: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly secretsManager: SecretsManagerClient,
    private readonly ssm: SSMClient,
    private readonly options: AwsSecretSourceOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async read(type: 'secretsmanager' | 'ssm', id: string): Promise<string> {
    const prefix = this.options.prefix.replace(/^\//, '');
    if (!nameOf(type, id).startsWith(prefix)) throw new StepFailedError(`${type} id ${id} is outside the prefix ${this.options.prefix} this worker may read.`);
    const cacheKey = `${type} ${id}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > this.now()) return hit.value;
    let value: string | undefined;
    try {
      if (type === 'secretsmanager') {
        value = (await this.secretsManager.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
      } else {
        value = (await this.ssm.send(new GetParameterCommand({ Name: id, WithDecryption: true }))).Parameter?.Value;
      }
    } catch (error) {
      const name = error instanceof Error ? error.name : 'error';
      throw new StepFailedError(`Could not read ${type} ${id}: ${name}.`);
    }
    if (value === undefined) throw new StepFailedError(`${type} ${id} has no string value.`);
    this.cache.set(cacheKey, { value, until: this.now() + this.ttlMs });
    return value;
  }
}

export function createAwsSecretSource(prefix: string): AwsSecretSource {
  return new AwsSecretSource(new SecretsManagerClient({}), new SSMClient({}), { prefix });
}
