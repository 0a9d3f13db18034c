import { DependencyError } from '../domain/errors.js';
import type { AppLogger } from '../app-logger.js';
import type { Caller, Clock, EmailSubscriptions, NotificationSettings, NotificationStore } from '../ports.js';

export interface NotificationDeps {
  store: NotificationStore;
  /** The email subscriptions of the trial-finished topic (AWS); absent locally, where the list is only stored. */
  subscriptions?: EmailSubscriptions;
  clock: Clock;
  logger?: AppLogger;
}

/** Addresses compare without case or surrounding spaces; the first spelling is kept. */
function normalise(emails: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of emails) {
    const email = raw.trim();
    const key = email.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(email);
  }
  return out;
}

export function makeNotificationUseCases(deps: NotificationDeps) {
  return {
    get(): Promise<NotificationSettings> {
      return deps.store.get();
    },

    /**
     * 1. Subscriptions first: the topic's email subscriptions follow the list
     *    (new addresses receive a confirmation email). If SNS refuses, nothing
     *    is stored and the caller gets a 503; the sync reads the topic each
     *    time, so the next PUT completes it.
     * 2. Store the list.
     */
    async put(input: NotificationSettings, caller: Caller): Promise<NotificationSettings> {
      const emails = normalise(input.emails);
      if (deps.subscriptions) {
        try {
          const { pendingRemoval } = await deps.subscriptions.sync(emails);
          if (pendingRemoval.length > 0) deps.logger?.info('Unconfirmed email subscriptions cannot be removed; SNS drops them unless confirmed', { count: pendingRemoval.length });
        } catch (error) {
          throw new DependencyError('The notification topic refused the subscription change; nothing was stored. Try again.', { cause: error });
        }
      }
      await deps.store.put({ emails, updated_by: caller.id, updated_at: deps.clock.now().toISOString() });
      return { emails };
    },
  };
}

export type NotificationUseCases = ReturnType<typeof makeNotificationUseCases>;
