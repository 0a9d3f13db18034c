import { arn, awsModule, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { rds } from './rds.js';

/** chaosaws `rds.reboot_db_instance`: the RebootDBInstance response (`DBInstance`). `force_failover` reboots with a Multi-AZ failover. */
export const rebootDbInstance = awsModule({
  name: 'aws.rds.reboot_db_instance',
  description: 'Reboots an RDS DB instance, optionally forcing a Multi-AZ failover.',
  properties: { db_instance_identifier: { ...STRING, maxLength: 255 }, force_failover: { type: 'boolean' } },
  required: ['db_instance_identifier'],
  iam: [{ actions: ['rds:RebootDBInstance'], resources: [arn('rds', 'db:*')], tagged: true }],
  async run(where, target, context) {
    const { sdk, client } = await rds(target, context);
    const input = { DBInstanceIdentifier: String(where['db_instance_identifier']), ForceFailover: where['force_failover'] === true };
    const out = await callAws(context, 'rds:RebootDBInstance', target, (abortSignal) => client.send(new sdk.RebootDBInstanceCommand(input), { abortSignal }));
    context.log(`Rebooting ${input.DBInstanceIdentifier}${input.ForceFailover ? ' with failover' : ''}: ${out.DBInstance?.DBInstanceStatus ?? 'status unknown'}.`);
    return toJsonObject(out);
  },
});
