import { ListSubscriptionsByTopicCommand, SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SnsEmailSubscriptions } from '../../functions/adapters/sns/email-subscriptions.js';
import { DependencyError } from '../../functions/domain/errors.js';
import { makeNotificationUseCases } from '../../functions/use-cases/notification.js';
import type { NotificationSettings, NotificationStore } from '../../functions/ports.js';
import { FakeClock } from '../support/memory-stores.js';

const sns = mockClient(SNSClient);
afterEach(() => sns.reset());

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:kallisti-dev-trial-finished';
const sub = (endpoint: string, arn: string) => ({ Protocol: 'email', Endpoint: endpoint, SubscriptionArn: arn, TopicArn: TOPIC, Owner: '123456789012' });

class MemoryNotificationStore implements NotificationStore {
  saved: (NotificationSettings & { updated_by: string })[] = [];
  async get(): Promise<NotificationSettings> {
    return { emails: this.saved.at(-1)?.emails ?? [] };
  }
  async put(settings: NotificationSettings & { updated_by: string; updated_at: string }): Promise<void> {
    this.saved.push(settings);
  }
}

describe('SnsEmailSubscriptions: the topic follows PUT /notification', () => {
  it('subscribes new addresses, unsubscribes removed confirmed ones, keeps the rest, across pages of subscriptions', async () => {
    sns
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: undefined })
      .resolves({ Subscriptions: [sub('keep@example.com', `${TOPIC}:1`), sub('gone@example.com', `${TOPIC}:2`)], NextToken: 'p2' })
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: 'p2' })
      .resolves({ Subscriptions: [sub('pending@example.com', 'PendingConfirmation'), { Protocol: 'https', Endpoint: 'https://hook.example.com', SubscriptionArn: `${TOPIC}:3` }] });
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: 'pending confirmation' });
    sns.on(UnsubscribeCommand).resolves({});

    const result = await new SnsEmailSubscriptions(new SNSClient({ region: 'eu-west-1' }), TOPIC).sync(['Keep@Example.com', 'new@example.com']);

    expect(sns.commandCalls(ListSubscriptionsByTopicCommand).map((c) => c.args[0].input)).toEqual([{ TopicArn: TOPIC, NextToken: undefined }, { TopicArn: TOPIC, NextToken: 'p2' }]);
    expect(sns.commandCalls(SubscribeCommand).map((c) => c.args[0].input)).toEqual([{ TopicArn: TOPIC, Protocol: 'email', Endpoint: 'new@example.com' }]);
    // Only the removed, confirmed email subscription goes; other protocols are not ours to touch.
    expect(sns.commandCalls(UnsubscribeCommand).map((c) => c.args[0].input)).toEqual([{ SubscriptionArn: `${TOPIC}:2` }]);
    expect(result).toEqual({ pendingRemoval: ['pending@example.com'] });
  });

  it('PUT /notification stores nothing and answers 503 when SNS refuses; stores the normalised list when it accepts', async () => {
    const store = new MemoryNotificationStore();
    const subscriptions = new SnsEmailSubscriptions(new SNSClient({ region: 'eu-west-1' }), TOPIC);
    const notification = makeNotificationUseCases({ store, subscriptions, clock: new FakeClock('2024-05-01T00:00:00.000Z') });

    sns.on(ListSubscriptionsByTopicCommand).rejects(new Error('Throttling'));
    await expect(notification.put({ emails: ['a@example.com'] }, { id: 'alice' })).rejects.toBeInstanceOf(DependencyError);
    expect(store.saved).toEqual([]);

    sns.reset();
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    sns.on(SubscribeCommand).resolves({});
    expect(await notification.put({ emails: [' a@example.com', 'A@example.com', 'b@example.com'] }, { id: 'alice' })).toEqual({ emails: ['a@example.com', 'b@example.com'] });
    expect(store.saved).toEqual([{ emails: ['a@example.com', 'b@example.com'], updated_by: 'alice', updated_at: '2024-05-01T00:00:00.000Z' }]);
    expect(sns.commandCalls(SubscribeCommand).map((c) => c.args[0].input.Endpoint)).toEqual(['a@example.com', 'b@example.com']);
  });
});
