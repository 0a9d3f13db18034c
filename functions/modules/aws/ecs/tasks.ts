import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import { REDACTED } from '../../../domain/redaction.js';
import type { JsonObject } from '../../../domain/types.js';
import { StepFailedError, type StepContext } from '../../types.js';
import { arn, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { awsClient, callAws, type AwsTarget } from '../runtime.js';

export type EcsSdk = typeof import('@aws-sdk/client-ecs');

export const CLUSTER = { ...STRING, maxLength: 2048 } as const;
export const TASK_ARN = arn('ecs', 'task/*');
export const ECS_READS = { actions: ['ecs:ListTasks', 'ecs:DescribeClusters', 'ecs:DescribeServices'] };

export async function ecs(target: AwsTarget, context: StepContext): Promise<{ sdk: EcsSdk; client: ECSClient }> {
  const sdk = await import('@aws-sdk/client-ecs');
  return { sdk, client: await awsClient('ecs', target, context, (config) => new sdk.ECSClient(config)) };
}

/** Task ARNs of the cluster (or of one service), following nextToken. */
export async function listTasks(sdk: EcsSdk, client: ECSClient, query: { cluster?: string; serviceName?: string; desiredStatus?: 'RUNNING' }, target: AwsTarget, context: StepContext): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const input = { ...query, maxResults: 100, ...(nextToken !== undefined && { nextToken }) };
    const page = await callAws(context, 'ecs:ListTasks', target, (abortSignal) => client.send(new sdk.ListTasksCommand(input), { abortSignal }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken || undefined;
  } while (nextToken !== undefined);
  return arns;
}

/** Fails unless the cluster (and the service, when given) exists, as chaosaws checks first. */
export async function assertExists(sdk: EcsSdk, client: ECSClient, cluster: string, service: string | undefined, target: AwsTarget, context: StepContext): Promise<void> {
  const clusters = await callAws(context, 'ecs:DescribeClusters', target, (abortSignal) => client.send(new sdk.DescribeClustersCommand({ clusters: [cluster] }), { abortSignal }));
  if (!clusters.clusters?.length) throw new StepFailedError(`Not found: ECS cluster ${cluster} in ${target.region}.`);
  if (service === undefined) return;
  const services = await callAws(context, 'ecs:DescribeServices', target, (abortSignal) => client.send(new sdk.DescribeServicesCommand({ cluster, services: [service] }), { abortSignal }));
  if (!services.services?.length) throw new StepFailedError(`Not found: ECS service ${service} in cluster ${cluster}.`);
}

/** A task for the record: values of environment overrides hidden (they may hold credentials). */
export function safeTask(task: Task | undefined): JsonObject | null {
  if (!task) return null;
  const out = toJsonObject(task);
  const overrides = out['overrides'] as JsonObject | undefined;
  const containers = overrides?.['containerOverrides'];
  if (overrides && Array.isArray(containers)) {
    overrides['containerOverrides'] = containers.map((c) => {
      const container = c as JsonObject;
      const environment = container['environment'];
      return Array.isArray(environment) ? { ...container, environment: environment.map((e) => ({ ...(e as JsonObject), value: REDACTED })) } : container;
    });
  }
  return out;
}
