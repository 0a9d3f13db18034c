import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MessageVisibility, QueueProbe, RecoveryQueue, TrialQueue } from '../../ports.js';

/** All work shares one message group, so the FIFO queue hands the worker one trial at a time, in order. */
export const MESSAGE_GROUP_ID = 'kallisti-trials';

/**
 * The watchdog's recovery deliveries go in a group of their own: a trial it took over
 * has its post steps run at once by the same worker, rather than behind every trial
 * queued since its message was lost.
 */
export const RECOVERY_GROUP_ID = 'kallisti-recovery';

/** ChangeMessageVisibility accepts 0 to 43,200 seconds (12 hours). */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** The message is no longer in flight (deleted, or already visible again), or the handle is stale: nothing left to change. */
function isGone(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return ['MessageNotInflight', 'ReceiptHandleIsInvalid', 'AWS.SimpleQueueService.MessageNotInflight', 'InvalidParameterValue'].includes(error.name);
}

export class SqsTrialQueue implements TrialQueue, MessageVisibility, QueueProbe, RecoveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(trialId: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ trial_id: trialId }),
        MessageGroupId: MESSAGE_GROUP_ID,
        // The trial id makes a retried send of the same trial a no-op within SQS's 5-minute window.
        MessageDeduplicationId: trialId,
      }),
    );
  }

  async enqueueRecovery(trialId: string, key: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ trial_id: trialId, recovery: true }),
        MessageGroupId: RECOVERY_GROUP_ID,
        // One takeover, one delivery: a watchdog run repeated within SQS's 5-minute window sends nothing more.
        MessageDeduplicationId: `${trialId}:recover:${key}`.slice(0, 128),
      }),
    );
  }

  async setVisibility(receipt: string, seconds: number): Promise<void> {
    const timeout = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(seconds)));
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt, VisibilityTimeout: timeout }));
  }

  async wake(_trialId: string, receipt: string | undefined): Promise<void> {
    if (receipt === undefined) return;
    try {
      await this.setVisibility(receipt, 0);
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  /** Approximate counts (SQS says they may lag by about a minute): callers only act on a long-lasting zero. */
  async isEmpty(): Promise<boolean> {
    const { Attributes = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'].every((name) => Number(Attributes[name as keyof typeof Attributes] ?? '0') === 0);
  }
}

/** Builds the queue with its own client (once per container, at module scope of the entry). */
export function createSqsTrialQueue(queueUrl: string): SqsTrialQueue {
  return new SqsTrialQueue(new SQSClient({}), queueUrl);
}
