import { AsyncLocalStorage } from 'node:async_hooks';
import { FINAL_STATUSES } from '../domain/trial.js';
import type { RunTrial } from '../executor/run-trial.js';
import type { StepModule } from '../modules/types.js';
import type { TrialStore } from '../ports.js';
import type { TrialObserver } from './trial-observer.js';

/** The trial a worker is running in this async context, so a step knows whose it is. */
const running = new AsyncLocalStorage<{ trialId: string; experimentId?: string }>();

/** Runs each trial in its own context (see `running`), so observed steps carry its ids. */
export function observeRunTrial(runTrial: RunTrial): RunTrial {
  return (trialId, options) => running.run({ trialId }, () => runTrial(trialId, options));
}

/**
 * The trial store, reporting every status change it makes: a move to In Progress is a
 * trial starting, a move to a final status a trial ending (with its recorded times).
 * Nothing is read or written beyond what the caller asked for.
 */
export function observeTrialStore(store: TrialStore, observer: TrialObserver): TrialStore {
  const transition: TrialStore['transition'] = async (id, from, to, changes) => {
    const trial = await store.transition(id, from, to, changes);
    if (!trial) return trial;
    if (to === 'In Progress') {
      const context = running.getStore();
      if (context?.trialId === trial.id) context.experimentId = trial.experiment;
      observer.trialStarted?.({ trialId: trial.id, experimentId: trial.experiment });
    } else if (FINAL_STATUSES.includes(to)) {
      const started = trial.executed_at === null ? Number.NaN : Date.parse(trial.executed_at);
      const ended = trial.completed_at === null ? Number.NaN : Date.parse(trial.completed_at);
      observer.trialFinished?.({ trialId: trial.id, experimentId: trial.experiment, status: trial.status, durationMs: Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, ended - started) : null });
    }
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

/** The step commands, each run wrapped by the observer (timed, traced) with the running trial's ids. */
export function observeModules(modules: readonly StepModule[], observer: TrialObserver): StepModule[] {
  // Everything else a command declares (iam, probe, checkWhere, …) is kept as it is.
  return modules.map((module) => ({
    ...module,
    run: (where, context) => {
      const trial = running.getStore();
      const run = () => module.run(where, context);
      return observer.step ? observer.step({ module: module.name, ...(trial && { trialId: trial.trialId, ...(trial.experimentId !== undefined && { experimentId: trial.experimentId }) }) }, run) : run();
    },
  }));
}
