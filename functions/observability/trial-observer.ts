import type { TrialStatus } from '../domain/trial.js';

/** A trial that started or ended, as the store recorded it. */
export interface TrialEvent {
  trialId: string;
  experimentId: string;
}

export interface TrialFinishedEvent extends TrialEvent {
  status: TrialStatus;
  /** executed_at → completed_at; null for a trial that never ran (stopped or invalid while queued). */
  durationMs: number | null;
}

/** One step about to run: its command, and the trial it belongs to when known. */
export interface StepEvent {
  module: string;
  trialId?: string;
  experimentId?: string;
}

/**
 * What metrics, traces and the local terminal want to know about trials, without
 * the executor knowing about any of them: the trial store's status changes and each
 * step command's run are observed from the outside (see observe.ts).
 */
export interface TrialObserver {
  trialStarted?(event: TrialEvent): void;
  trialFinished?(event: TrialFinishedEvent): void;
  /** Wraps one step's run (to time it, trace it); must return what `run()` returns or throws. */
  step?<T>(event: StepEvent, run: () => Promise<T>): Promise<T>;
}

/** Every observer sees every event; steps run inside each observer's wrapper, first observer outermost. */
export function combineObservers(...observers: TrialObserver[]): TrialObserver {
  return {
    trialStarted: (event) => observers.forEach((o) => o.trialStarted?.(event)),
    trialFinished: (event) => observers.forEach((o) => o.trialFinished?.(event)),
    step: <T>(event: StepEvent, run: () => Promise<T>): Promise<T> =>
      observers.reduceRight<() => Promise<T>>((inner, observer) => (observer.step ? () => observer.step!(event, inner) : inner), run)(),
  };
}
