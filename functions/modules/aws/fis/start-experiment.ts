import type { FieldError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/types.js';
import type { Experiment } from '@aws-sdk/client-fis';
import { StepFailedError, StepSuspension, suspend } from '../../types.js';
import { awsModule, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { clockOf, pollAcrossSlices, timeoutAt, tooLateToStart, WAIT_TIMEOUT_SECONDS, WAITING_STEP_MAX_RUN_MS } from '../waiting.js';
import { ENDED, EXPERIMENT_ARN, fis, judge, readExperiment, stopQuietly, TEMPLATE_ARN } from './fis.js';

/** chaosaws' `tags`: `{ "k": "v" }` or `"k=v,k2=v2"`. */
export function convertTags(tags: unknown): Record<string, string> | undefined {
  if (tags === undefined || tags === null || tags === '') return undefined;
  if (typeof tags === 'object') return tags as Record<string, string>;
  const out: Record<string, string> = {};
  for (const pair of String(tags).split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new StepFailedError(`tags must be "key=value,…" pairs, got ${JSON.stringify(tags)}.`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

function checkTags(where: JsonObject): FieldError[] {
  try {
    convertTags(where['tags']);
    return [];
  } catch (error) {
    return [{ path: 'tags', message: (error as Error).message }];
  }
}

/** What a waiting start_experiment step keeps between slices. */
interface FisWait {
  experiment_id: string;
  /** Epoch ms of the start: `wait_timeout_seconds` counts from it. */
  started_at: number;
  status: string;
  /** The StartExperiment response's ResponseMetadata, for the final output. */
  response_metadata?: JsonObject;
}

function fisWaitOf(state: JsonObject | undefined): FisWait | undefined {
  return state && typeof state['experiment_id'] === 'string' ? (state as unknown as FisWait) : undefined;
}

/**
 * chaosaws `fis.start_experiment`, which then waits (unless `wait: false`) until the
 * experiment ends, polling GetExperiment across slices (resumable: a 30-minute
 * experiment parks the trial between polls): the step succeeds when it completed and
 * fails when it failed or was stopped (by a stop condition, say). A trial stop (a stop
 * request, a halt, a tripped guard), or `wait_timeout_seconds` running out, stops the
 * experiment. The output has the StartExperiment response's shape, `experiment`
 * holding its final state.
 */
export const startExperiment = awsModule({
  name: 'aws.fis.start_experiment',
  description: 'Starts an AWS FIS experiment from a template and waits until it ends (stopping it if the trial stops).',
  properties: {
    experiment_template_id: { ...STRING, maxLength: 64 },
    client_token: { ...STRING, maxLength: 64 },
    tags: { oneOf: [{ type: 'object', additionalProperties: { type: 'string', maxLength: 256 }, maxProperties: 50 }, { type: 'string', maxLength: 2048 }] },
    wait: { type: 'boolean' },
    wait_timeout_seconds: WAIT_TIMEOUT_SECONDS,
  },
  required: ['experiment_template_id'],
  iam: [
    { actions: ['fis:StartExperiment'], resources: [TEMPLATE_ARN], tagged: true },
    { actions: ['fis:StartExperiment', 'fis:TagResource', 'fis:GetExperiment', 'fis:StopExperiment'], resources: [EXPERIMENT_ARN] },
  ],
  check: checkTags,
  resumable: {
    maxRunMs: WAITING_STEP_MAX_RUN_MS,
    async cleanup(_where, state, target, context) {
      const waiting = fisWaitOf(state);
      if (!waiting) return;
      const { sdk, client } = await fis(target, context);
      await stopQuietly(sdk, client, waiting.experiment_id, target, context);
    },
  },
  async run(where, target, context) {
    const { sdk, client } = await fis(target, context);
    let waiting = fisWaitOf(context.resumed);
    if (!waiting) {
      // Nothing started yet: a start too close to the slice's end could be cut off before its id is known.
      if (tooLateToStart(context)) return suspend(clockOf(context)(), {});
      const tags = convertTags(where['tags']);
      const input = {
        experimentTemplateId: String(where['experiment_template_id']),
        ...(typeof where['client_token'] === 'string' && { clientToken: where['client_token'] }),
        ...(tags && { tags }),
      };
      const started = await callAws(context, 'fis:StartExperiment', target, (abortSignal) => client.send(new sdk.StartExperimentCommand(input), { abortSignal }));
      const experiment = started.experiment;
      if (!experiment?.id) throw new StepFailedError('FIS StartExperiment returned no experiment.');
      context.log(`Started FIS experiment ${experiment.id} from template ${input.experimentTemplateId}.`);
      if (where['wait'] === false) return toJsonObject(started);
      const { ResponseMetadata } = toJsonObject(started);
      waiting = {
        experiment_id: experiment.id,
        started_at: clockOf(context)(),
        status: experiment.state?.status ?? 'pending',
        ...(ResponseMetadata !== undefined && { response_metadata: ResponseMetadata as JsonObject }),
      };
      if (ENDED.has(waiting.status)) return finished(waiting, experiment);
      // Saved before the first poll: a worker that dies while polling leaves the id for the recovery to stop the experiment.
      await context.saveState?.({ ...waiting } as unknown as JsonObject);
    } else {
      const experiment = await readAndStopOnAbort(waiting);
      if (ENDED.has(experiment.state?.status ?? '')) return finished(waiting, experiment);
    }
    const current = waiting;
    const result = await pollAcrossSlicesStopping(current);
    return result instanceof StepSuspension ? result : finished(current, result);

    async function readAndStopOnAbort(state: FisWait): Promise<Experiment> {
      try {
        const experiment = await readExperiment(sdk, client, state.experiment_id, state.status, target, context);
        state.status = experiment.state?.status ?? state.status;
        return experiment;
      } catch (error) {
        if (context.signal.aborted) await stopQuietly(sdk, client, state.experiment_id, target, context);
        throw error;
      }
    }

    async function pollAcrossSlicesStopping(state: FisWait): Promise<Experiment | StepSuspension> {
      try {
        return await pollAcrossSlices(context, {
          state: () => ({ ...state }) as unknown as JsonObject,
          timeoutAt: timeoutAt(where, state.started_at),
          poll: async () => {
            const experiment = await readExperiment(sdk, client, state.experiment_id, state.status, target, context);
            state.status = experiment.state?.status ?? state.status;
            return ENDED.has(state.status) ? experiment : undefined;
          },
          timedOut: async () => {
            await stopQuietly(sdk, client, state.experiment_id, target, context);
            throw new StepFailedError(`FIS experiment ${state.experiment_id} had not ended after wait_timeout_seconds (${String(where['wait_timeout_seconds'])} s); it was stopped.`, { experiment: { id: state.experiment_id, state: { status: state.status } } });
          },
        });
      } catch (error) {
        // A trial stop (or the slice overrun) interrupted the wait: no fault outlives the trial that injected it.
        if (context.signal.aborted) await stopQuietly(sdk, client, state.experiment_id, target, context);
        throw error;
      }
    }
  },
});

/** The step's output once the experiment ended: fails unless it completed. */
function finished(state: FisWait, experiment: Experiment): JsonObject {
  judge(experiment);
  return { experiment: toJsonObject(experiment), ...(state.response_metadata && { ResponseMetadata: state.response_metadata }) };
}
