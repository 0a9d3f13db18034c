import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsTrialQueue } from '../../functions/adapters/sqs/sqs-trial-queue.js';

const sqs = mockClient(SQSClient);
const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/kallisti-trials.fifo';

afterEach(() => sqs.reset());

describe('SqsTrialQueue', () => {
  it('sends a trial to the single message group, deduplicated by its id', async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsTrialQueue(new SQSClient({}), URL).enqueue('t-1');
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: URL, MessageBody: '{"trial_id":"t-1"}', MessageGroupId: 'kallisti-trials', MessageDeduplicationId: 't-1' });
  });

  it("sends the watchdog's recovery delivery to a group of its own, deduplicated per takeover", async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsTrialQueue(new SQSClient({}), URL).enqueueRecovery('t-1', '2024-05-01T12:20:00.000Z');
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: URL,
      MessageBody: '{"trial_id":"t-1","recovery":true}',
      MessageGroupId: 'kallisti-recovery',
      MessageDeduplicationId: 't-1:recover:2024-05-01T12:20:00.000Z',
    });
  });

  it('changes the visibility of a received message, within 0 to 43,200 seconds', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const queue = new SqsTrialQueue(new SQSClient({}), URL);
    await queue.setVisibility('receipt-1', 14.2);
    await queue.setVisibility('receipt-1', 90_000);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: URL, ReceiptHandle: 'receipt-1', VisibilityTimeout: 15 },
      { QueueUrl: URL, ReceiptHandle: 'receipt-1', VisibilityTimeout: 43_200 },
    ]);
  });

  it('wakes a parked message by making it visible now, and ignores one no longer in flight', async () => {
    const queue = new SqsTrialQueue(new SQSClient({}), URL);
    sqs.on(ChangeMessageVisibilityCommand).resolvesOnce({}).rejectsOnce(Object.assign(new Error('Message does not exist or is not available for visibility timeout change.'), { name: 'MessageNotInflight' })).rejects(new Error('throttled'));
    await queue.wake('t-1', 'receipt-1');
    await expect(queue.wake('t-1', 'receipt-1')).resolves.toBeUndefined();
    await expect(queue.wake('t-1', 'receipt-1')).rejects.toThrow('throttled');
    await queue.wake('t-1', undefined);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({ QueueUrl: URL, ReceiptHandle: 'receipt-1', VisibilityTimeout: 0 });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(3);
  });

  it('is empty only when no message is visible, in flight or delayed', async () => {
    const queue = new SqsTrialQueue(new SQSClient({}), URL);
    sqs.on(GetQueueAttributesCommand).resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '0' } }).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' } });
    await expect(queue.isEmpty()).resolves.toBe(false);
    await expect(queue.isEmpty()).resolves.toBe(true);
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input).toEqual({ QueueUrl: URL, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] });
  });
});
