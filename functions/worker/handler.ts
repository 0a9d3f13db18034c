import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ConflictError, DependencyError, KallistiError } from '../domain/errors.js';
import { consoleLogger } from '../app-logger.js';
import type { ExecutorLogger, RunTrial } from '../executor/run-trial.js';
import type { MessageVisibility, ScheduleFiring } from '../ports.js';
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import { backoffSeconds, FailureMemo, handBackSeconds, MAX_CONSECUTIVE_FAILURES } from './hand-back.js';

export type { ScheduleFiring };

export interface WorkerHandlerDeps {
  runTrial: RunTrial;
  /** Creates (once per firing) the trial a schedule firing asks for; returns its id, or undefined when nothing is to run. */
  fireSchedule?: (firing: ScheduleFiring) => Promise<string | undefined>;
  logger?: ExecutorLogger;
  /** Time kept back from the Lambda's remaining time for post steps and the final write (default 60 s). */
  safetyMarginMs?: number;
  /**
   * A message after the first in a batch is handed back to the queue (with every
   * later one) when less than this is left, rather than started only to fail for
   * want of time (default 120 s). The first message of an invocation always runs.
   */
  minimumStartMs?: number;
  /**
   * The hold on received messages (SQS ChangeMessageVisibility): a parked trial's message
   * comes back when the trial can go on, a failed one after a short backoff. Without it
   * both come back after the queue's visibility timeout.
   */
  visibility?: MessageVisibility;
  /** Consecutive failures of one message kept across invocations of a warm container. */
  failures?: FailureMemo;
  /** Epoch ms; tests replace it. */
  now?: () => number;
  /** Counts messages that failed (retried after a backoff, or given up): a batch item failure is no Lambda error, so no other metric sees them. */
  metrics?: Metrics;
}

export const DEFAULT_SAFETY_MARGIN_MS = 60_000;
export const DEFAULT_MINIMUM_START_MS = 120_000;

/** A message that can never succeed: logged and acknowledged so it does not block the FIFO group. */
class PoisonMessage extends Error {}

/** Raised to hand a message back to the queue untouched; it reaches the batch response, not the trial. */
class NotEnoughTimeError extends Error {}

/** Raised once a parked trial's message has been handed back: not a failure, but it must not be deleted. */
class HandedBack extends Error {}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

type Message = { kind: 'trial'; trialId: string; recovery: boolean } | { kind: 'firing'; firing: ScheduleFiring };

