import { ApplicationLogLevel } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EgressConfigError, parseEgressAllowList } from '../functions/net/egress.js';

/** Everything a deployment can choose, read once from CDK context (`-c key=value` or cdk.json). */
export interface KallistiSettings {
  /** Names the stack (`kallisti-<stage>`), the API stage and the schedule group (`kallisti-<stage>`). */
  stage: string;
  /** Lambda application log level (JSON logs). */
  logLevel: ApplicationLogLevel;
  /** Retention of every log group the stack creates. */
  logRetentionDays: RetentionDays;
  /** API Gateway stage throttling: steady requests per second and burst. */
  throttleRateLimit: number;
  throttleBurstLimit: number;
  /** X-Ray active tracing on both functions and the API stage. */
  tracing: boolean;
  /** Validate request bodies at the gateway as well as in the Lambda (query parameters are always checked there). */
  gatewayBodyValidation: boolean;
  /** JWT settings for the API function, by environment variable (set only when given). */
  auth: Partial<Record<AuthVariable, string>>;
  /** Deployed without authentication, on purpose (openAccess=true): then `egressAllow` is required. */
  openAccess: boolean;
  /** The only hosts / CIDR ranges HTTP steps may reach (egressAllow, comma-separated), normalised; absent: anything but link-local and loopback. */
  egressAllow?: string;
  /** When given, alarms notify this address through an SNS topic. */
  alarmEmail?: string;
  /** When given, alarms (and their recoveries) are also published to this existing SNS topic. */
  alarmTopicArn?: string;
  /** Keep the table (with deletion protection) and log groups when the stack is deleted. */
  retain: boolean;
  /**
   * Create API Gateway's account-level CloudWatch role (apiGatewayCloudWatchRole, default false).
   * One per account and region: set it on one stack only, or set the role up once outside CDK.
   */
  apiGatewayCloudWatchRole: boolean;
  /** The `aws` step namespace: offered, and its IAM permissions granted to the worker (awsModules, default true). */
  awsModules: boolean;
  /** The tag destructive AWS actions require on their target (chaosResourceTag, default chaos-allowed=true; `none` lifts it). */
  chaosResourceTag: { key: string; value: string } | undefined;
  /** Roles AWS steps may assume with `role_arn` (assumeRoleArns, comma-separated; default none). */
  assumeRoleArns: string[];
  /** Names of the secrets and SSM parameters step credentials may reference (secretPrefix; default `kallisti/<stage>/`). */
  secretPrefix?: string;
}

/** The tag destructive AWS actions require unless the deployment chooses another (or none). */
export const DEFAULT_CHAOS_TAG = { key: 'chaos-allowed', value: 'true' };

export const DEFAULT_SETTINGS: KallistiSettings = {
  stage: 'dev',
  logLevel: ApplicationLogLevel.INFO,
  logRetentionDays: RetentionDays.ONE_MONTH,
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  tracing: false,
  gatewayBodyValidation: false,
  auth: {},
  openAccess: false,
  retain: true,
  apiGatewayCloudWatchRole: false,
  awsModules: true,
  chaosResourceTag: DEFAULT_CHAOS_TAG,
  assumeRoleArns: [],
};

/** Reads context values; `-c` values always arrive as strings, cdk.json values may be typed. */
export type ContextReader = (key: string) => unknown;

// The stage becomes part of a CloudFormation stack name, an API stage and a schedule group name (≤ 64 chars).
const STAGE = /^[a-z][a-z0-9-]{0,23}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// A standard topic: CloudWatch publishes without the message group id a FIFO topic requires.
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function text(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new Error(`Context ${key} must be a string, number or boolean`);
  }
  return String(value).trim();
}

function flag(read: ContextReader, key: string, fallback: boolean): boolean {
  const value = text(read, key);
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`Context ${key} must be true or false, got "${value}"`);
}

function positiveInteger(read: ContextReader, key: string, fallback: number): number {
  const value = text(read, key);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`Context ${key} must be a positive integer, got "${value}"`);
  return n;
}

/** Levels both Lambda's log filter and the Powertools logger know (FATAL is Lambda-only). */
export const LOG_LEVELS = [ApplicationLogLevel.TRACE, ApplicationLogLevel.DEBUG, ApplicationLogLevel.INFO, ApplicationLogLevel.WARN, ApplicationLogLevel.ERROR];

