import type { AppLogger } from '../app-logger.js';
import { trialFinished, type TrialFinished } from '../domain/trial-finished.js';
import { isFinal } from '../domain/trial.js';
import type { TrialFinishedObserver, TrialStore } from '../ports.js';

export interface TrialFinishedDeps {
  observers: readonly TrialFinishedObserver[];
  logger: AppLogger;
  /** Longest wait for all observers of one trial; past it they are abandoned (default 3 s). */
  timeoutMs?: number;
}

export const DEFAULT_OBSERVER_TIMEOUT_MS = 3_000;

/**
 * Tells every observer about a finished trial, all at once, within `timeoutMs`.
 * Never throws: a failing or slow observer is logged, and the trial (already
 * stored in its final status) is untouched.
 */
export async function notifyTrialFinished(event: TrialFinished, deps: TrialFinishedDeps): Promise<void> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_OBSERVER_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const deliveries = deps.observers.map(async (observer) => {
    try {
      await observer.trialFinished(event);
    } catch (error) {
      deps.logger.warn('A trial observer failed; the trial is unaffected', { trialId: event.id, observer: observer.name, error: error instanceof Error ? error.message : String(error) });
    }
  });
  try {
    const outcome = await Promise.race([Promise.all(deliveries).then(() => 'done' as const), timeout]);
    if (outcome === 'timeout') deps.logger.warn('Trial observers did not answer in time; the trial is unaffected', { trialId: event.id, timeoutMs });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The trial store, telling the observers about every trial it moves to a final
 * status, after the write succeeded: whoever ends a trial (the worker's run, a
 * stop before it ran, a queue that refused it) goes through `transition`, so
 * none is missed and none is told twice (a finished trial never moves again).
 * The stored item carries all the event needs: nothing more is read.
 */
export function publishFinishedTrials(store: TrialStore, deps: TrialFinishedDeps): TrialStore {
  if (deps.observers.length === 0) return store;
  const transition: TrialStore['transition'] = async (id, from, to, changes) => {
    const trial = await store.transition(id, from, to, changes);
    if (trial && isFinal(trial.status)) await notifyTrialFinished(trialFinished(trial), deps);
    return trial;
  };
  // Everything else passes through untouched, whatever methods the store has.
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'transition') return transition;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * An observer whose real adapter (and its SDK client) is loaded on the first
 * finished trial, then kept for the container's life: cold starts load none of it.
 */
export function lazyTrialFinishedObserver(name: string, load: () => Promise<TrialFinishedObserver>): TrialFinishedObserver {
  let loading: Promise<TrialFinishedObserver> | undefined;
  return {
    name,
    async trialFinished(event) {
      loading ??= load().catch((error: unknown) => {
        // A failed load is retried with the next trial rather than remembered.
        loading = undefined;
        throw error;
      });
      await (await loading).trialFinished(event);
    },
  };
}
