import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { AWS_MODULES } from '../functions/modules/aws/index.js';
import { Alarms } from './alarms.js';
import { ChaosPolicy } from './chaos-policy.js';
import { Dashboard, dashboardName } from './dashboard.js';
import { metricsServiceName } from './kallisti-metrics.js';
import { METRICS_NAMESPACE } from '../functions/metrics/catalog.js';
import { HttpApi } from './http-api.js';
import { KallistiFunction } from './kallisti-function.js';
import { KallistiTable } from './kallisti-table.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import { Reconciler } from './reconciler.js';
import { Watchdog } from './watchdog.js';
import { Scheduling, type ScheduleAction } from './scheduling.js';
import type { KallistiSettings } from './settings.js';
import { defaultSecretPrefix, grantStepSecrets } from './step-secrets.js';
import { TrialNotifications } from './trial-notifications.js';
import { TrialQueue, WORKER_TIMEOUT } from './trial-queue.js';

export interface KallistiStackProps extends StackProps {
  settings: KallistiSettings;
}

/** API Gateway's own integration timeout; the API function may not outlive it. */
export const API_TIMEOUT = Duration.seconds(29);

/**
 * The API creates each generation's cloud schedules and deletes the previous ones; a
 * definition is never updated in place nor read back (functions/adapters/scheduler).
 */
export const API_SCHEDULE_ACTIONS: readonly ScheduleAction[] = ['CreateSchedule', 'DeleteSchedule'];
/**
 * The worker removes cloud schedules that fire for nothing (exhausted, deleted, superseded)
 * and re-arms the current generation when a superseded one fires (a change whose cloud call failed).
 */
export const WORKER_SCHEDULE_ACTIONS: readonly ScheduleAction[] = ['CreateSchedule', 'DeleteSchedule'];

/**
 * The DynamoDB actions each function's code sends (functions/adapters/dynamodb), and no other.
 * The API batch-reads the unfinished trials a halt stops (the unfinished-trials index is keys only).
 */
export const API_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'] as const;
/**
 * The worker reads and updates trials, experiments and schedules, creates the trials schedules fire,
 * queries the table's safety partition (halts, freezes) and, for a schedule whose overlap is `skip`,
 * its newest trial on the schedule index; it never deletes.
 */
export const WORKER_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'] as const;

function grantTable(role: iam.IRole, table: dynamodb.ITable, actions: readonly string[], indexes: boolean): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: indexes ? [table.tableArn, `${table.tableArn}/index/*`] : [table.tableArn] }));
}

/**
 * Kallisti Serverless in one stack: API Gateway → API function → DynamoDB; EventBridge
 * Scheduler and the API → one FIFO queue → one worker, one trial at a time.
 */
