import type { Json } from '../../../domain/types.js';
import { StepFailedError } from '../../types.js';
import { awsModule, COUNT, PERCENT, STRING } from '../common.js';
import { ec2, howMany, INSTANCE_ARN, sample } from '../ec2/instances.js';
import { toJson } from '../json.js';
import { callAws } from '../runtime.js';
import { ASG_READS, autoscaling, checkGroups, findGroups, GROUP_SELECTION } from './groups.js';

/**
 * chaosaws `asg.terminate_random_instances`: in each group, `instance_count` or
 * `instance_percent` of its InService instances at random, or all of them in `az`;
 * terminated with EC2 TerminateInstances. Returns `[{ AutoScalingGroupName, TerminatingInstances }]`.
 */
export const terminateRandomInstances = awsModule({
  name: 'aws.asg.terminate_random_instances',
  description: 'Terminates a count or percent of the InService instances of Auto Scaling groups, or those in an AZ.',
  properties: { ...GROUP_SELECTION, instance_count: COUNT, instance_percent: PERCENT, az: STRING },
  iam: [ASG_READS, { actions: ['ec2:TerminateInstances'], resources: [INSTANCE_ARN], tagged: true }],
  check: (where) => [
    ...checkGroups(where),
    ...(['instance_count', 'instance_percent', 'az'].filter((k) => where[k] !== undefined).length !== 1
      ? [{ path: 'instance_count', message: 'give exactly one of instance_count, instance_percent and az' }]
      : []),
  ],
  async run(where, target, context) {
    const { sdk, client } = await autoscaling(target, context);
    const groups = await findGroups(sdk, client, where, target, context);
    const compute = await ec2(target, context);
    const results: Json[] = [];
    for (const group of groups) {
      const name = group.AutoScalingGroupName as string;
      let instances = (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService');
      if (typeof where['az'] === 'string') {
        instances = instances.filter((i) => i.AvailabilityZone === where['az']);
        if (instances.length === 0) throw new StepFailedError(`No instances found in Availability Zone: ${where['az']} (group ${name}).`);
      } else {
        instances = sample(instances, howMany({ count: where['instance_count'] ?? null, percent: where['instance_percent'] ?? null }, instances.length, `healthy instances in ${name}`));
      }
      const ids = instances.map((i) => i.InstanceId as string).sort();
      const out = await callAws(context, 'ec2:TerminateInstances', target, (abortSignal) => compute.client.send(new compute.sdk.TerminateInstancesCommand({ InstanceIds: ids }), { abortSignal }));
      context.log(`Terminating ${ids.join(', ')} of ${name}.`);
      results.push({ AutoScalingGroupName: name, TerminatingInstances: toJson(out.TerminatingInstances ?? []) });
    }
    return results;
  },
});
