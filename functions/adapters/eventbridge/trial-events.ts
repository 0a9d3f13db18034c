import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { TRIAL_FINISHED_DETAIL_TYPE, TRIAL_FINISHED_SOURCE, type TrialFinished } from '../../domain/trial-finished.js';
import type { TrialFinishedObserver } from '../../ports.js';

/** PutEvents refuses an entry of 256 KB or more (EventBridge user guide, "Calculating PutEvents event entry size"). */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** The entry's size as EventBridge counts it: Time is 14 bytes; Source, DetailType, Detail and each resource their UTF-8 bytes. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (entry.Time ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0);
}

/**
 * Publishes `Trial Finished` events to an EventBridge bus (rules on it can route
 * them anywhere: SNS, chat, a pipeline). The event's time is the trial's end.
 */
export class EventBridgeTrialObserver implements TrialFinishedObserver {
  readonly name = 'eventbridge';

  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  /** The entry for one event; labels too large for an entry (not possible within the input limits) are left out, and the event says so. */
  entry(event: TrialFinished): PutEventsRequestEntry {
    const base = { EventBusName: this.eventBusName, Source: TRIAL_FINISHED_SOURCE, DetailType: TRIAL_FINISHED_DETAIL_TYPE, ...(event.completed_at && { Time: new Date(event.completed_at) }) };
    const whole = { ...base, Detail: JSON.stringify(event) };
    if (entrySize(whole) < MAX_ENTRY_BYTES) return whole;
    return { ...base, Detail: JSON.stringify({ ...event, metadata: {}, ticket: {}, labels_omitted: true }) };
  }

  async trialFinished(event: TrialFinished): Promise<void> {
    const result = await this.client.send(new PutEventsCommand({ Entries: [this.entry(event)] }));
    // PutEvents answers 200 even when an entry was refused: the entry says why.
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.[0];
      throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }
}

export function createEventBridgeTrialObserver(eventBusName: string): EventBridgeTrialObserver {
  return new EventBridgeTrialObserver(new EventBridgeClient({}), eventBusName);
}