function parseBody(body: string): Message {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new PoisonMessage('Message body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PoisonMessage('Message body is not a JSON object');
  const fields = parsed as Record<string, unknown>;
  if (fields['kind'] === 'schedule-firing') {
    const { schedule_id, experiment_id, schedule_arn, scheduled_time, generation } = fields;
    if (!isNonEmptyString(schedule_id) || !isNonEmptyString(experiment_id) || !isNonEmptyString(schedule_arn) || !isNonEmptyString(scheduled_time)) {
      throw new PoisonMessage('Schedule firing lacks schedule_id, experiment_id, schedule_arn or scheduled_time');
    }
    // Cloud schedules armed before generations existed send none: generation 0.
    if (generation !== undefined && !(typeof generation === 'number' && Number.isSafeInteger(generation) && generation >= 0)) {
      throw new PoisonMessage('Schedule firing has a generation that is not a non-negative integer');
    }
    const firing: ScheduleFiring = { kind: 'schedule-firing', schedule_id, experiment_id, schedule_arn, scheduled_time, ...(generation !== undefined && { generation }) };
    return { kind: 'firing', firing };
  }
  // `recovery: true`: the watchdog's delivery running the recovery of a trial it took over.
  if (isNonEmptyString(fields['trial_id'])) return { kind: 'trial', trialId: fields['trial_id'], recovery: fields['recovery'] === true };
  throw new PoisonMessage('Message body has neither trial_id nor kind "schedule-firing"');
}

/**
 * Errors a retry cannot fix (the request itself is wrong or its target is gone).
 * Store and network failures, conflicts and dependency errors are worth retrying.
 */
function isPermanent(error: unknown): boolean {
  return error instanceof PoisonMessage || (error instanceof KallistiError && !(error instanceof DependencyError) && !(error instanceof ConflictError));
}


/**
 * The SQS FIFO consumer: one message at a time, in order. A failure is reported for
 * that message and every later one in the batch (SqsFifoPartialProcessorAsync), so
 * nothing overtakes a message that will be retried.
 */
export function makeWorkerHandler(deps: WorkerHandlerDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const logger = deps.logger ?? consoleLogger;
  const margin = deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  const minimumStart = deps.minimumStartMs ?? DEFAULT_MINIMUM_START_MS;
  const now = deps.now ?? Date.now;
  const failures = deps.failures ?? new FailureMemo();
  const metrics = deps.metrics ?? noMetrics;

  /** Best effort: when it fails the message comes back after the queue's visibility timeout instead. */
  const setVisibility = async (record: SQSRecord, seconds: number, why: string): Promise<boolean> => {
    if (!deps.visibility) return false;
    try {
      await deps.visibility.setVisibility(record.receiptHandle, seconds);
      return true;
    } catch (error) {
      logger.warn('Could not change the visibility of a message; it comes back after the queue visibility timeout', { messageId: record.messageId, why, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  };

  return async (event, context) => {
    const invokedAt = now();
    let handled = 0;
    const started = new Set<string>();

    const runTrial = async (trialId: string, record: SQSRecord, recovery = false): Promise<void> => {
      const remaining = context.getRemainingTimeInMillis();
      if (handled > 1 && remaining < minimumStart) {
        throw new NotEnoughTimeError(`Only ${remaining} ms left in this invocation; message handed back to the queue`);
      }
      // A message received for the first time carries a trial not yet started (a parked trial's message comes back with a higher count).
      const firstDelivery = !recovery && record.attributes?.ApproximateReceiveCount === '1';
      const result = await deps.runTrial(trialId, { deadline: now() + remaining - margin, receipt: record.receiptHandle, ...(recovery && { recovery }), ...(firstDelivery && { firstDelivery }) });
      failures.clear(record.messageId);
      if (result.outcome === 'parked') {
        const seconds = handBackSeconds(result.resumeAt, now(), invokedAt);
        await setVisibility(record, seconds, 'hand back a parked trial');
        logger.info('Trial parked; its message is handed back to the queue', { messageId: record.messageId, trialId, visibleInSeconds: seconds });
        throw new HandedBack(`Trial ${trialId} parked for ${seconds} s`);
      }
      logger.info('Trial message handled', { messageId: record.messageId, trialId, outcome: result.outcome, status: result.status });
    };

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      handled += 1;
      started.add(record.messageId);
      const messageId = record.messageId;
      try {
        const message = parseBody(record.body);
        if (message.kind === 'trial') return await runTrial(message.trialId, record, message.recovery);
        if (!deps.fireSchedule) throw new PoisonMessage('Schedule firings are not handled by this worker');
        // SentTimestamp: when Scheduler sent the firing, its scheduled time plus any flexible-window delay.
        const sent = Number(record.attributes?.SentTimestamp);
        const firing = Number.isFinite(sent) && sent > 0 ? { ...message.firing, fired_at: new Date(sent).toISOString() } : message.firing;
        const trialId = await deps.fireSchedule(firing);
        if (trialId === undefined) {
          logger.info('Schedule firing started no trial', { messageId, scheduleId: message.firing.schedule_id });
          return;
        }
        await runTrial(trialId, record);
      } catch (error) {
        if (error instanceof HandedBack) throw error;
        if (isPermanent(error)) {
          logger.error('Message cannot be processed; acknowledged without retry', { messageId, error: (error as Error).message, body: record.body.slice(0, 500) });
          return;
        }
        if (error instanceof NotEnoughTimeError) {
          logger.info(error.message, { messageId });
          await setVisibility(record, 0, 'hand back an unstarted message');
          throw error;
        }
        const attempt = failures.record(messageId);
        const reason = error instanceof Error ? error.message : String(error);
        if (attempt > MAX_CONSECUTIVE_FAILURES) {
          // The group must not stay blocked: the message goes, and the watchdog ends its trial with the reason.
          failures.clear(messageId);
          metrics.record('MessageFailures', 1, { Outcome: 'given_up' });
          logger.error('Message given up after repeated failures; acknowledged so the queue moves on', { messageId, attempts: attempt - 1, error: reason, body: record.body.slice(0, 500) });
          return;
        }
        metrics.record('MessageFailures', 1, { Outcome: 'retried' });
        const delay = backoffSeconds(attempt);
        await setVisibility(record, delay, 'back off after a failure');
        logger.error('Message failed; it will be retried', { messageId, attempt, retryInSeconds: delay, error: reason });
        throw error;
      }
    };

    // One processor per invocation: its state (records, failures) must not leak between calls.
    const processor = new SqsFifoPartialProcessorAsync();
    const response = await processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
    // Messages after a failure or hand-back were not started: make them visible again now, so
    // they run as soon as the group's head allows instead of after the visibility timeout.
    for (const record of event.Records) if (!started.has(record.messageId)) await setVisibility(record, 0, 'hand back an unstarted message');
    return response;
  };
}
