import { ListSubscriptionsByTopicCommand, SNSClient, SubscribeCommand, UnsubscribeCommand, type Subscription } from '@aws-sdk/client-sns';
import type { EmailSubscriptions } from '../../ports.js';

/** SNS answers this instead of an ARN while an email address has not confirmed its subscription. */
const PENDING = 'PendingConfirmation';

const key = (email: string): string => email.trim().toLowerCase();

/**
 * The topic's email subscriptions follow the `/notification` list: addresses
 * added are subscribed (SNS emails each a confirmation link), addresses removed
 * are unsubscribed. Reads the topic's subscriptions each time, so a sync that
 * failed half-way is completed by the next one.
 */
export class SnsEmailSubscriptions implements EmailSubscriptions {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  private async current(): Promise<Subscription[]> {
    const all: Subscription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(new ListSubscriptionsByTopicCommand({ TopicArn: this.topicArn, NextToken }));
      all.push(...(page.Subscriptions ?? []).filter((s) => s.Protocol === 'email'));
      NextToken = page.NextToken;
    } while (NextToken);
    return all;
  }

  async sync(emails: readonly string[]): Promise<{ pendingRemoval: string[] }> {
    const wanted = new Set(emails.map(key));
    const subscriptions = await this.current();
    const present = new Set(subscriptions.map((s) => key(s.Endpoint ?? '')));
    for (const email of emails) {
      if (!present.has(key(email))) await this.client.send(new SubscribeCommand({ TopicArn: this.topicArn, Protocol: 'email', Endpoint: email }));
    }
    const pendingRemoval: string[] = [];
    for (const subscription of subscriptions) {
      if (wanted.has(key(subscription.Endpoint ?? ''))) continue;
      // A subscription pending confirmation cannot be deleted; SNS deletes it itself after 48 hours unless it is confirmed
      // (then the next sync unsubscribes it).
      if (!subscription.SubscriptionArn || subscription.SubscriptionArn === PENDING) {
        pendingRemoval.push(subscription.Endpoint ?? '');
        continue;
      }
      await this.client.send(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }));
    }
    return { pendingRemoval };
  }
}

export function createSnsEmailSubscriptions(topicArn: string): SnsEmailSubscriptions {
  return new SnsEmailSubscriptions(new SNSClient({}), topicArn);
}
