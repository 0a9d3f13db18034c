import type { FunctionConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import { REDACTED } from '../../../domain/redaction.js';
import type { JsonObject } from '../../../domain/types.js';
import { StepFailedError, type StepContext } from '../../types.js';
import { arn, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { awsClient, callAws, pause, type AwsTarget } from '../runtime.js';
import { awsSettings } from '../settings.js';

export type LambdaSdk = typeof import('@aws-sdk/client-lambda');

/** A function name, ARN or partial ARN, as Lambda's FunctionName accepts. */
export const FUNCTION_NAME = { ...STRING, maxLength: 170 } as const;
/** Functions, their versions and aliases. */
export const FUNCTION_ARN = arn('lambda', 'function:*');

export async function lambda(target: AwsTarget, context: StepContext): Promise<{ sdk: LambdaSdk; client: LambdaClient }> {
  const sdk = await import('@aws-sdk/client-lambda');
  return { sdk, client: await awsClient('lambda', target, context, (config) => new sdk.LambdaClient(config)) };
}

/**
 * A function configuration safe for the trial record: environment variable values are
 * hidden (they often hold credentials); their names stay, to show what is set.
 */
export function safeConfiguration(configuration: FunctionConfiguration & { $metadata?: unknown }): JsonObject {
  const out = toJsonObject(configuration);
  const variables = configuration.Environment?.Variables;
  if (variables) out['Environment'] = { ...(out['Environment'] as JsonObject), Variables: Object.fromEntries(Object.keys(variables).map((name) => [name, REDACTED])) };
  return out;
}

/**
 * Waits until the function's last update is no longer InProgress, so the change is in
 * effect when the step ends and the next update (the revert) is not refused with
 * ResourceConflictException. Fails if the update itself failed.
 */
export async function waitUntilUpdated(sdk: LambdaSdk, client: LambdaClient, name: string, target: AwsTarget, context: StepContext): Promise<FunctionConfiguration> {
  const started = Date.now();
  const interval = Math.min(1000, awsSettings().pollIntervalMs);
  const timeout = awsSettings().lambdaUpdateTimeoutMs;
  for (;;) {
    const current = await callAws(context, 'lambda:GetFunctionConfiguration', target, (abortSignal) => client.send(new sdk.GetFunctionConfigurationCommand({ FunctionName: name }), { abortSignal }));
    if (current.LastUpdateStatus === 'Failed') throw new StepFailedError(`Lambda could not apply the update to ${name}: ${current.LastUpdateStatusReason ?? 'no reason given'}.`, safeConfiguration(current));
    if (current.LastUpdateStatus !== 'InProgress') return current;
    if (Date.now() - started >= timeout) throw new StepFailedError(`The update of ${name} was still in progress after ${timeout / 1000} s.`);
    await pause(interval, context.signal);
  }
}

/** Reads the current configuration (for the previous value), applies `change`, waits for it, returns the new configuration and the previous values. */
export async function updateConfiguration(where: JsonObject, change: { Timeout?: number; MemorySize?: number }, target: AwsTarget, context: StepContext): Promise<JsonObject> {
  const { sdk, client } = await lambda(target, context);
  const name = String(where['function_name']);
  const before = await callAws(context, 'lambda:GetFunctionConfiguration', target, (abortSignal) => client.send(new sdk.GetFunctionConfigurationCommand({ FunctionName: name }), { abortSignal }));
  const updated = await callAws(context, 'lambda:UpdateFunctionConfiguration', target, (abortSignal) =>
    client.send(new sdk.UpdateFunctionConfigurationCommand({ FunctionName: name, ...change }), { abortSignal }),
  );
  const previous: JsonObject = {};
  for (const key of Object.keys(change) as (keyof typeof change)[]) previous[key] = before[key] ?? null;
  context.log(`Changed ${Object.keys(change).join(', ')} of ${name} from ${JSON.stringify(previous)} to ${JSON.stringify(change)}.`);
  if (updated.LastUpdateStatus === 'InProgress') await waitUntilUpdated(sdk, client, name, target, context);
  return { ...safeConfiguration(updated), previous };
}
