import { toJson } from '../json.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkSelection, DESCRIBE_INSTANCES, FORCE, INSTANCE_ARN, SELECTION, selectInstances } from './instances.js';

/** chaosaws `ec2.stop_instances`: returns the list of StopInstances responses. */
export const stopInstances = awsModule({
  name: 'aws.ec2.stop_instances',
  description: 'Stops EC2 instances: by instance_ids, or the running ones in az / matching filters (all, or count / percent of them at random).',
  properties: { ...SELECTION, force: FORCE },
  iam: [DESCRIBE_INSTANCES, { actions: ['ec2:StopInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: checkSelection('instance_ids'),
  async run(where, target, context) {
    const { sdk, client, ids } = await selectInstances(where, { states: ['running'] }, target, context);
    const out = await callAws(context, 'ec2:StopInstances', target, (abortSignal) =>
      client.send(new sdk.StopInstancesCommand({ InstanceIds: ids, Force: where['force'] === true }), { abortSignal }),
    );
    return [toJson(out)];
  },
});
