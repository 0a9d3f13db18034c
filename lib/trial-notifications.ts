import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { TRIAL_FINISHED_DETAIL_TYPE, TRIAL_FINISHED_SOURCE } from '../functions/domain/trial-finished.js';
import { acknowledgeNag } from './nag.js';

export interface TrialNotificationsProps {
  stage: string;
}

const field = (path: string): string => events.EventField.fromPath(`$.detail.${path}`);

/**
 * Trial-finished events: the worker puts each on the account's default event bus
 * (`source` kallisti, `detail-type` Trial Finished), where anyone can add rules;
 * one rule here forwards them, as a short text, to an SNS topic whose email
 * subscriptions follow `PUT /notification`.
 */
export class TrialNotifications extends Construct {
  readonly bus: events.IEventBus;
  readonly topic: sns.Topic;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: TrialNotificationsProps) {
    super(scope, id);
    this.bus = events.EventBus.fromEventBusName(this, 'Bus', 'default');
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `kallisti-${props.stage}-trial-finished`,
      displayName: 'Kallisti',
      enforceSSL: true,
    });
    acknowledgeNag(this.topic, {
      id: 'AwsSolutions-SNS2',
      reason: 'The topic carries trial ids, statuses and experiment ids, never parameters or records; EventBridge can only publish to an SSE topic through a customer managed key, which this stack does not add for that.',
    });
    this.rule = new events.Rule(this, 'Rule', {
      eventBus: this.bus,
      description: `Kallisti ${props.stage}: email every finished trial to the /notification list`,
      eventPattern: { source: [TRIAL_FINISHED_SOURCE], detailType: [TRIAL_FINISHED_DETAIL_TYPE], account: [Stack.of(this).account] },
      targets: [
        new targets.SnsTopic(this.topic, {
          message: events.RuleTargetInput.fromText(
            `Kallisti trial ${field('id')} of experiment ${field('experiment')} finished ${field('status')} at ${field('completed_at')} (schedule: ${field('schedule')}, initiated by ${field('initiated_by')}).`,
          ),
        }),
      ],
    });
  }

  /** The worker puts trial-finished events on the bus, and nothing else. */
  grantPutEvents(fn: lambda.IFunction): void {
    this.bus.grantPutEventsTo(fn);
  }

  /** The API keeps the topic's email subscriptions in step with `/notification`. */
  grantSubscriptionSync(fn: lambda.IFunction): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:ListSubscriptionsByTopic', 'sns:Subscribe'], resources: [this.topic.topicArn] }));
    // sns:Unsubscribe has no resource type (Service Authorization Reference): it takes the subscription ARN, authorized for "*".
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Unsubscribe'], resources: ['*'] }));
    if (fn.role) {
      acknowledgeNag(fn.role, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'sns:Unsubscribe takes a subscription ARN and has no resource type in the Service Authorization Reference; it is granted on "*" alone in its statement, to remove addresses dropped from /notification (with tracing, X-Ray\'s two actions also need "*"; the stack test checks no other action gets it).',
      });
    }
  }
}
