import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { TrialQueue } from '../../ports.js';

/** All work shares one message group, so the FIFO queue hands the worker one trial at a time, in order. */
export const MESSAGE_GROUP_ID = 'kallisti-trials';

export class SqsTrialQueue implements TrialQueue {
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
}

/** Builds the queue with its own client (once per container, at module scope of the entry). */
export function createSqsTrialQueue(queueUrl: string): SqsTrialQueue {
  return new SqsTrialQueue(new SQSClient({}), queueUrl);
}
