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

  constructor(options: { pollMs: number; pollForStop?: () => Promise<boolean>; msUntilDeadline?: number; onPollError: (error: unknown) => void }) {
    const { pollForStop, msUntilDeadline } = options;
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
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const running = work();
    // If the abort wins the race the step's own rejection has no listener left.
    running.catch(() => undefined);
    return Promise.race([running, aborted]);
  }

  dispose(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
  }
}
