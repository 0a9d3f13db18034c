import type { CloudWatchClient, Dimension } from '@aws-sdk/client-cloudwatch';
import type { FieldError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/types.js';
import type { StepContext } from '../../types.js';
import { STRING } from '../common.js';
import { awsClient, type AwsTarget } from '../runtime.js';

export type CloudWatchSdk = typeof import('@aws-sdk/client-cloudwatch');

export async function cloudwatch(target: AwsTarget, context: StepContext): Promise<{ sdk: CloudWatchSdk; client: CloudWatchClient }> {
  const sdk = await import('@aws-sdk/client-cloudwatch');
  return { sdk, client: await awsClient('cloudwatch', target, context, (config) => new sdk.CloudWatchClient(config)) };
}

/** The metric arguments both statistics probes share (chaosaws names). */
export const METRIC = {
  namespace: { ...STRING, maxLength: 255 },
  metric_name: { ...STRING, maxLength: 255 },
  dimension_name: { ...STRING, maxLength: 255 },
  dimension_value: { ...STRING, maxLength: 1024 },
  dimensions: {
    type: 'array',
    maxItems: 30,
    items: { type: 'object', required: ['Name', 'Value'], additionalProperties: false, properties: { Name: { ...STRING, maxLength: 255 }, Value: { ...STRING, maxLength: 1024 } } },
  },
  duration: { type: 'integer', minimum: 1, maximum: 455 * 86400 },
  offset: { type: 'integer', minimum: 0, maximum: 455 * 86400 },
  unit: { type: 'string', maxLength: 32 },
} as const;

/** chaosaws requires `dimensions`, or `dimension_name` with `dimension_value`. */
export function checkDimensions(where: JsonObject): FieldError[] {
  if (where['dimensions'] !== undefined) return [];
  if (where['dimension_name'] === undefined || where['dimension_value'] === undefined) {
    return [{ path: 'dimensions', message: 'is required unless dimension_name and dimension_value name one dimension' }];
  }
  return [];
}

export function dimensionsOf(where: JsonObject): Dimension[] {
  return (where['dimensions'] as Dimension[] | undefined) ?? [{ Name: String(where['dimension_name']), Value: String(where['dimension_value']) }];
}
