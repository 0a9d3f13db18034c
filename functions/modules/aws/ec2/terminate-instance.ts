import { toJson } from '../json.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkSelection, DESCRIBE_INSTANCES, INSTANCE_ARN, SINGLE_SELECTION, selectInstances } from './instances.js';
import { TERMINABLE } from './terminate-instances.js';

/** chaosaws `ec2.terminate_instance`: one instance by id, or one picked at random. */
export const terminateInstance = awsModule({
  name: 'aws.ec2.terminate_instance',
  description: 'Terminates one EC2 instance: instance_id, or a random one in az / matching filters.',
  properties: SINGLE_SELECTION,
  iam: [DESCRIBE_INSTANCES, { actions: ['ec2:TerminateInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: checkSelection('instance_id'),
  async run(where, target, context) {
    const { sdk, client, ids } = await selectInstances(where, { states: TERMINABLE, single: true }, target, context);
    const out = await callAws(context, 'ec2:TerminateInstances', target, (abortSignal) => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids }), { abortSignal }));
    return [toJson(out)];
  },
});
