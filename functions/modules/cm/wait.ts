import type { StepModule } from '../types.js';

const MAX_WAIT_SECONDS = 24 * 60 * 60;

/** `cm.wait`: sleeps, waking at once when the trial is stopped. */
export const wait: StepModule = {
  name: 'cm.wait',
  description: 'Waits for time_in_seconds seconds (stops early when the trial is stopped).',
  whereSchema: {
    type: 'object',
    required: ['time_in_seconds'],
    additionalProperties: false,
    properties: { time_in_seconds: { type: 'number', exclusiveMinimum: 0, maximum: MAX_WAIT_SECONDS } },
  },
  async run(where, context) {
    const seconds = Number(where['time_in_seconds']);
    context.log(`Waiting ${seconds} second(s).`);
    await new Promise<void>((resolve, reject) => {
      if (context.signal.aborted) return reject(abortReason(context.signal));
      const timer = setTimeout(() => {
        context.signal.removeEventListener('abort', onAbort);
        resolve();
      }, seconds * 1000);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(context.signal));
      };
      context.signal.addEventListener('abort', onAbort, { once: true });
    });
    return { waited_seconds: seconds };
  },
};

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('Step aborted');
}
