import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsTrialQueue } from '../../functions/adapters/sqs/sqs-trial-queue.js';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

describe('SqsTrialQueue', () => {
  it('sends { trial_id } in the one message group, deduplicated by trial id', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/kallisti-dev-trials.fifo';
    await new SqsTrialQueue(new SQSClient({ region: 'eu-west-1' }), url).enqueue('5f2c8c1e-3f0a-4b9e-9a51-0d5d2c7e8b41');
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: url,
        MessageBody: '{"trial_id":"5f2c8c1e-3f0a-4b9e-9a51-0d5d2c7e8b41"}',
        MessageGroupId: 'kallisti-trials',
        MessageDeduplicationId: '5f2c8c1e-3f0a-4b9e-9a51-0d5d2c7e8b41',
      },
    ]);
  });

  it('lets a send failure reach the caller (the trial is then recorded Aborted)', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('AccessDenied'));
    await expect(new SqsTrialQueue(new SQSClient({ region: 'eu-west-1' }), 'u').enqueue('t')).rejects.toThrow('AccessDenied');
  });
});
