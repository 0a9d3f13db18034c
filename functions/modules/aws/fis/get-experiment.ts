import { awsModule } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { EXPERIMENT_ARN, EXPERIMENT_ID, fis } from './fis.js';

/** chaosaws `fis.get_experiment`: the GetExperiment response (`experiment.state.status`…). */
export const getExperiment = awsModule({
  name: 'aws.fis.get_experiment',
  description: 'Reads an AWS FIS experiment (its state, targets, actions).',
  properties: { experiment_id: EXPERIMENT_ID },
  required: ['experiment_id'],
  iam: [{ actions: ['fis:GetExperiment'], resources: [EXPERIMENT_ARN] }],
  async run(where, target, context) {
    const { sdk, client } = await fis(target, context);
    return toJsonObject(await callAws(context, 'fis:GetExperiment', target, (abortSignal) => client.send(new sdk.GetExperimentCommand({ id: String(where['experiment_id']) }), { abortSignal })));
  },
});
