import { arn, awsModule, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { rds } from './rds.js';

/** chaosaws `rds.failover_db_cluster`: the FailoverDBCluster response (`DBCluster`). */
export const failoverDbCluster = awsModule({
  name: 'aws.rds.failover_db_cluster',
  description: 'Forces a failover of an Aurora / Multi-AZ DB cluster, optionally to a given instance.',
  properties: { db_cluster_identifier: { ...STRING, maxLength: 255 }, target_db_instance_identifier: { ...STRING, maxLength: 255 } },
  required: ['db_cluster_identifier'],
  // FailoverDBCluster authorizes the cluster and, when named, the target instance: tag both.
  iam: [{ actions: ['rds:FailoverDBCluster'], resources: [arn('rds', 'cluster:*'), arn('rds', 'db:*')], tagged: true }],
  async run(where, target, context) {
    const { sdk, client } = await rds(target, context);
    const input = {
      DBClusterIdentifier: String(where['db_cluster_identifier']),
      ...(typeof where['target_db_instance_identifier'] === 'string' && { TargetDBInstanceIdentifier: where['target_db_instance_identifier'] }),
    };
    const out = await callAws(context, 'rds:FailoverDBCluster', target, (abortSignal) => client.send(new sdk.FailoverDBClusterCommand(input), { abortSignal }));
    return toJsonObject(out);
  },
});
