import type { Filter } from '@aws-sdk/client-ec2';
import { toJson } from '../json.js';
import { awsModule, FILTERS } from '../common.js';
import { DESCRIBE_INSTANCES, describeReservations, ec2 } from './instances.js';

/** chaosaws `ec2.describe_instances`: the DescribeInstances response, the `Reservations` of every page. */
export const describeInstances = awsModule({
  name: 'aws.ec2.describe_instances',
  probe: true,
  description: 'Describes the EC2 instances matching filters (every page).',
  properties: { filters: FILTERS },
  required: ['filters'],
  iam: [DESCRIBE_INSTANCES],
  async run(where, target, context) {
    const { sdk, client } = await ec2(target, context);
    return { Reservations: toJson(await describeReservations(sdk, client, { Filters: where['filters'] as Filter[] }, target, context)) };
  },
});
