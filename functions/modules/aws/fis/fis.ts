import type { Experiment, FisClient } from '@aws-sdk/client-fis';
import { StepFailedError, type StepContext } from '../../types.js';
import { arn, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { awsClient, callAws, pause, type AwsTarget } from '../runtime.js';
import { awsSettings } from '../settings.js';

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

/**
 * Polls GetExperiment until the experiment has ended. When the step is stopped or runs
 * out of time meanwhile, the experiment is stopped before the step gives up, so no
 * fault outlives the trial that injected it.
 */
export async function waitForEnd(sdk: FisSdk, client: FisClient, experiment: Experiment, target: AwsTarget, context: StepContext): Promise<Experiment> {
  const id = experiment.id as string;
  let current = experiment;
  let lastStatus = current.state?.status;
  try {
    while (!ENDED.has(current.state?.status ?? '')) {
      await pause(awsSettings().pollIntervalMs, context.signal);
      const out = await callAws(context, 'fis:GetExperiment', target, (abortSignal) => client.send(new sdk.GetExperimentCommand({ id }), { abortSignal }));
      current = out.experiment ?? current;
      if (current.state?.status !== lastStatus) {
        lastStatus = current.state?.status;
        context.log(`FIS experiment ${id} is ${lastStatus}${current.state?.reason ? ` (${current.state.reason})` : ''}.`);
      }
    }
  } catch (error) {
    if (context.signal.aborted) await stopQuietly(sdk, client, id, target, context);
    throw error;
  }
  return current;
}

/** Fails the step unless the experiment completed; the experiment is the failure's output. */
export function judge(experiment: Experiment): void {
  const status = experiment.state?.status;
  if (status !== 'completed') {
    throw new StepFailedError(`FIS experiment ${experiment.id} ended ${status ?? 'in an unknown state'}${experiment.state?.reason ? `: ${experiment.state.reason}` : ''}.`, { experiment: toJsonObject(experiment) });
  }
}
