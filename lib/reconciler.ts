import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { KallistiFunction, type KallistiFunctionProps } from './kallisti-function.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import type { Scheduling } from './scheduling.js';
import { reconcilerFunctionName } from '../functions/reconciler/name.js';

/** How often the schedule group and the table are compared. */
export const RECONCILE_EVERY = Duration.minutes(15);

export { reconcilerFunctionName };

export interface ReconcilerProps extends Pick<KallistiFunctionProps, 'logLevel' | 'logRetention' | 'retainLogs' | 'tracing'> {
  stage: string;
  table: dynamodb.ITable;
  scheduling: Scheduling;
  targetQueue: sqs.IQueue;
}

/**
 * Schedule reconciliation: a function run every 15 minutes (and on demand) that
 * lists the schedule group and the table and repairs both ways (see
 * functions/use-cases/reconcile-schedules.ts).
 */
/** The DynamoDB actions the reconciler's code sends (schedule and experiment stores), and no other. */
export const RECONCILER_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'] as const;

export class Reconciler extends Construct {
  readonly fn: KallistiFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    this.fn = new KallistiFunction(this, 'Function', {
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      retainLogs: props.retainLogs,
      tracing: props.tracing,
      entry: 'reconciler',
      functionName: reconcilerFunctionName(props.stage),
      description: 'Kallisti schedule reconciliation: the schedule group brought in line with the table',
      // 100,000 schedules are 1,000 ListSchedules pages and 1,000 table pages: well under a minute; five leave room for repairs.
      timeout: Duration.minutes(5),
      memorySize: 512,
      // No reserved concurrency (it fails at the default account quota): two runs at once would only
      // repeat each other's repairs, which are idempotent.
    });
    const fn = this.fn.function;
    // Reads schedules and experiments (by key and through the list indexes); writes only the
    // deletion mark of a schedule whose experiment is gone. Never puts, deletes or scans.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...RECONCILER_TABLE_ACTIONS], resources: [props.table.tableArn, `${props.table.tableArn}/index/*`] }));
    acknowledgeNag(this.fn.role, {
      id: wildcardResourceFinding(this, `${props.table.tableArn}/index/*`),
      reason: "The reconciler Queries the table's own list indexes; DynamoDB names each index ARN under the table ARN.",
    });
    fn.addEnvironment('KALLISTI_TABLE', props.table.tableName);
    props.scheduling.grantScheduleActions(fn, ['CreateSchedule', 'DeleteSchedule']);
    // ListSchedules has no resource-level permission (Service Authorization Reference): it takes "*"; the call names the group.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['scheduler:ListSchedules'], resources: ['*'] }));
    acknowledgeNag(this.fn.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'scheduler:ListSchedules supports no resource-level permission and requires Resource "*"; the function lists only its own group (GroupName on every call).',
    });
    fn.addEnvironment('KALLISTI_SCHEDULE_GROUP', props.scheduling.groupName);
    fn.addEnvironment('KALLISTI_SCHEDULER_ROLE_ARN', props.scheduling.role.roleArn);
    fn.addEnvironment('KALLISTI_SCHEDULE_TARGET_ARN', props.targetQueue.queueArn);
    fn.addEnvironment('KALLISTI_SCHEDULE_DLQ_ARN', props.scheduling.deadLetterQueue.queueArn);

    this.rule = new events.Rule(this, 'Every15Minutes', {
      description: `Runs Kallisti schedule reconciliation (${props.stage}) every ${RECONCILE_EVERY.toMinutes()} minutes`,
      schedule: events.Schedule.rate(RECONCILE_EVERY),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
  }
}
