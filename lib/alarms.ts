import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { kallistiMetric } from './kallisti-metrics.js';
import { acknowledgeNag } from './nag.js';
import { WORKER_TIMEOUT } from './trial-queue.js';

export interface AlarmsProps {
  stage: string;
  trialQueue: sqs.IQueue;
  trialDeadLetterQueue: sqs.IQueue;
  scheduleDeadLetterQueue: sqs.IQueue;
  worker: lambda.IFunction;
  /** The schedule reconciler (lib/reconciler.ts). */
  reconciler: lambda.IFunction;
  /** The watchdog (lib/watchdog.ts). */
  watchdog: lambda.IFunction;
  api: apigateway.RestApiBase;
  /** When given, every alarm (and its recovery) is sent to this address. */
  email?: string;
  /** When given, every alarm (and its recovery) is also published to this existing SNS topic. */
  topicArn?: string;
}

const PERIOD = Duration.minutes(5);

/** The API's 5XX share above which its alarm fires: 1 % of requests over five minutes. */
export const API_5XX_RATE_THRESHOLD = 0.01;

/** A schedule firing received later than this after its scheduled time is late. */
export const FIRING_LAG_THRESHOLD = Duration.minutes(2);

/**
 * The oldest message of the trial queue may legitimately wait for the message ahead of
 * it, i.e. one worker invocation (a slice, at most the worker's timeout). Older than
 * that plus a margin for delivery, and the queue is stuck.
 */
export function queueAgeThreshold(): Duration {
  return Duration.seconds(WORKER_TIMEOUT.toSeconds() + 5 * 60);
}

/**
 * What an operator must hear about: a trial or firing that was given up on (a message
 * in either dead-letter queue), a worker that fails or is throttled, an API that
 * answers 5XX (which, by the API's contract, means a bug or an unavailable dependency),
 * a stuck queue, late firings and overdue trials. docs/operations.md says what to do
 * when each fires.
 */
export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The topic created for `email`. */
  readonly topic?: sns.Topic;
  /** Every topic the alarms notify. */
  readonly topics: sns.ITopic[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const prefix = `kallisti-${props.stage}`;

    const atLeastOne = (name: string, metric: cloudwatch.IMetric, description: string) =>
      this.add(name, {
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description,
      });

    atLeastOne(
      `${prefix}-trial-dlq`,
      props.trialDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
      'A trial or schedule firing was received 1,000 times (every slice of a long trial is a receive) and moved to the trial dead-letter queue; it will not run until redriven, and the watchdog ends its trial.',
    );
    atLeastOne(
      `${prefix}-schedule-dlq`,
      props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
      'EventBridge Scheduler could not deliver a schedule firing to the trial queue; that firing did not start a trial.',
    );
    atLeastOne(`${prefix}-worker-errors`, props.worker.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }), 'The worker function failed (an error or a timeout); the message will be retried.');
    atLeastOne(`${prefix}-worker-throttles`, props.worker.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM }), 'The worker function was throttled; trials are waiting.');
    this.add(`${prefix}-api-5xx`, {
      metric: props.api.metricServerError({ period: PERIOD, statistic: cloudwatch.Stats.AVERAGE }),
      threshold: API_5XX_RATE_THRESHOLD,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: 'More than 1% of API requests answered 5XX over five minutes.',
    });

    this.add(`${prefix}-queue-age`, {
      metric: props.trialQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: queueAgeThreshold().toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The oldest message of the trial queue has waited longer than one worker invocation (${queueAgeThreshold().toMinutes()} min): the queue is stuck behind a message that keeps failing or a worker that cannot run.`,
    });
    this.add(`${prefix}-firing-lag`, {
      metric: kallistiMetric(props.stage, 'FiringLag', { statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD }),
      threshold: FIRING_LAG_THRESHOLD.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `A schedule firing reached the worker more than ${FIRING_LAG_THRESHOLD.toMinutes()} minutes after its scheduled time: scheduled trials are starting late.`,
    });
    // Reconciliation runs every 15 minutes and records every kind each run (0 when in line).
    const driftPeriod = Duration.minutes(15);
    const drift = (kind: string) => kallistiMetric(props.stage, 'ScheduleDrift', { dimensions: { Kind: kind }, statistic: cloudwatch.Stats.SUM, period: driftPeriod });
    atLeastOne(
      `${prefix}-schedule-drift`,
      new cloudwatch.MathExpression({
        expression: 'FILL(orphan, 0) + FILL(missing, 0) + FILL(stale, 0) + FILL(cascaded, 0)',
        usingMetrics: { orphan: drift('orphan'), missing: drift('missing'), stale: drift('stale'), cascaded: drift('cascaded') },
        label: 'Schedule drift found',
        period: driftPeriod,
      }),
      'Schedule reconciliation found the schedule group and the table apart (orphan, missing or stale cloud schedules, or schedules of a deleted experiment) and repaired them; something made them part.',
    );
    atLeastOne(
      `${prefix}-reconciler-errors`,
      props.reconciler.metricErrors({ period: driftPeriod, statistic: cloudwatch.Stats.SUM }),
      'The schedule reconciler failed (an error or its timeout); that run repaired nothing, the next one starts again.',
    );
    atLeastOne(
      `${prefix}-overdue-trials`,
      kallistiMetric(props.stage, 'OverdueTrials', { statistic: cloudwatch.Stats.SUM, period: PERIOD }),
      'The watchdog found a trial that could no longer progress (its queue message lost, or no worker past its slice) and ended it with the reason (post steps run by a recovery delivery); whatever held it up needs a look.',
    );
    atLeastOne(
      `${prefix}-watchdog-errors`,
      props.watchdog.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'The watchdog failed (an error or its timeout): trials that cannot progress are not being ended; the next run, 5 minutes later, tries again.',
    );
    // A failed message is a batch item failure, not a Lambda error: the worker counts them itself.
    const failures = (outcome: string) => kallistiMetric(props.stage, 'MessageFailures', { dimensions: { Outcome: outcome }, statistic: cloudwatch.Stats.SUM, period: PERIOD });
    atLeastOne(
      `${prefix}-message-failures`,
      new cloudwatch.MathExpression({ expression: 'FILL(retried, 0) + FILL(given_up, 0)', usingMetrics: { retried: failures('retried'), given_up: failures('given_up') }, label: 'Failed queue messages', period: PERIOD }),
      'The worker failed to handle a queue message (a store or network error): it is retried after 15 s, 30 s, 60 s… and given up after 8 failures, when the watchdog ends its trial. The group waits meanwhile.',
    );

    if (props.email !== undefined) {
      this.topic = new sns.Topic(this, 'Topic', { displayName: `Kallisti ${props.stage} alarms`, enforceSSL: true });
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      acknowledgeNag(this.topic, {
        id: 'AwsSolutions-SNS2',
        reason: "Alarm notifications carry no data beyond the alarm's name and state; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key only for this would add cost and a key policy to maintain.",
      });
      this.topics.push(this.topic);
    }
    if (props.topicArn !== undefined) this.topics.push(sns.Topic.fromTopicArn(this, 'ExternalTopic', props.topicArn));
    for (const topic of this.topics) {
      const action = new actions.SnsAction(topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }

  private add(name: string, props: { metric: cloudwatch.IMetric; threshold: number; comparisonOperator: cloudwatch.ComparisonOperator; description: string }): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, name, {
        metric: props.metric,
        threshold: props.threshold,
        comparisonOperator: props.comparisonOperator,
        alarmName: name,
        alarmDescription: props.description,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
