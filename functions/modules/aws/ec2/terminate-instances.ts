import { toJson } from '../json.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkSelection, DESCRIBE_INSTANCES, INSTANCE_ARN, SELECTION, selectInstances } from './instances.js';

/** Instances that can still be terminated. */
export const TERMINABLE = ['pending', 'running', 'stopping', 'stopped'];

/** chaosaws `ec2.terminate_instances`: returns the list of TerminateInstances responses. */
export const terminateInstances = awsModule({
  name: 'aws.ec2.terminate_instances',
  description: 'Terminates EC2 instances: by instance_ids, or those in az / matching filters (all, or count / percent of them at random).',
  properties: SELECTION,
  iam: [DESCRIBE_INSTANCES, { actions: ['ec2:TerminateInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: checkSelection('instance_ids'),
  async run(where, target, context) {
    const { sdk, client, ids } = await selectInstances(where, { states: TERMINABLE }, target, context);
    const out = await callAws(context, 'ec2:TerminateInstances', target, (abortSignal) => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids }), { abortSignal }));
    return [toJson(out)];
  },
});
