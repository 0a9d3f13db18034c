import type { Experiment, FisClient } from '@aws-sdk/client-fis';
import { StepFailedError, type StepContext } from '../../types.js';
import { arn, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { awsClient, callAws, type AwsTarget } from '../runtime.js';

export type FisSdk = typeof import('@aws-sdk/client-fis');

export const EXPERIMENT_ID = { ...STRING, maxLength: 64 } as const;
export const EXPERIMENT_ARN = arn('fis', 'experiment/*');
export const TEMPLATE_ARN = arn('fis', 'experiment-template/*');

export async function fis(target: AwsTarget, context: StepContext): Promise<{ sdk: FisSdk; client: FisClient }> {
  const sdk = await import('@aws-sdk/client-fis');
  return { sdk, client: await awsClient('fis', target, context, (config) => new sdk.FisClient(config)) };
}

/** Statuses after which an FIS experiment does nothing more. */
export const ENDED = new Set(['completed', 'stopped', 'failed', 'cancelled']);

/** Stops an experiment whatever the step's own signal says (used when the step is being stopped). */
export async function stopQuietly(sdk: FisSdk, client: FisClient, id: string, target: AwsTarget, context: StepContext): Promise<void> {
  const own: StepContext = { signal: AbortSignal.timeout(15_000), log: context.log };
  try {
    await callAws(own, 'fis:StopExperiment', target, (abortSignal) => client.send(new sdk.StopExperimentCommand({ id }), { abortSignal }));
    context.log(`Stopped FIS experiment ${id}.`);
  } catch (error) {
    context.log(`Could not stop FIS experiment ${id}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** One GetExperiment; logs a change of status. */
export async function readExperiment(sdk: FisSdk, client: FisClient, id: string, lastStatus: string | undefined, target: AwsTarget, context: StepContext): Promise<Experiment> {
  const out = await callAws(context, 'fis:GetExperiment', target, (abortSignal) => client.send(new sdk.GetExperimentCommand({ id }), { abortSignal }));
  const experiment = out.experiment;
  if (!experiment) throw new StepFailedError(`FIS GetExperiment returned no experiment ${id}.`);
  const status = experiment.state?.status;
  if (status !== lastStatus) context.log(`FIS experiment ${id} is ${status}${experiment.state?.reason ? ` (${experiment.state.reason})` : ''}.`);
  return experiment;
}

/** Fails the step unless the experiment completed; the experiment is the failure's output. */
export function judge(experiment: Experiment): void {
  const status = experiment.state?.status;
  if (status !== 'completed') {
    throw new StepFailedError(`FIS experiment ${experiment.id} ended ${status ?? 'in an unknown state'}${experiment.state?.reason ? `: ${experiment.state.reason}` : ''}.`, { experiment: toJsonObject(experiment) });
  }
}
