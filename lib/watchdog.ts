import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { KallistiFunction, type KallistiFunctionProps } from './kallisti-function.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';

/** How often unfinished trials are checked: a trial that cannot progress is ended within this (plus its grace). */
export const WATCHDOG_EVERY = Duration.minutes(5);

export interface WatchdogProps extends Pick<KallistiFunctionProps, 'logLevel' | 'logRetention' | 'retainLogs'> {
  stage: string;
  table: dynamodb.ITable;
  trialQueue: sqs.IQueue;
}

/**
 * The DynamoDB actions the watchdog's code sends (functions/use-cases/watchdog.ts through
 * the trial store), and no other: the unfinished-trials index and a trial's partition are
 * queried, the trial items batch-read, a never-started trial ended (its status read again
 * before its result entry is put, then updated) and a started one marked taken over.
 * Never a scan or a delete.
 */
export const WATCHDOG_TABLE_ACTIONS = ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;
/** Whether any message is left (GetQueueAttributes), and the recovery deliveries it sends. */
export const WATCHDOG_QUEUE_ACTIONS = ['sqs:GetQueueAttributes', 'sqs:SendMessage'] as const;

/**
 * The watchdog: a function run every 5 minutes that ends trials which can no longer
 * progress (their message lost, no worker past their slice). It runs no step itself:
 * a trial that started is handed to the worker in a recovery delivery, so the
 * watchdog needs none of the chaos permissions.
 */
export class Watchdog extends Construct {
  readonly fn: KallistiFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: WatchdogProps) {
    super(scope, id);
    this.fn = new KallistiFunction(this, 'Function', {
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      retainLogs: props.retainLogs,
      // Not traced: a run is one Query, one batch read and a few writes, logged with what it found.
      tracing: false,
      entry: 'watchdog',
      functionName: `kallisti-${props.stage}-watchdog`,
      description: 'Kallisti watchdog: ends trials that can no longer progress, with the reason',
      // A page of 100 unfinished trials is one Query and one BatchGetItem; a minute is ample, two leave room.
      timeout: Duration.minutes(2),
      memorySize: 256,
      // No reserved concurrency (it fails at the default account quota): two runs at once are harmless,
      // every write is conditional on what was read.
    });
    const fn = this.fn.function;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...WATCHDOG_TABLE_ACTIONS], resources: [props.table.tableArn, `${props.table.tableArn}/index/*`] }));
    acknowledgeNag(this.fn.role, {
      id: wildcardResourceFinding(this, `${props.table.tableArn}/index/*`),
      reason: "The watchdog Queries the table's unfinished-trials index; DynamoDB names each index ARN under the table ARN.",
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...WATCHDOG_QUEUE_ACTIONS], resources: [props.trialQueue.queueArn] }));
    fn.addEnvironment('KALLISTI_TABLE', props.table.tableName);
    fn.addEnvironment('KALLISTI_QUEUE_URL', props.trialQueue.queueUrl);

    this.rule = new events.Rule(this, 'Every5Minutes', {
      description: `Runs the Kallisti watchdog (${props.stage}) every ${WATCHDOG_EVERY.toMinutes()} minutes`,
      schedule: events.Schedule.rate(WATCHDOG_EVERY),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
  }
}
