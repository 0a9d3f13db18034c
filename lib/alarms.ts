import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag.js';

export interface AlarmsProps {
  stage: string;
  trialDeadLetterQueue: sqs.IQueue;
  scheduleDeadLetterQueue: sqs.IQueue;
  worker: lambda.IFunction;
  api: apigateway.RestApiBase;
  /** When given, every alarm (and its recovery) is sent to this address. */
  email?: string;
}

const PERIOD = Duration.minutes(5);

/** The API's 5XX share above which its alarm fires: 1 % of requests over five minutes. */
export const API_5XX_RATE_THRESHOLD = 0.01;

/**
 * What an operator must hear about: a trial or firing that was given up on (a message
 * in either dead-letter queue), a worker that fails or is throttled, and an API that
 * answers 5XX (which, by the API's contract, means a bug or an unavailable dependency).
 */
export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly topic?: sns.Topic;

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
      'A trial or schedule firing failed 5 times and was moved to the trial dead-letter queue; it will not run until redriven.',
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

    if (props.email !== undefined) {
      this.topic = new sns.Topic(this, 'Topic', { displayName: `Kallisti ${props.stage} alarms`, enforceSSL: true });
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      acknowledgeNag(this.topic, {
        id: 'AwsSolutions-SNS2',
        reason: "Alarm notifications carry no data beyond the alarm's name and state; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key only for this would add cost and a key policy to maintain.",
      });
      const action = new actions.SnsAction(this.topic);
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
