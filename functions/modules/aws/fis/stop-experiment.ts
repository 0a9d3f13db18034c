import { awsModule } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { EXPERIMENT_ARN, EXPERIMENT_ID, fis } from './fis.js';

/** chaosaws `fis.stop_experiment`: the StopExperiment response. */
export const stopExperiment = awsModule({
  name: 'aws.fis.stop_experiment',
  description: 'Stops a running AWS FIS experiment.',
  properties: { experiment_id: EXPERIMENT_ID },
  required: ['experiment_id'],
  iam: [{ actions: ['fis:StopExperiment'], resources: [EXPERIMENT_ARN] }],
  async run(where, target, context) {
    const { sdk, client } = await fis(target, context);
    return toJsonObject(await callAws(context, 'fis:StopExperiment', target, (abortSignal) => client.send(new sdk.StopExperimentCommand({ id: String(where['experiment_id']) }), { abortSignal })));
  },
});
