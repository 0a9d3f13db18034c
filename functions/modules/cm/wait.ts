import { suspend, type StepContext, type StepModule } from '../types.js';

const MAX_WAIT_SECONDS = 24 * 60 * 60;

/**
 * A wait with more than this left is handed back to the queue at once (the worker's
 * invocation ends, the message comes back when the wait is over); a shorter one
 * sleeps in the invocation, up to the slice's end.
 */
export const SLEEP_IN_SLICE_MS = 60_000;

/** Sleeps until `until` (epoch ms on the context's clock) or until a signal fires; says which. */
function sleepUntil(context: StepContext, now: () => number, until: number): Promise<'done' | 'yield'> {
  return new Promise<'done' | 'yield'>((resolve, reject) => {
    const { signal } = context;
    const yieldSignal = context.yieldSignal ?? new AbortController().signal;
    if (signal.aborted) return reject(abortReason(signal));
    if (yieldSignal.aborted) return resolve('yield');
    const cleanup = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      yieldSignal.removeEventListener('abort', onYield);
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve('done');
    }, Math.max(0, until - now()));
    const onAbort = (): void => {
      cleanup();
      reject(abortReason(signal));
    };
    const onYield = (): void => {
      cleanup();
      resolve('yield');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    yieldSignal.addEventListener('abort', onYield, { once: true });
  });
}

/**
 * `cm.wait`: waits `time_in_seconds`, waking at once when the trial is stopped.
 * Resumable: a wait longer than the slice (or than SLEEP_IN_SLICE_MS) suspends with
 * its end time as state and resumes in a later slice, so a 24 h wait costs no
 * worker time.
 */
export const wait: StepModule = {
  name: 'cm.wait',
  description: 'Waits for time_in_seconds seconds (stops early when the trial is stopped). Long waits cost no worker time: the trial is handed back to the queue until the wait ends.',
  whereSchema: {
    type: 'object',
    required: ['time_in_seconds'],
    additionalProperties: false,
    properties: { time_in_seconds: { type: 'number', exclusiveMinimum: 0, maximum: MAX_WAIT_SECONDS } },
  },
  resumable: true,
  // One call sleeps at most SLEEP_IN_SLICE_MS before it suspends (or less, to the slice's end).
  maxRunMs: () => SLEEP_IN_SLICE_MS,
  minTotalMs: (where) => Number(where['time_in_seconds']) * 1000,
  async run(where, context) {
    const now = (): number => (context.now ? context.now() : Date.now());
    const seconds = Number(where['time_in_seconds']);
    const resumedUntil = context.resumed?.['until'];
    const until = typeof resumedUntil === 'number' ? resumedUntil : now() + seconds * 1000;
    if (resumedUntil === undefined) context.log(`Waiting ${seconds} second(s).`);
    for (;;) {
      const current = now();
      if (current >= until) return { waited_seconds: seconds };
      const left = until - current;
      const sliceEnd = context.sliceDeadline ?? Number.POSITIVE_INFINITY;
      // A long wait is parked in the queue right away; a short one sleeps, to the end of the slice at most.
      if (context.sliceDeadline !== undefined && left > SLEEP_IN_SLICE_MS) return suspend(until, { until });
      if (sliceEnd <= current) return suspend(current, { until });
      const target = Math.min(until, sliceEnd);
      const outcome = await sleepUntil(context, now, target);
      if (outcome === 'yield') return suspend(now(), { until });
      // The timer ran for the whole wait: done, even on a clock that did not move meanwhile.
      if (target === until) return { waited_seconds: seconds };
    }
  },
};

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('Step aborted');
}
