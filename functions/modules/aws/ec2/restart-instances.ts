import { toJson } from '../json.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkSelection, DESCRIBE_INSTANCES, INSTANCE_ARN, SELECTION, selectInstances } from './instances.js';

/**
 * chaosaws `ec2.restart_instances` (RebootInstances). chaosaws returns an empty list;
 * here the list holds the reboot response with the ids rebooted, so `expect` can check them.
 */
export const restartInstances = awsModule({
  name: 'aws.ec2.restart_instances',
  description: 'Reboots EC2 instances: by instance_ids, or the running ones in az / matching filters (all, or count / percent of them).',
  properties: SELECTION,
  iam: [DESCRIBE_INSTANCES, { actions: ['ec2:RebootInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: checkSelection('instance_ids'),
  async run(where, target, context) {
    const { sdk, client, ids } = await selectInstances(where, { states: ['running'] }, target, context);
    const out = await callAws(context, 'ec2:RebootInstances', target, (abortSignal) => client.send(new sdk.RebootInstancesCommand({ InstanceIds: ids }), { abortSignal }));
    return [{ InstanceIds: ids, ...(toJson(out) as object) }];
  },
});
