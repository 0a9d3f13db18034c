import type { Filter } from '@aws-sdk/client-ec2';
import { awsModule, FILTERS } from '../common.js';
import { DESCRIBE_INSTANCES, describeAll, ec2 } from './instances.js';

/**
 * chaosaws `ec2.count_instances`: how many instances match the filters (a number; read
 * it in `expect` as `value`). chaosaws' code counts reservations; its documentation
 * says instances, which is what this counts.
 */
export const countInstances = awsModule({
  name: 'aws.ec2.count_instances',
  probe: true,
  description: 'Counts the EC2 instances matching filters.',
  properties: { filters: FILTERS },
  required: ['filters'],
  iam: [DESCRIBE_INSTANCES],
  async run(where, target, context) {
    const { sdk, client } = await ec2(target, context);
    return (await describeAll(sdk, client, { Filters: where['filters'] as Filter[] }, target, context)).length;
  },
});
