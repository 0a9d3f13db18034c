import type { Json } from '../../../domain/types.js';
import { toJson } from '../json.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkSelection, DESCRIBE_INSTANCES, INSTANCE_ARN, SELECTION, selectInstances } from './instances.js';

/** chaosaws `ec2.start_instances`: returns the `StartingInstances` entries. */
export const startInstances = awsModule({
  name: 'aws.ec2.start_instances',
  description: 'Starts EC2 instances: by instance_ids, or the stopped ones in az / matching filters (all, or count / percent of them).',
  properties: SELECTION,
  iam: [DESCRIBE_INSTANCES, { actions: ['ec2:StartInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: checkSelection('instance_ids'),
  async run(where, target, context) {
    const { sdk, client, ids } = await selectInstances(where, { states: ['stopped'] }, target, context);
    const out = await callAws(context, 'ec2:StartInstances', target, (abortSignal) => client.send(new sdk.StartInstancesCommand({ InstanceIds: ids }), { abortSignal }));
    return (out.StartingInstances ?? []).map(toJson) as Json[];
  },
});
