import type { JsonObject } from '../../domain/types.js';
import { suspend, type StepContext, type StepSuspension } from '../types.js';
import { awsSettings } from './settings.js';

/**
 * Steps that start something in AWS and wait until it ends (an FIS experiment, an SSM
 * command) are resumable: one call polls for at most POLL_IN_SLICE_MS, then hands the
 * trial back to the queue until the next poll is due, so a wait of any length (a
 * 30-minute experiment) never outlives a worker invocation.
 */
export const POLL_IN_SLICE_MS = 60_000;
/** A call starts something only with this much of the slice left; otherwise it starts in the next slice. */
export const START_MARGIN_MS = 30_000;
/** Kept before the slice's end for the poll request itself (with its retries). */
const POLL_CALL_RESERVE_MS = 15_000;
/** Longest one call of a waiting step blocks: its polling, a start or a poll with retries, and the stop on the way out. */
export const WAITING_STEP_MAX_RUN_MS = POLL_IN_SLICE_MS + START_MARGIN_MS + POLL_CALL_RESERVE_MS;

export function clockOf(context: StepContext): () => number {
  return () => (context.now ? context.now() : Date.now());
}

/** Whether a call that has not started anything yet should leave the start to the next slice. */
export function tooLateToStart(context: StepContext): boolean {
  if (context.yieldSignal?.aborted) return true;
  return context.sliceDeadline !== undefined && context.sliceDeadline - clockOf(context)() < START_MARGIN_MS;
}

/** Sleeps `ms` unless the step is stopped (rejects) or told to yield (resolves 'yield'). */
function nap(ms: number, context: StepContext): Promise<'slept' | 'yield'> {
  return new Promise((resolve, reject) => {
    const { signal } = context;
    const yieldSignal = context.yieldSignal ?? new AbortController().signal;
    const reason = (): Error => (signal.reason instanceof Error ? signal.reason : new Error('Step aborted'));
    if (signal.aborted) return reject(reason());
    if (yieldSignal.aborted) return resolve('yield');
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      yieldSignal.removeEventListener('abort', onYield);
    };
    const timer = setTimeout(() => {
      done();
      resolve('slept');
    }, ms);
    const onAbort = (): void => {
      done();
      reject(reason());
    };
    const onYield = (): void => {
      done();
      resolve('yield');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    yieldSignal.addEventListener('abort', onYield, { once: true });
  });
}

export interface PollPlan<T> {
  /** What the step hands back when it suspends (the id of what it waits for…): small JSON. */
  state: () => JsonObject;
  /** One poll: the final result when the thing has ended, undefined while it goes on. */
  poll: () => Promise<T | undefined>;
  /** Epoch ms after which the step stops waiting (`wait_timeout_seconds`); undefined: no limit of its own. */
  timeoutAt: number | undefined;
  /** Called once the wait timed out: stops what runs and throws the step's failure. */
  timedOut: () => Promise<never>;
}

/**
 * Polls every `pollIntervalMs` until `poll` answers, within this call: suspends (to the
 * next poll's time) when the call has polled for POLL_IN_SLICE_MS, when the slice is
 * about to end, or at once when told to yield. Without a slice deadline (local mode) it
 * polls until the end in this call.
 */
export async function pollAcrossSlices<T>(context: StepContext, plan: PollPlan<T>): Promise<T | StepSuspension> {
  const now = clockOf(context);
  const interval = awsSettings().pollIntervalMs;
  const callStart = now();
  for (;;) {
    const current = now();
    if (plan.timeoutAt !== undefined && current >= plan.timeoutAt) return plan.timedOut();
    const next = Math.min(current + interval, plan.timeoutAt ?? Number.POSITIVE_INFINITY);
    if (context.yieldSignal?.aborted) return suspend(current, plan.state());
    if (context.sliceDeadline !== undefined && (next + POLL_CALL_RESERVE_MS > context.sliceDeadline || next - callStart > POLL_IN_SLICE_MS)) {
      return suspend(next, plan.state());
    }
    if ((await nap(next - current, context)) === 'yield') return suspend(now(), plan.state());
    const ended = await plan.poll();
    if (ended !== undefined) return ended;
  }
}

/** `wait_timeout_seconds` of a waiting step: the schema and the moment it runs out. */
export const WAIT_TIMEOUT_SECONDS = { type: 'integer', minimum: 1, maximum: 7 * 24 * 60 * 60 } as const;

export function timeoutAt(where: JsonObject, startedAt: number): number | undefined {
  const seconds = where['wait_timeout_seconds'];
  return typeof seconds === 'number' ? startedAt + seconds * 1000 : undefined;
}