function logLevel(read: ContextReader): ApplicationLogLevel {
  const value = text(read, 'logLevel');
  if (value === undefined) return DEFAULT_SETTINGS.logLevel;
  const level = LOG_LEVELS.find((l) => l === value.toUpperCase());
  if (!level) throw new Error(`Context logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return level;
}

function retention(read: ContextReader): RetentionDays {
  const days = positiveInteger(read, 'logRetentionDays', DEFAULT_SETTINGS.logRetentionDays);
  const allowed = Object.values(RetentionDays).filter((d): d is RetentionDays => typeof d === 'number' && d !== RetentionDays.INFINITE);
  const match = allowed.find((d) => d === days);
  if (match === undefined) throw new Error(`Context logRetentionDays must be one of CloudWatch's values (${allowed.join(', ')}), got ${days}`);
  return match;
}

/** Context key → the API function's environment variable (see the README's Authentication section). */
export const AUTH_CONTEXT = {
  authJwksUri: 'KALLISTI_AUTH_JWKS_URI',
  authIssuer: 'KALLISTI_AUTH_JWT_ISSUER',
  authAudience: 'KALLISTI_AUTH_JWT_AUDIENCE',
  authIdentityClaim: 'KALLISTI_AUTH_IDENTITY_CLAIM',
  authGroupsClaim: 'KALLISTI_AUTH_GROUPS_CLAIM',
  authReadGroups: 'KALLISTI_AUTH_READ_GROUPS',
  authWriteGroups: 'KALLISTI_AUTH_WRITE_GROUPS',
  authAdminGroups: 'KALLISTI_AUTH_ADMIN_GROUPS',
  authClockSkewSeconds: 'KALLISTI_AUTH_CLOCK_SKEW_SECONDS',
  // Shown by GET /info, as Kallisti's (its own variable names).
  authTokenUrl: 'KALLISTI_AUTH_JWT_TOKEN_URL',
  authUrl: 'KALLISTI_AUTH_URL',
} as const;
export type AuthVariable = (typeof AUTH_CONTEXT)[keyof typeof AUTH_CONTEXT];

// Tag keys and values as IAM and the tagging APIs accept them.
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;

function chaosResourceTag(read: ContextReader): { key: string; value: string } | undefined {
  const raw = text(read, 'chaosResourceTag');
  if (raw === undefined) return DEFAULT_CHAOS_TAG;
  if (raw === 'none') return undefined;
  const at = raw.indexOf('=');
  const key = at < 0 ? '' : raw.slice(0, at).trim();
  const value = at < 0 ? '' : raw.slice(at + 1).trim();
  if (!TAG_KEY.test(key) || !TAG_VALUE.test(value) || key.toLowerCase().startsWith('aws:')) {
    throw new Error(`Context chaosResourceTag must be key=value (a valid tag, key not starting with aws:) or none, got "${raw}"`);
  }
  return { key, value };
}

// Characters both Secrets Manager names and SSM parameter paths allow; it ends with "/" so that no sibling name (kallisti/dev-other) matches.
const SECRET_PREFIX = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/$/;

function secretPrefix(read: ContextReader): string | undefined {
  const value = text(read, 'secretPrefix');
  if (value === undefined) return undefined;
  if (!SECRET_PREFIX.test(value) || value.length > 256) throw new Error(`Context secretPrefix must be a path of names ending in "/" (e.g. kallisti/prod/), got "${value}"`);
  return value;
}

function roleArns(read: ContextReader): string[] {
  const raw = text(read, 'assumeRoleArns');
  const arns = (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const bad = arns.filter((item) => !ROLE_ARN.test(item) || item.includes('*'));
  if (bad.length > 0) throw new Error(`Context assumeRoleArns must list IAM role ARNs (no wildcard), separated by commas; not valid: ${bad.join(', ')}`);
  return [...new Set(arns)];
}

/** egressAllow, checked as the worker will read it (KALLISTI_EGRESS_ALLOW), normalised to comma-separated entries. */
function egressAllowList(read: ContextReader): string | undefined {
  const value = read('egressAllow');
  if (value === undefined || value === null) return undefined;
  const raw = text(read, 'egressAllow') ?? '';
  try {
    return parseEgressAllowList(raw, 'Context egressAllow').entries.join(',');
  } catch (error) {
    if (error instanceof EgressConfigError) throw new Error(error.message);
    throw error;
  }
}

export function readSettings(read: ContextReader): KallistiSettings {
  const stage = text(read, 'stage') ?? DEFAULT_SETTINGS.stage;
  if (!STAGE.test(stage)) throw new Error(`Context stage must match ${STAGE} (lower case, starts with a letter, at most 24 characters), got "${stage}"`);

  const jwksUri = text(read, 'authJwksUri');
  if (jwksUri !== undefined && !/^https:\/\/\S+$/.test(jwksUri)) throw new Error(`Context authJwksUri must be an https:// URL, got "${jwksUri}"`);
  const auth: Partial<Record<AuthVariable, string>> = {};
  for (const [key, variable] of Object.entries(AUTH_CONTEXT)) {
    const value = text(read, key);
    if (value !== undefined) auth[variable] = value;
  }

  // Same rule as the function's cold start: the three core settings go together.
  const core = ['KALLISTI_AUTH_JWKS_URI', 'KALLISTI_AUTH_JWT_ISSUER', 'KALLISTI_AUTH_JWT_AUDIENCE'] as const;
  const given = core.filter((variable) => auth[variable] !== undefined);
  if (given.length > 0 && given.length < core.length) {
    const contextKey = (variable: AuthVariable) => Object.entries(AUTH_CONTEXT).find(([, v]) => v === variable)?.[0];
    const missing = core.filter((variable) => auth[variable] === undefined).map(contextKey);
    throw new Error(`Context ${missing.join(', ')} must be set too: authJwksUri, authIssuer and authAudience go together`);
  }
  // A chaos control plane can stop production systems, and its worker sends HTTP requests
  // anywhere a step says: no stage is deployed without authentication unless someone says
  // so explicitly, and then only with an egress allow-list.
  const openAccess = given.length === 0 && flag(read, 'openAccess', false);
  if (given.length === 0 && !openAccess) {
    throw new Error(
      `Stage "${stage}" would be deployed without authentication: anyone on the internet could run experiments and make the worker send HTTP requests. ` +
        'Set authJwksUri, authIssuer and authAudience (see docs/deploy.md), or deploy it open on purpose with -c openAccess=true -c egressAllow=<hosts or CIDR ranges HTTP steps may reach>',
    );
  }
  const egressAllow = egressAllowList(read);
  if (openAccess && egressAllow === undefined) {
    throw new Error('Context openAccess=true needs -c egressAllow=<hosts or CIDR ranges>, e.g. egressAllow=api.example.com,10.0.0.0/8: an API open to anyone may only make the worker reach those');
  }

  const alarmEmail = text(read, 'alarmEmail');
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) throw new Error(`Context alarmEmail must be an e-mail address, got "${alarmEmail}"`);

  const alarmTopicArn = text(read, 'alarmTopicArn');
  if (alarmTopicArn !== undefined && !TOPIC_ARN.test(alarmTopicArn)) throw new Error(`Context alarmTopicArn must be the ARN of a standard SNS topic (arn:aws:sns:<region>:<account>:<name>), got "${alarmTopicArn}"`);

  const settings: KallistiSettings = {
    stage,
    logLevel: logLevel(read),
    logRetentionDays: retention(read),
    throttleRateLimit: positiveInteger(read, 'throttleRateLimit', DEFAULT_SETTINGS.throttleRateLimit),
    throttleBurstLimit: positiveInteger(read, 'throttleBurstLimit', DEFAULT_SETTINGS.throttleBurstLimit),
    tracing: flag(read, 'tracing', DEFAULT_SETTINGS.tracing),
    gatewayBodyValidation: flag(read, 'gatewayBodyValidation', DEFAULT_SETTINGS.gatewayBodyValidation),
    auth,
    openAccess,
    retain: flag(read, 'retain', DEFAULT_SETTINGS.retain),
    apiGatewayCloudWatchRole: flag(read, 'apiGatewayCloudWatchRole', DEFAULT_SETTINGS.apiGatewayCloudWatchRole),
    awsModules: flag(read, 'awsModules', DEFAULT_SETTINGS.awsModules),
    chaosResourceTag: chaosResourceTag(read),
    assumeRoleArns: roleArns(read),
  };
  const prefix = secretPrefix(read);
  if (prefix !== undefined) settings.secretPrefix = prefix;
  if (alarmEmail !== undefined) settings.alarmEmail = alarmEmail;
  if (egressAllow !== undefined) settings.egressAllow = egressAllow;
  if (alarmTopicArn !== undefined) settings.alarmTopicArn = alarmTopicArn;
  return settings;
}

/** The CloudFormation stack name for a stage. */
export function stackName(stage: string): string {
  return `kallisti-${stage}`;
}
