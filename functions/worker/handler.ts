import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ConflictError, DependencyError, KallistiError } from '../domain/errors.js';
import { consoleLogger } from '../app-logger.js';
import type { ExecutorLogger, RunTrial } from '../executor/run-trial.js';
import type { ScheduleFiring } from '../ports.js';

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
  /** Epoch ms; tests replace it. */
  now?: () => number;
}

export const DEFAULT_SAFETY_MARGIN_MS = 60_000;
export const DEFAULT_MINIMUM_START_MS = 120_000;

/** A message that can never succeed: logged and acknowledged so it does not block the FIFO group. */
class PoisonMessage extends Error {}

/** Raised to hand a message back to the queue untouched; it reaches the batch response, not the trial. */
class NotEnoughTimeError extends Error {}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

type Message = { kind: 'trial'; trialId: string } | { kind: 'firing'; firing: ScheduleFiring };

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
  if (isNonEmptyString(fields['trial_id'])) return { kind: 'trial', trialId: fields['trial_id'] };
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

  return async (event, context) => {
    let handled = 0;

    const runTrial = async (trialId: string, messageId: string): Promise<void> => {
      const remaining = context.getRemainingTimeInMillis();
      if (handled > 1 && remaining < minimumStart) {
        throw new NotEnoughTimeError(`Only ${remaining} ms left in this invocation; message handed back to the queue`);
      }
      const result = await deps.runTrial(trialId, { deadline: now() + remaining - margin });
      logger.info('Trial message handled', { messageId, trialId, outcome: result.outcome, status: result.status });
    };

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      handled += 1;
      const messageId = record.messageId;
      try {
        const message = parseBody(record.body);
        if (message.kind === 'trial') return await runTrial(message.trialId, messageId);
        if (!deps.fireSchedule) throw new PoisonMessage('Schedule firings are not handled by this worker');
        const trialId = await deps.fireSchedule(message.firing);
        if (trialId === undefined) {
          logger.info('Schedule firing started no trial', { messageId, scheduleId: message.firing.schedule_id });
          return;
        }
        await runTrial(trialId, messageId);
      } catch (error) {
        if (isPermanent(error)) {
          logger.error('Message cannot be processed; acknowledged without retry', { messageId, error: (error as Error).message, body: record.body.slice(0, 500) });
          return;
        }
        if (error instanceof NotEnoughTimeError) logger.info(error.message, { messageId });
        else logger.error('Message failed; it will be retried', { messageId, error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    };

    // One processor per invocation: its state (records, failures) must not leak between calls.
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
  };
}
