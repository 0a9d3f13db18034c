/**
 * How long the worker hands a message back for. SQS documents a message's
 * visibility timeout as at most 12 hours from when it was received, and
 * ChangeMessageVisibility as 0 to 43,200 seconds.
 */
export const MAX_IN_FLIGHT_MS = 12 * 60 * 60 * 1000;
/** Kept from the 12 hours: the message was received a little before the invocation started. */
const IN_FLIGHT_MARGIN_MS = 5 * 60 * 1000;

/**
 * Seconds until a parked trial's message should be delivered again: when it can go on,
 * but never past SQS's 12 hours; a longer wait is handed back again when it comes back.
 */
export function handBackSeconds(resumeAt: number, now: number, invokedAt: number): number {
  const wanted = Math.max(0, resumeAt - now);
  const allowed = Math.max(0, MAX_IN_FLIGHT_MS - IN_FLIGHT_MARGIN_MS - (now - invokedAt));
  return Math.ceil(Math.min(wanted, allowed) / 1000);
}

/** Retry delays after a transient failure: 15 s, 30 s, 60 s… up to 15 minutes. */
export const BACKOFF_BASE_SECONDS = 15;
export const BACKOFF_MAX_SECONDS = 900;
/**
 * Consecutive failures of one message before it is acknowledged so the group can go on
 * (its trial is then ended by the watchdog). The sum of the backoffs is about an hour.
 */
export const MAX_CONSECUTIVE_FAILURES = 8;

export function backoffSeconds(attempt: number): number {
  return Math.min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempt - 1));
}

/**
 * Consecutive failures per message id. SQS's receive count cannot say this: every
 * slice of a long trial is a receive too. Kept in the container (the worker runs one
 * at a time and stays warm between retries); a cold start begins again at 15 s, which
 * only makes the retries sooner.
 */
export class FailureMemo {
  private readonly counts = new Map<string, number>();

  record(messageId: string): number {
    const count = (this.counts.get(messageId) ?? 0) + 1;
    this.counts.set(messageId, count);
    if (this.counts.size > 1000) this.counts.delete(this.counts.keys().next().value as string);
    return count;
  }

  clear(messageId: string): void {
    this.counts.delete(messageId);
  }
}
