import { StepFailedError, type StepContext } from '../types.js';
import { awsSettings } from './settings.js';

/** Where an AWS step acts: a region, and optionally a role assumed for it (cross-account). */
export interface AwsTarget {
  region: string;
  roleArn: string | undefined;
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** The client configuration every AWS step uses; retries are ours (`callAws`), so the SDK tries once. */
export interface ClientConfig {
  region: string;
  maxAttempts: number;
  credentials?: () => Promise<TemporaryCredentials>;
}

/** Session name in CloudTrail of the target account: says who acted. */
export const ROLE_SESSION_NAME = 'kallisti-serverless';
const ROLE_SESSION_SECONDS = 3600;
/** Assumed-role credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

// One client per service, region and role, kept for the life of the container; SDK
// packages are imported when a step first needs them, so cold starts don't pay for them.
const clients = new Map<string, unknown>();
const roleCredentials = new Map<string, () => Promise<TemporaryCredentials>>();

/** Forgets every cached client and credential (tests). */
export function resetAwsClients(): void {
  clients.clear();
  roleCredentials.clear();
}

/**
 * The cached client of `service` for `target`, built by `create` on first use. With a
 * role, its credentials are fetched (STS AssumeRole) before the client is returned, so a
 * refused role fails the step here with a clear message.
 */
export async function awsClient<C>(service: string, target: AwsTarget, context: StepContext, create: (config: ClientConfig) => C): Promise<C> {
  const key = `${service}|${target.region}|${target.roleArn ?? ''}`;
  let credentials: (() => Promise<TemporaryCredentials>) | undefined;
  if (target.roleArn !== undefined) {
    credentials = assumedRoleCredentials(target.roleArn, target.region);
    await credentials();
  }
  let client = clients.get(key) as C | undefined;
  if (client === undefined) {
    client = create({ region: target.region, maxAttempts: 1, ...(credentials && { credentials }) });
    clients.set(key, client);
  }
  return client;
}

/** Longest an AssumeRole call (with its retries) may take; credentials outlive any one step, so no step's signal is used. */
const ASSUME_ROLE_TIMEOUT_MS = 30_000;

function assumedRoleCredentials(roleArn: string, region: string): () => Promise<TemporaryCredentials> {
  const key = `${roleArn}|${region}`;
  const existing = roleCredentials.get(key);
  if (existing) return existing;
  let cached: TemporaryCredentials | undefined;
  let pending: Promise<TemporaryCredentials> | undefined;
  const fetchCredentials = async (): Promise<TemporaryCredentials> => {
    const context: StepContext = { signal: AbortSignal.timeout(ASSUME_ROLE_TIMEOUT_MS), log: () => undefined };
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
    const sts = await awsClient('sts', { region, roleArn: undefined }, context, (config) => new STSClient(config));
    const target = { region, roleArn: undefined };
    const out = await callAws(context, 'sts:AssumeRole', target, (abortSignal) =>
      sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME, DurationSeconds: ROLE_SESSION_SECONDS }), { abortSignal }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new StepFailedError(`STS AssumeRole of ${roleArn} returned no credentials.`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken && { sessionToken: c.SessionToken }), ...(c.Expiration && { expiration: c.Expiration }) };
  };
  const provider = async (): Promise<TemporaryCredentials> => {
    if (cached && (cached.expiration === undefined || cached.expiration.getTime() - Date.now() > RENEW_BEFORE_MS)) return cached;
    pending ??= fetchCredentials()
      .then((fresh) => (cached = fresh))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  roleCredentials.set(key, provider);
  return provider;
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException', 'AuthorizationError', 'AuthFailure', 'NotAuthorized']);
const TRANSIENT_NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED']);

function shape(error: unknown): AwsErrorShape {
  return typeof error === 'object' && error !== null ? (error as AwsErrorShape) : { message: String(error) };
}

export function isThrottling(error: unknown): boolean {
  const e = shape(error);
  return THROTTLING.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429;
}

function isRetryable(error: unknown): boolean {
  const e = shape(error);
  const status = e.$metadata?.httpStatusCode ?? 0;
  return isThrottling(error) || status >= 500 || TRANSIENT_NETWORK.has(e.name ?? '') || e.$retryable !== undefined;
}

export function isNotFound(error: unknown): boolean {
  const name = shape(error).name ?? '';
  return /NotFound(Exception|Fault)?$/.test(name) || name.endsWith('.NotFound') || name === 'NoSuchEntity' || name === 'InvalidInstanceId';
}

/** A clear, secret-free step failure for an AWS error. */
export function stepErrorOf(error: unknown, action: string, target: AwsTarget, attempts: number): StepFailedError {
  const e = shape(error);
  const name = e.name ?? 'Error';
  const where = `in ${target.region}${target.roleArn ? ` as ${target.roleArn}` : ''}`;
  const detail = e.message ? `: ${e.message.trim().replace(/\.$/, '')}` : '';
  if (DENIED.has(name)) {
    const tag = awsSettings().chaosTag;
    const hint = tag ? ` Destructive actions are allowed only on resources tagged ${tag}; see "Permissions of AWS steps" in the README.` : '';
    return new StepFailedError(`AWS denied ${action} ${where} (${name})${detail}.${hint}`);
  }
  if (isNotFound(error)) return new StepFailedError(`Not found: ${action} ${where} (${name})${detail}.`);
  if (isThrottling(error)) return new StepFailedError(`AWS kept throttling ${action} ${where}: ${name} after ${attempts} attempt(s).`);
  return new StepFailedError(`${action} failed ${where} (${name})${detail}.`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('Step aborted'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('Step aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One AWS API call: throttling, 5xx and network errors are retried with jittered
 * exponential back-off (abandoned at once when the step is stopped); any other error
 * becomes a StepFailedError naming the IAM action, the region and the role.
 */
export async function callAws<T>(context: StepContext, action: string, target: AwsTarget, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const { maxAttempts, retryBaseMs } = awsSettings();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send(context.signal);
    } catch (error) {
      if (context.signal.aborted) throw context.signal.reason instanceof Error ? context.signal.reason : error;
      if (error instanceof StepFailedError) throw error;
      if (!isRetryable(error) || attempt >= maxAttempts) throw stepErrorOf(error, action, target, attempt);
      const delay = Math.round(Math.random() * Math.min(retryBaseMs * 2 ** (attempt - 1), 20_000));
      context.log(`${action} ${isThrottling(error) ? 'was throttled' : 'failed'} (${shape(error).name ?? 'Error'}); retrying in ${delay} ms (attempt ${attempt + 1} of ${maxAttempts}).`);
      await sleep(delay, context.signal);
    }
  }
}

/** Waits `ms` unless the step is stopped first (then rejects with the stop reason). */
export const pause = sleep;
