/** Longest delay Node's timers accept; a longer budget needs no timer. */
const MAX_TIMER_MS = 2_147_483_647;

export type AbortCause = 'stop' | 'deadline';

/**
 * Runs one step under an AbortSignal that fires on a stop request (polled) or at the
 * slice's deadline. The step is raced against the signal, so even a module that
 * ignores its signal cannot keep the worker past a stop.
 */
export class StepGuard {
  private readonly controller = new AbortController();
  private poller: ReturnType<typeof setInterval> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  cause: AbortCause | undefined;

  private readonly stopGraceMs: number;

  /** `stopGraceMs`: after a stop, how long the step may still take to return (to undo what it started) before it is abandoned. */
  constructor(options: { pollMs: number; pollForStop?: () => Promise<boolean>; msUntilDeadline?: number; stopGraceMs?: number; onPollError: (error: unknown) => void }) {
    const { pollForStop, msUntilDeadline } = options;
    this.stopGraceMs = options.stopGraceMs ?? 0;
    if (pollForStop) {
      let inFlight = false;
      this.poller = setInterval(() => {
        if (inFlight) return;
        inFlight = true;
        pollForStop()
          .then((stop) => {
            if (stop) this.abort('stop');
          })
          .catch(options.onPollError)
          .finally(() => {
            inFlight = false;
          });
      }, options.pollMs);
    }
    if (msUntilDeadline !== undefined && msUntilDeadline <= MAX_TIMER_MS) {
      this.deadlineTimer = setTimeout(() => this.abort('deadline'), Math.max(0, msUntilDeadline));
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(cause: AbortCause): void {
    if (this.cause) return;
    this.cause = cause;
    this.controller.abort(new Error(cause === 'stop' ? 'Trial stop requested' : 'Step ran past the end of its slice'));
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    const running = work();
    // If the abort wins the race the step's own rejection has no listener left.
    running.catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = (): void => {
        if (this.cause !== 'stop' || this.stopGraceMs <= 0) return reject(signal.reason);
        // The step heard the stop through its signal: let it finish undoing what it started, within the grace.
        const grace = setTimeout(() => reject(signal.reason), this.stopGraceMs);
        void running.then(
          () => undefined,
          () => undefined,
        ).finally(() => {
          clearTimeout(grace);
          reject(signal.reason);
        });
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([running, aborted]);
  }

  dispose(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
  }
}
