import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Lambda's maximum timeout, given to the worker: one trial may use all of it. */
export const WORKER_TIMEOUT = Duration.minutes(15);

/**
 * Lambda refuses an event source mapping whose function timeout exceeds the queue's
 * visibility timeout. AWS's general advice is six times the function timeout, as a
 * margin for throttled retries; here one message group and reserved concurrency 1
 * mean no throttling, while a failed message holds back every later trial for the
 * whole timeout. So: the function timeout plus one minute for the runtime to finish.
 */
export const QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(WORKER_TIMEOUT.toSeconds() + 60);

/**
 * Every slice hand-off of a long trial is one more receive of the same message, so
 * the redrive count must not cut a trial short: SQS's maximum. The worker counts a
 * message's consecutive failures itself and lets a poison message go after a few.
 */
export const MAX_RECEIVE_COUNT = 1000;

export const MESSAGE_RETENTION = Duration.days(14);

/**
 * The FIFO queue that orders all work (API-created trials and schedule firings) for the
 * one worker, with its FIFO dead-letter queue (a FIFO queue's DLQ must be FIFO).
 */
export class TrialQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MESSAGE_RETENTION,
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      // EventBridge Scheduler gives no deduplication id, so a FIFO target must deduplicate by content.
      contentBasedDeduplication: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: QUEUE_VISIBILITY_TIMEOUT,
      retentionPeriod: MESSAGE_RETENTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
