import { toJson } from '../json.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkSelection, DESCRIBE_INSTANCES, FORCE, INSTANCE_ARN, SINGLE_SELECTION, selectInstances } from './instances.js';

/** chaosaws `ec2.stop_instance`: one instance by id, or one picked at random in az / matching filters. */
export const stopInstance = awsModule({
  name: 'aws.ec2.stop_instance',
  description: 'Stops one EC2 instance: instance_id, or a random running one in az / matching filters.',
  properties: { ...SINGLE_SELECTION, force: FORCE },
  iam: [DESCRIBE_INSTANCES, { actions: ['ec2:StopInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: checkSelection('instance_id'),
  async run(where, target, context) {
    const { sdk, client, ids } = await selectInstances(where, { states: ['running'], single: true }, target, context);
    const out = await callAws(context, 'ec2:StopInstances', target, (abortSignal) =>
      client.send(new sdk.StopInstancesCommand({ InstanceIds: ids, Force: where['force'] === true }), { abortSignal }),
    );
    return [toJson(out)];
  },
});
