import type { RDSClient } from '@aws-sdk/client-rds';
import type { StepContext } from '../../types.js';
import { awsClient, type AwsTarget } from '../runtime.js';

export type RdsSdk = typeof import('@aws-sdk/client-rds');

export async function rds(target: AwsTarget, context: StepContext): Promise<{ sdk: RdsSdk; client: RDSClient }> {
  const sdk = await import('@aws-sdk/client-rds');
  return { sdk, client: await awsClient('rds', target, context, (config) => new sdk.RDSClient(config)) };
}
