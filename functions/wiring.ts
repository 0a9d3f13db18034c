import { randomUUID } from 'node:crypto';
import { DEFAULT_MODULES, ModuleRegistry } from './modules/registry.js';
import type { Clock, ExperimentStore, IdGenerator, TrialQueue, TrialStore } from './ports.js';
import { makeExperimentUseCases } from './use-cases/experiments.js';
import { makeTrialUseCases } from './use-cases/trials.js';

export const systemClock: Clock = { now: () => new Date() };
export const uuidIds: IdGenerator = { newId: () => randomUUID() };

export interface CoreDeps {
  experiments: ExperimentStore;
  trials: TrialStore;
  queue: TrialQueue;
  clock?: Clock;
  ids?: IdGenerator;
  registry?: ModuleRegistry;
}

/** The use cases every runtime shares (Lambda, local mode, tests); only the adapters differ. */
export function buildUseCases(deps: CoreDeps) {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? uuidIds;
  const registry = deps.registry ?? new ModuleRegistry(DEFAULT_MODULES);
  return {
    registry,
    clock,
    experiments: makeExperimentUseCases({ experiments: deps.experiments, registry, clock, ids }),
    trials: makeTrialUseCases({ trials: deps.trials, experiments: deps.experiments, queue: deps.queue, clock, ids }),
  };
}
