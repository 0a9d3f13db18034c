import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MESSAGE_RETENTION } from './trial-queue.js';
import { acknowledgeNag } from './nag.js';

export type ScheduleAction = 'CreateSchedule' | 'UpdateSchedule' | 'DeleteSchedule';

export interface SchedulingProps {
  stage: string;
  /** The FIFO queue every schedule targets. */
  targetQueue: sqs.IQueue;
}

/** The schedule group name for a stage; the API creates one schedule per Kallisti schedule in it. */
export function scheduleGroupName(stage: string): string {
  return `kallisti-${stage}`;
}

/**
 * What EventBridge Scheduler needs for Kallisti's schedules: the group they live in,
 * the dead-letter queue for firings it cannot deliver, and the role it assumes to
 * deliver them, which may only send to the trial queue and that dead-letter queue.
 */
export class Scheduling extends Construct {
  readonly groupName: string;
  readonly group: scheduler.CfnScheduleGroup;
  /** Must be a standard queue: Scheduler does not accept a FIFO dead-letter queue. */
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SchedulingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.groupName = scheduleGroupName(props.stage);

    this.group = new scheduler.CfnScheduleGroup(this, 'Group', { name: this.groupName });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
    });
    acknowledgeNag(this.deadLetterQueue, {
      id: 'AwsSolutions-SQS3',
      reason: "This queue is EventBridge Scheduler's dead-letter queue for undeliverable firings; a dead-letter queue needs no dead-letter queue of its own.",
    });

    this.role = new iam.Role(this, 'Role', {
      description: `Lets EventBridge Scheduler deliver firings of the ${this.groupName} schedules to the trial queue`,
      // Confused-deputy protection: only schedules of this account's group may assume the role.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': this.groupArn,
          },
        },
      }),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [props.targetQueue.queueArn, this.deadLetterQueue.queueArn],
      }),
    );
  }

  /** `arn:…:scheduler:<region>:<account>:schedule-group/kallisti-<stage>` */
  get groupArn(): string {
    return Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: this.groupName });
  }

  /** Every schedule in the group: `arn:…:scheduler:<region>:<account>:schedule/kallisti-<stage>/*` */
  get schedulesArn(): string {
    return Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.groupName}/*` });
  }

  /**
   * Lets `grantee` call `actions` (e.g. `DeleteSchedule`) on the group's schedules only.
   * CreateSchedule and UpdateSchedule name the scheduler role in the schedule, so they
   * also need `iam:PassRole` on that role, and only towards EventBridge Scheduler.
   */
  grantScheduleActions(grantee: iam.IGrantable, actions: readonly ScheduleAction[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: actions.map((a) => `scheduler:${a}`), resources: [this.schedulesArn] }));
    if (actions.includes('CreateSchedule') || actions.includes('UpdateSchedule')) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [this.role.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }
  }
}
