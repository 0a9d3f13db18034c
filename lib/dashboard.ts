import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FINAL_STATUSES } from '../functions/domain/trial.js';
import { FIRING_LAG_THRESHOLD, queueAgeThreshold } from './alarms.js';
import { kallistiMetric, kallistiSearch } from './kallisti-metrics.js';

export interface DashboardProps {
  stage: string;
  api: apigateway.RestApiBase;
  worker: lambda.IFunction;
  trialQueue: sqs.IQueue;
  trialDeadLetterQueue: sqs.IQueue;
  scheduleDeadLetterQueue: sqs.IQueue;
  alarms: cloudwatch.IAlarm[];
}

const PERIOD = Duration.minutes(5);

export function dashboardName(stage: string): string {
  return `kallisti-${stage}`;
}
const WIDTH = 12;
const HEIGHT = 6;

/**
 * One page that answers "is it healthy?": the API's errors and latency, the queue's
 * depth and age, both dead-letter queues, firing lag, trials by status and duration,
 * the worker, steps by command, slices and hand-offs, and the state of every alarm.
 */
export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { stage } = props;
    const k = (name: Parameters<typeof kallistiMetric>[1], options: Parameters<typeof kallistiMetric>[2] = {}) => kallistiMetric(stage, name, { period: PERIOD, ...options });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) => new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...extra });
    const queueMetric = (queue: sqs.IQueue, label: string) => queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: dashboardName(stage), defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph('API requests and errors', [props.api.metricCount({ period: PERIOD, label: 'requests' })], {
        right: [props.api.metricClientError({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: '4XX' }), props.api.metricServerError({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: '5XX' })],
      }),
      graph('API latency (ms)', [
        props.api.metricLatency({ period: PERIOD, statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        props.api.metricLatency({ period: PERIOD, statistic: cloudwatch.Stats.p(99), label: 'p99' }),
        props.api.metricIntegrationLatency({ period: PERIOD, statistic: cloudwatch.Stats.p(99), label: 'function p99' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Trial queue', [queueMetric(props.trialQueue, 'waiting'), props.trialQueue.metricApproximateNumberOfMessagesNotVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'running or handed back' })], {
        right: [props.trialQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'age of oldest (s)' })],
        rightAnnotations: [{ value: queueAgeThreshold().toSeconds(), label: 'alarm', color: cloudwatch.Color.RED }],
      }),
      graph('Dead-letter queues (messages)', [queueMetric(props.trialDeadLetterQueue, 'trial DLQ'), queueMetric(props.scheduleDeadLetterQueue, 'schedule DLQ')], {
        leftAnnotations: [{ value: 1, label: 'alarm', color: cloudwatch.Color.RED }],
      }),
    );
    this.dashboard.addWidgets(
      graph(
        'Trials finished by status',
        FINAL_STATUSES.map((status) => k('TrialsFinished', { dimensions: { Status: status }, label: status })),
        { stacked: true },
      ),
      graph(
        'Trial duration (ms)',
        [k('TrialDuration', { dimensions: { Status: 'Succeeded' }, statistic: cloudwatch.Stats.p(50), label: 'Succeeded p50' }), k('TrialDuration', { dimensions: { Status: 'Succeeded' }, statistic: cloudwatch.Stats.MAXIMUM, label: 'Succeeded max' }), k('TrialDuration', { dimensions: { Status: 'Failed' }, statistic: cloudwatch.Stats.MAXIMUM, label: 'Failed max' })],
      ),
    );
    this.dashboard.addWidgets(
      graph('Firing lag (ms)', [k('FiringLag', { statistic: cloudwatch.Stats.p(50), label: 'p50' }), k('FiringLag', { statistic: cloudwatch.Stats.MAXIMUM, label: 'max' })], {
        leftAnnotations: [{ value: FIRING_LAG_THRESHOLD.toMilliseconds(), label: 'alarm', color: cloudwatch.Color.RED }],
      }),
      graph('Firings by outcome', [kallistiSearch(stage, 'Firings', 'Outcome', cloudwatch.Stats.SUM)], { stacked: true }),
    );
    this.dashboard.addWidgets(
      graph('Worker', [props.worker.metricDuration({ period: PERIOD, statistic: cloudwatch.Stats.p(50), label: 'duration p50 (ms)' }), props.worker.metricDuration({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'duration max (ms)' })], {
        right: [props.worker.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: 'errors' }), props.worker.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM, label: 'throttles' })],
      }),
      graph('Step duration by command, p90 (ms)', [kallistiSearch(stage, 'StepDuration', 'Module', cloudwatch.Stats.p(90))]),
    );
    this.dashboard.addWidgets(
      graph('Slices per trial and queue hand-offs', [k('TrialSlices', { statistic: cloudwatch.Stats.AVERAGE, label: 'slices per trial (avg)' }), k('TrialSlices', { statistic: cloudwatch.Stats.MAXIMUM, label: 'slices per trial (max)' })], {
        right: [k('QueueHandOffs', { label: 'hand-offs' }), k('OverdueTrials', { label: 'overdue trials' })],
      }),
      graph('Failed steps by command, HTTP step errors by kind', [kallistiSearch(stage, 'StepsFailed', 'Module', cloudwatch.Stats.SUM), kallistiSearch(stage, 'HttpStepErrors', 'Kind', cloudwatch.Stats.SUM)], { stacked: true }),
    );
  }
}
