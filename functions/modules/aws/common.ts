import type { FieldError } from '../../domain/errors.js';
import type { Json, JsonObject } from '../../domain/types.js';
import { holdsPlaceholder } from '../placeholders.js';
import { StepFailedError, type IamGrant, type StepContext, type StepModule, type StepSuspension } from '../types.js';
import type { AwsTarget } from './runtime.js';
import { awsSettings } from './settings.js';

/** us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-5… */
const REGION = { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$', maxLength: 32 } as const;
const ROLE_ARN = { type: 'string', pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$' } as const;

export const STRING = { type: 'string', minLength: 1, maxLength: 1024 } as const;
export const STRING_LIST = { type: 'array', items: STRING, minItems: 1, maxItems: 1000 } as const;
/** EC2/RDS/ASG-style `[{ "Name": "...", "Values": [...] }]`. */
export const FILTERS = {
  type: 'array',
  maxItems: 50,
  items: { type: 'object', required: ['Name', 'Values'], additionalProperties: false, properties: { Name: STRING, Values: { type: 'array', items: { type: 'string', maxLength: 1024 }, maxItems: 200 } } },
} as const;
/** `[{ "Key": "...", "Value": "..." }]` */
export const TAG_LIST = {
  type: 'array',
  minItems: 1,
  maxItems: 50,
  items: { type: 'object', required: ['Key', 'Value'], additionalProperties: false, properties: { Key: STRING, Value: { type: 'string', maxLength: 256 } } },
} as const;
export const COUNT = { type: 'integer', minimum: 1, maximum: 10000 } as const;
export const PERCENT = { type: 'number', exclusiveMinimum: 0, maximum: 100 } as const;

/**
 * A `where` schema for an AWS command: its own arguments plus `region` and an optional
 * `role_arn` (Kallisti's docs call it `role`; both are accepted).
 */
export function awsWhereSchema(properties: Record<string, unknown>, required: readonly string[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, required, properties: { region: REGION, role_arn: ROLE_ARN, role: ROLE_ARN, ...properties }, ...extra };
}

/** Save-time check of the role against the deployment's list (KALLISTI_AWS_ROLE_ARNS). */
export function checkRole(where: JsonObject, allowPlaceholders: boolean): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['role_arn', 'role'] as const) {
    const value = where[field];
    if (typeof value !== 'string' || (allowPlaceholders && holdsPlaceholder(value))) continue;
    const reason = roleRefusal(value);
    if (reason) errors.push({ path: field, message: reason });
  }
  if (typeof where['role_arn'] === 'string' && typeof where['role'] === 'string' && where['role_arn'] !== where['role']) {
    errors.push({ path: 'role', message: 'names a different role than role_arn; give one of them' });
  }
  return errors;
}

function roleRefusal(roleArn: string): string | undefined {
  const allowed = awsSettings().allowedRoleArns;
  if (allowed.includes(roleArn)) return undefined;
  return allowed.length === 0
    ? 'cannot be assumed: this deployment allows no role (set the assumeRoleArns context value to list the roles steps may assume)'
    : `is not one of the roles this deployment may assume: ${allowed.join(', ')}`;
}

/** The region and role a step acts in, refusing a role outside the configured list. */
export function targetOf(where: JsonObject): AwsTarget {
  const region = typeof where['region'] === 'string' ? where['region'] : awsSettings().defaultRegion;
  if (!region) throw new StepFailedError('No region: give "region" in where (the worker has no AWS_REGION either).');
  const role = typeof where['role_arn'] === 'string' ? where['role_arn'] : typeof where['role'] === 'string' ? where['role'] : undefined;
  if (role !== undefined) {
    const reason = roleRefusal(role);
    if (reason) throw new StepFailedError(`role_arn ${role} ${reason}.`);
  }
  return { region, roleArn: role };
}

/** One AWS command: schema with the common fields, role check, IAM declaration. */
export function awsModule(definition: {
  name: string;
  description: string;
  properties: Record<string, unknown>;
  required?: readonly string[];
  schemaExtra?: Record<string, unknown>;
  iam: readonly IamGrant[];
  /** Only reads (describes, counts): may be used as a guard. */
  probe?: boolean;
  check?: (where: JsonObject, allowPlaceholders: boolean) => FieldError[];
  run: (where: JsonObject, target: AwsTarget, context: StepContext) => Promise<Json | StepSuspension>;
  /** Waits across slices (see StepModule.resumable); `maxRunMs` is then the longest one call blocks. */
  resumable?: { maxRunMs: number; cleanup: (where: JsonObject, state: JsonObject, target: AwsTarget, context: StepContext) => Promise<void> };
}): StepModule {
  const resumable = definition.resumable;
  return {
    name: definition.name,
    description: definition.description,
    whereSchema: awsWhereSchema(definition.properties, definition.required, definition.schemaExtra),
    iam: definition.iam,
    ...(definition.probe ? { probe: true } : {}),
    checkWhere: (where, allowPlaceholders) => [...checkRole(where, allowPlaceholders), ...(definition.check?.(where, allowPlaceholders) ?? [])],
    run: (where, context) => definition.run(where, targetOf(where), context),
    ...(resumable && {
      resumable: true,
      maxRunMs: () => resumable.maxRunMs,
      cleanup: (where: JsonObject, state: JsonObject, context: StepContext) => resumable.cleanup(where, state, targetOf(where), context),
    }),
  };
}

/** `{partition}` / `{account}` ARN patterns, any region (the step names it). */
export const arn = (service: string, resource: string): string => `arn:{partition}:${service}:*:{account}:${resource}`;
