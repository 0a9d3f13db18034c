/**
 * Deployment settings of the `aws` namespace, read once from the environment
 * (the CDK stack sets them from context; tests call `setAwsSettings`).
 */
export interface AwsSettings {
  /** Role ARNs a step may assume with `role_arn` (KALLISTI_AWS_ROLE_ARNS, comma-separated). None: no role may be assumed. */
  allowedRoleArns: readonly string[];
  /** The tag destructive actions require, `key=value` (KALLISTI_CHAOS_TAG), to explain an AccessDenied; undefined when not restricted. */
  chaosTag: string | undefined;
  /** Region used when a step names none (Lambda sets AWS_REGION). */
  defaultRegion: string | undefined;
  /** Throttled or 5xx calls are tried this many times in all, with jittered exponential back-off from `retryBaseMs`. */
  maxAttempts: number;
  retryBaseMs: number;
  /** How often a waiting step (FIS experiment, SSM command) asks AWS whether it has ended. */
  pollIntervalMs: number;
  /** Longest a Lambda configuration change may stay InProgress before the step fails. */
  lambdaUpdateTimeoutMs: number;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function awsSettingsFromEnv(env: NodeJS.ProcessEnv): AwsSettings {
  const tag = env['KALLISTI_CHAOS_TAG'];
  return {
    allowedRoleArns: list(env['KALLISTI_AWS_ROLE_ARNS']),
    chaosTag: tag === undefined || tag === '' || tag === 'none' ? undefined : tag,
    defaultRegion: env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined,
    maxAttempts: 5,
    retryBaseMs: 200,
    pollIntervalMs: 5000,
    lambdaUpdateTimeoutMs: 120_000,
  };
}

let current: AwsSettings = awsSettingsFromEnv(process.env);

export function awsSettings(): AwsSettings {
  return current;
}

/** Replaces the settings (start-up and tests); cached clients are kept, they do not depend on these. */
export function setAwsSettings(next: Partial<AwsSettings>): void {
  current = { ...current, ...next };
}
