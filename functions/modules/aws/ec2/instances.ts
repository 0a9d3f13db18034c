import { randomInt } from 'node:crypto';
import type { EC2Client, Filter, Instance, Reservation } from '@aws-sdk/client-ec2';
import type { FieldError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/types.js';
import { StepFailedError, type IamGrant, type StepContext } from '../../types.js';
import { arn, COUNT, FILTERS, PERCENT, STRING, STRING_LIST } from '../common.js';
import { awsClient, callAws, type AwsTarget } from '../runtime.js';

export type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

export async function ec2(target: AwsTarget, context: StepContext): Promise<{ sdk: Ec2Sdk; client: EC2Client }> {
  const sdk = await import('@aws-sdk/client-ec2');
  return { sdk, client: await awsClient('ec2', target, context, (config) => new sdk.EC2Client(config)) };
}

export const INSTANCE_ARN = arn('ec2', 'instance/*');
export const DESCRIBE_INSTANCES: IamGrant = { actions: ['ec2:DescribeInstances'] };

/** Arguments that pick instances: ids, or an AZ and/or filters, optionally narrowed to a count or percent. */
export const SELECTION = { instance_ids: STRING_LIST, az: STRING, filters: FILTERS, count: COUNT, percent: PERCENT } as const;
export const SINGLE_SELECTION = { instance_id: STRING, az: STRING, filters: FILTERS } as const;
export const FORCE = { type: 'boolean' } as const;

/** Either ids, or an AZ / filters; and not both count and percent. */
export function checkSelection(idField: 'instance_ids' | 'instance_id') {
  return (where: JsonObject): FieldError[] => {
    const errors: FieldError[] = [];
    if (where[idField] === undefined && where['az'] === undefined && where['filters'] === undefined) {
      errors.push({ path: idField, message: `is required unless az or filters select the instances` });
    }
    if (where['count'] !== undefined && where['percent'] !== undefined) errors.push({ path: 'percent', message: 'cannot be given with count; give one of them' });
    return errors;
  };
}

/** Every reservation a DescribeInstances query returns, following NextToken. */
export async function describeReservations(sdk: Ec2Sdk, client: EC2Client, query: { InstanceIds?: string[]; Filters?: Filter[] }, target: AwsTarget, context: StepContext): Promise<Reservation[]> {
  const reservations: Reservation[] = [];
  let nextToken: string | undefined;
  do {
    // MaxResults may not be combined with InstanceIds (EC2 answers InvalidParameterCombination).
    const input = { ...query, ...(query.InstanceIds === undefined && { MaxResults: 1000 }), ...(nextToken !== undefined && { NextToken: nextToken }) };
    const page = await callAws(context, 'ec2:DescribeInstances', target, (abortSignal) => client.send(new sdk.DescribeInstancesCommand(input), { abortSignal }));
    reservations.push(...(page.Reservations ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  return reservations;
}

/** Every instance a DescribeInstances query returns, following NextToken. */
export async function describeAll(sdk: Ec2Sdk, client: EC2Client, query: { InstanceIds?: string[]; Filters?: Filter[] }, target: AwsTarget, context: StepContext): Promise<Instance[]> {
  return (await describeReservations(sdk, client, query, target, context)).flatMap((r) => r.Instances ?? []);
}

/** `filters` plus the AZ filter, plus a state filter unless the caller filters on state. */
export function selectionFilters(where: JsonObject, states: readonly string[] | undefined): Filter[] {
  const filters = ((where['filters'] as Filter[] | undefined) ?? []).map((f) => ({ Name: f.Name, Values: [...(f.Values ?? [])] }));
  if (typeof where['az'] === 'string') filters.push({ Name: 'availability-zone', Values: [where['az']] });
  if (states && !filters.some((f) => f.Name === 'instance-state-name')) filters.push({ Name: 'instance-state-name', Values: [...states] });
  return filters;
}

/** `count` items of `items` chosen uniformly at random (Fisher–Yates with a CSPRNG). */
export function sample<T>(items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}

/** How many of `available` a count or percent asks for; fails when there are not enough. */
export function howMany(where: JsonObject, available: number, what: string): number {
  if (typeof where['count'] === 'number') {
    if (where['count'] > available) throw new StepFailedError(`Not enough ${what}: count ${where['count']} but ${available} match.`);
    return where['count'];
  }
  if (typeof where['percent'] === 'number') {
    const n = Math.floor((available * where['percent']) / 100);
    if (n === 0) throw new StepFailedError(`percent ${where['percent']} of ${available} ${what} selects none.`);
    return n;
  }
  return available;
}

/**
 * The instance ids a step acts on. By ids: those instances (they must exist). By AZ /
 * filters: the matching instances in `states`, then `count` or `percent` of them at random.
 */
export async function selectInstances(
  where: JsonObject,
  options: { states: readonly string[]; single?: boolean },
  target: AwsTarget,
  context: StepContext,
): Promise<{ sdk: Ec2Sdk; client: EC2Client; ids: string[] }> {
  const { sdk, client } = await ec2(target, context);
  const explicit = (where['instance_ids'] as string[] | undefined) ?? (typeof where['instance_id'] === 'string' ? [where['instance_id']] : undefined);
  let ids: string[];
  if (explicit) {
    const found = await describeAll(sdk, client, { InstanceIds: explicit }, target, context);
    ids = explicit.filter((id) => found.some((i) => i.InstanceId === id));
    const missing = explicit.filter((id) => !ids.includes(id));
    if (missing.length > 0) throw new StepFailedError(`Not found: instance(s) ${missing.join(', ')} in ${target.region}.`);
  } else {
    const filters = selectionFilters(where, options.states);
    const found = await describeAll(sdk, client, { Filters: filters }, target, context);
    ids = found.map((i) => i.InstanceId).filter((id): id is string => typeof id === 'string');
    if (ids.length === 0) throw new StepFailedError(`No instances in ${target.region} match ${JSON.stringify(filters)}.`);
  }
  const n = options.single ? 1 : howMany(where, ids.length, 'instances');
  const chosen = n < ids.length ? sample(ids, n) : ids;
  context.log(`Selected ${chosen.length} of ${ids.length} instance(s): ${chosen.join(', ')}.`);
  return { sdk, client, ids: chosen };
}