export class KallistiStack extends Stack {
  constructor(scope: Construct, id: string, props: KallistiStackProps) {
    super(scope, id, props);
    const { settings } = props;

    const { table } = new KallistiTable(this, 'Data', { retain: settings.retain });
    const trials = new TrialQueue(this, 'Trials');
    const scheduling = new Scheduling(this, 'Schedules', { stage: settings.stage, targetQueue: trials.queue });

    const common = {
      logLevel: settings.logLevel,
      logRetention: settings.logRetentionDays,
      retainLogs: settings.retain,
      tracing: settings.tracing,
    };

    // API: HTTP requests, including schedule create/update/delete (which write EventBridge schedules).
    const api = new KallistiFunction(this, 'ApiFunction', {
      ...common,
      entry: 'api',
      description: 'Kallisti API: experiments, trials, schedules, reports',
      timeout: API_TIMEOUT,
      memorySize: 512,
    });
    grantTable(api.role, table, API_TABLE_ACTIONS, true);
    api.addEnvironment('KALLISTI_TABLE', table.tableName);
    trials.queue.grantSendMessages(api.function);
    // A stop makes a trial parked in the queue (a long wait) deliverable at once.
    trials.queue.grant(api.function, 'sqs:ChangeMessageVisibility');
    api.addEnvironment('KALLISTI_QUEUE_URL', trials.queue.queueUrl);
    scheduling.grantScheduleActions(api.function, API_SCHEDULE_ACTIONS);
    api.addEnvironment('KALLISTI_SCHEDULE_GROUP', scheduling.groupName);
    api.addEnvironment('KALLISTI_SCHEDULER_ROLE_ARN', scheduling.role.roleArn);
    // The scheduler role (passed above) is what may send to these two queues; the API only names them in each schedule.
    api.addEnvironment('KALLISTI_SCHEDULE_TARGET_ARN', trials.queue.queueArn);
    api.addEnvironment('KALLISTI_SCHEDULE_DLQ_ARN', scheduling.deadLetterQueue.queueArn);
    for (const [variable, value] of Object.entries(settings.auth)) api.addEnvironment(variable, value);

    // Worker: runs trials and schedule firings from the FIFO queue.
    const worker = new KallistiFunction(this, 'WorkerFunction', {
      ...common,
      entry: 'worker',
      description: 'Kallisti worker: runs one trial at a time from the FIFO queue',
      timeout: WORKER_TIMEOUT,
      memorySize: 1024,
      // No reserved concurrency: the queue's single message group already hands out one
      // message at a time, and reserving any would fail in accounts at the default quota.
    });
    grantTable(worker.role, table, WORKER_TABLE_ACTIONS, true);
    worker.addEnvironment('KALLISTI_TABLE', table.tableName);
    // The event source grants receiving, deleting and changing visibility on the queue; the worker never sends.
    worker.function.addEventSource(new SqsEventSource(trials.queue, { batchSize: 1, reportBatchItemFailures: true }));
    // The worker hands parked trials back and backs off failed messages with ChangeMessageVisibility (granted above).
    worker.addEnvironment('KALLISTI_QUEUE_URL', trials.queue.queueUrl);
    scheduling.grantScheduleActions(worker.function, WORKER_SCHEDULE_ACTIONS);
    worker.addEnvironment('KALLISTI_SCHEDULE_GROUP', scheduling.groupName);
    worker.addEnvironment('KALLISTI_SCHEDULER_ROLE_ARN', scheduling.role.roleArn);
    worker.addEnvironment('KALLISTI_SCHEDULE_TARGET_ARN', trials.queue.queueArn);
    worker.addEnvironment('KALLISTI_SCHEDULE_DLQ_ARN', scheduling.deadLetterQueue.queueArn);
    // HTTP steps may reach only these (checked on each resolved address, after every redirect).
    if (settings.egressAllow !== undefined) worker.addEnvironment('KALLISTI_EGRESS_ALLOW', settings.egressAllow);

    // AWS steps: the worker may do what the registered `aws` commands declare, and nothing
    // more; with awsModules=false neither function offers them and no permission is granted.
    const awsSwitch = settings.awsModules ? 'on' : 'off';
    for (const fn of [api, worker]) fn.addEnvironment('KALLISTI_AWS_MODULES', awsSwitch);
    if (settings.awsModules) {
      new ChaosPolicy(this, 'WorkerChaos', { role: worker.role, modules: AWS_MODULES, tag: settings.chaosResourceTag, assumeRoleArns: settings.assumeRoleArns });
      const tag = settings.chaosResourceTag ? `${settings.chaosResourceTag.key}=${settings.chaosResourceTag.value}` : 'none';
      worker.addEnvironment('KALLISTI_CHAOS_TAG', tag);
      // The API checks role_arn against the same list when an experiment is saved.
      for (const fn of [api, worker]) fn.addEnvironment('KALLISTI_AWS_ROLE_ARNS', settings.assumeRoleArns.join(','));
    }

    // Step credentials may reference secrets and SSM parameters under one prefix, which the worker alone may read.
    grantStepSecrets(this, worker, settings.secretPrefix ?? defaultSecretPrefix(settings.stage));

    // Trial-finished events: whichever function ends a trial (the worker's runs, the API's stops of trials
    // not yet started) puts them on the default event bus; a rule emails them to the /notification list.
    const notifications = new TrialNotifications(this, 'TrialFinished', { stage: settings.stage });
    for (const fn of [api, worker]) {
      notifications.grantPutEvents(fn.function);
      fn.addEnvironment('KALLISTI_EVENT_BUS_NAME', notifications.bus.eventBusName);
    }
    notifications.grantSubscriptionSync(api.function);
    api.addEnvironment('KALLISTI_NOTIFICATION_TOPIC_ARN', notifications.topic.topicArn);

    const http = new HttpApi(this, 'Http', {
      stage: settings.stage,
      handler: api.function,
      throttleRateLimit: settings.throttleRateLimit,
      throttleBurstLimit: settings.throttleBurstLimit,
      tracing: settings.tracing,
      validateBody: settings.gatewayBodyValidation,
      logRetention: settings.logRetentionDays,
      retainLogs: settings.retain,
      openAccess: settings.openAccess,
      manageCloudWatchRole: settings.apiGatewayCloudWatchRole,
    });

    // Reconciliation: every 15 minutes the schedule group is brought in line with the table.
    const reconciler = new Reconciler(this, 'Reconciler', { ...common, stage: settings.stage, table, scheduling, targetQueue: trials.queue });
    // Watchdog: every 5 minutes, trials that can no longer progress are ended with the reason.
    const watchdog = new Watchdog(this, 'Watchdog', { logLevel: settings.logLevel, logRetention: settings.logRetentionDays, retainLogs: settings.retain, stage: settings.stage, table, trialQueue: trials.queue });

    const alarms = new Alarms(this, 'Alarms', {
      stage: settings.stage,
      trialQueue: trials.queue,
      trialDeadLetterQueue: trials.deadLetterQueue,
      scheduleDeadLetterQueue: scheduling.deadLetterQueue,
      worker: worker.function,
      reconciler: reconciler.fn.function,
      watchdog: watchdog.fn.function,
      api: http.api,
      ...(settings.alarmEmail !== undefined && { email: settings.alarmEmail }),
      ...(settings.alarmTopicArn !== undefined && { topicArn: settings.alarmTopicArn }),
    });
    new Dashboard(this, 'Dashboard', {
      stage: settings.stage,
      api: http.api,
      worker: worker.function,
      trialQueue: trials.queue,
      trialDeadLetterQueue: trials.deadLetterQueue,
      scheduleDeadLetterQueue: scheduling.deadLetterQueue,
      alarms: alarms.alarms,
    });

    new CfnOutput(this, 'ApiUrl', { value: http.url, description: 'Base URL of the API (stage included)' });
    new CfnOutput(this, 'DocsUrl', { value: `${http.url}docs`, description: 'Swagger UI' });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'DynamoDB table (retained on delete unless retain=false)' });
    new CfnOutput(this, 'TrialFinishedTopicArn', { value: notifications.topic.topicArn, description: 'SNS topic emailing finished trials to the /notification list' });
    new CfnOutput(this, 'QueueUrl', { value: trials.queue.queueUrl, description: 'FIFO trial queue' });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${dashboardName(settings.stage)}`,
      description: 'CloudWatch dashboard: API, queue, firings, trials, worker, alarms',
    });
    new CfnOutput(this, 'ScheduleGroupName', { value: scheduling.groupName, description: 'EventBridge Scheduler group holding one schedule per Kallisti schedule' });

    for (const fn of [watchdog.fn]) {
      fn.addEnvironment('POWERTOOLS_SERVICE_NAME', metricsServiceName(settings.stage));
      fn.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', METRICS_NAMESPACE);
    }
    for (const fn of [api, worker, reconciler.fn]) {
      // The `service` dimension of every metric both functions publish (lib/kallisti-metrics.ts).
      fn.addEnvironment('POWERTOOLS_SERVICE_NAME', metricsServiceName(settings.stage));
      fn.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', METRICS_NAMESPACE);
      // With the tracing flag: Powertools Tracer (loaded only then) adds a subsegment per step.
      if (settings.tracing) fn.addEnvironment('KALLISTI_TRACING', 'true');
      acknowledgeNag(fn.role, {
        id: wildcardResourceFinding(this, scheduling.schedulesArn),
        reason: "Schedule names are Kallisti schedule ids created at run time; the wildcard stays inside this stage's schedule group.",
      });
    }
    acknowledgeNag(api.role, {
      id: wildcardResourceFinding(this, `${table.tableArn}/index/*`),
      reason: "The API Queries the table's own indexes (gsi1-gsi4); DynamoDB names each index ARN under the table ARN.",
    });
    acknowledgeNag(worker.role, {
      id: wildcardResourceFinding(this, `${table.tableArn}/index/*`),
      reason: "The worker Queries the table's schedule index (a schedule's newest trial, for overlap skip); DynamoDB names each index ARN under the table ARN.",
    });
  }
}
