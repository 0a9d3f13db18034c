import type { AutoScalingClient, AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { FieldError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/types.js';
import { StepFailedError, type StepContext } from '../../types.js';
import { STRING_LIST, TAG_LIST } from '../common.js';
import { awsClient, callAws, type AwsTarget } from '../runtime.js';

export type AsgSdk = typeof import('@aws-sdk/client-auto-scaling');

export const ASG_ARN = 'arn:{partition}:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*';
export const ASG_READS = { actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeTags'] };
export const GROUP_SELECTION = { asg_names: { ...STRING_LIST, maxItems: 50 }, tags: TAG_LIST } as const;
export const PROCESSES = ['Launch', 'Terminate', 'HealthCheck', 'AZRebalance', 'AlarmNotification', 'ScheduledActions', 'AddToLoadBalancer', 'ReplaceUnhealthy', 'InstanceRefresh'];

export async function autoscaling(target: AwsTarget, context: StepContext): Promise<{ sdk: AsgSdk; client: AutoScalingClient }> {
  const sdk = await import('@aws-sdk/client-auto-scaling');
  return { sdk, client: await awsClient('autoscaling', target, context, (config) => new sdk.AutoScalingClient(config)) };
}

/** chaosaws: exactly one of asg_names and tags. */
export function checkGroups(where: JsonObject): FieldError[] {
  return (where['asg_names'] === undefined) === (where['tags'] === undefined) ? [{ path: 'asg_names', message: 'give exactly one of asg_names and tags' }] : [];
}

/** The named groups (every one must exist), following NextToken. */
async function byNames(sdk: AsgSdk, client: AutoScalingClient, names: string[], target: AwsTarget, context: StepContext): Promise<AutoScalingGroup[]> {
  const groups: AutoScalingGroup[] = [];
  let nextToken: string | undefined;
  do {
    const input = { AutoScalingGroupNames: names, MaxRecords: 100, ...(nextToken !== undefined && { NextToken: nextToken }) };
    const page = await callAws(context, 'autoscaling:DescribeAutoScalingGroups', target, (abortSignal) => client.send(new sdk.DescribeAutoScalingGroupsCommand(input), { abortSignal }));
    groups.push(...(page.AutoScalingGroups ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  const missing = names.filter((name) => !groups.some((g) => g.AutoScalingGroupName === name));
  if (missing.length > 0) throw new StepFailedError(`No ASG(s) found with name(s): ${missing.join(', ')} in ${target.region}.`);
  return groups;
}

/** The groups named by `asg_names`, or carrying every tag of `tags` (DescribeTags, every page). */
export async function findGroups(sdk: AsgSdk, client: AutoScalingClient, where: JsonObject, target: AwsTarget, context: StepContext): Promise<AutoScalingGroup[]> {
  if (Array.isArray(where['asg_names'])) return byNames(sdk, client, where['asg_names'] as string[], target, context);
  const tags = where['tags'] as { Key: string; Value: string }[];
  const filters = tags.flatMap((t) => [
    { Name: 'key', Values: [t.Key] },
    { Name: 'value', Values: [t.Value] },
  ]);
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const input = { Filters: filters, MaxRecords: 100, ...(nextToken !== undefined && { NextToken: nextToken }) };
    const page = await callAws(context, 'autoscaling:DescribeTags', target, (abortSignal) => client.send(new sdk.DescribeTagsCommand(input), { abortSignal }));
    for (const tag of page.Tags ?? []) if (tag.ResourceType === 'auto-scaling-group' && tag.ResourceId) names.add(tag.ResourceId);
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  if (names.size === 0) throw new StepFailedError(`No ASG(s) found with matching tag(s): ${JSON.stringify(tags)} in ${target.region}.`);
  return byNames(sdk, client, [...names].sort(), target, context);
}
