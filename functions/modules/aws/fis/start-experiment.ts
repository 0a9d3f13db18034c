import type { FieldError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/types.js';
import { StepFailedError } from '../../types.js';
import { awsModule, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { EXPERIMENT_ARN, fis, judge, TEMPLATE_ARN, waitForEnd } from './fis.js';

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

/**
 * chaosaws `fis.start_experiment`, which then waits (unless `wait: false`) until the
 * experiment ends, polling GetExperiment: the step succeeds when it completed and fails
 * when it failed or was stopped (by a stop condition, say). A trial stop or the trial's
 * time budget running out stops the experiment. The output has the StartExperiment
 * response's shape, `experiment` holding its final state.
 */
export const startExperiment = awsModule({
  name: 'aws.fis.start_experiment',
  description: 'Starts an AWS FIS experiment from a template and waits until it ends (stopping it if the trial stops).',
  properties: {
    experiment_template_id: { ...STRING, maxLength: 64 },
    client_token: { ...STRING, maxLength: 64 },
    tags: { oneOf: [{ type: 'object', additionalProperties: { type: 'string', maxLength: 256 }, maxProperties: 50 }, { type: 'string', maxLength: 2048 }] },
    wait: { type: 'boolean' },
  },
  required: ['experiment_template_id'],
  iam: [
    { actions: ['fis:StartExperiment'], resources: [TEMPLATE_ARN], tagged: true },
    { actions: ['fis:StartExperiment', 'fis:TagResource', 'fis:GetExperiment', 'fis:StopExperiment'], resources: [EXPERIMENT_ARN] },
  ],
  check: checkTags,
  async run(where, target, context) {
    const { sdk, client } = await fis(target, context);
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
    const ended = await waitForEnd(sdk, client, experiment, target, context);
    judge(ended);
    return { ...toJsonObject(started), experiment: toJsonObject(ended) };
  },
});
