import type { AppLogger } from './app-logger.js';
import { randomUUID } from 'node:crypto';
import { configuredModules, ModuleRegistry } from './modules/registry.js';
import type { Clock, CloudScheduler, ExperimentStore, IdGenerator, ScheduleStore, TrialQueue, TrialStore } from './ports.js';
import type { ReportLimits } from './domain/report/limits.js';
import { makeExperimentUseCases } from './use-cases/experiments.js';
import { makeReportUseCases } from './use-cases/report.js';
import { makeScheduleUseCases } from './use-cases/schedules.js';
import { makeTrialUseCases } from './use-cases/trials.js';

export const systemClock: Clock = { now: () => new Date() };
export const uuidIds: IdGenerator = { newId: () => randomUUID() };

export interface CoreDeps {
  experiments: ExperimentStore;
  trials: TrialStore;
  schedules: ScheduleStore;
  queue: TrialQueue;
  cloud: CloudScheduler;
  logger?: AppLogger;
  clock?: Clock;
  ids?: IdGenerator;
  registry?: ModuleRegistry;
  /** Caps of one `GET /report` (defaults: DEFAULT_REPORT_LIMITS). */
  reportLimits?: Partial<ReportLimits>;
}

/** The use cases every runtime shares (Lambda, local mode, tests); only the adapters differ. */
export function buildUseCases(deps: CoreDeps) {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? uuidIds;
  const registry = deps.registry ?? new ModuleRegistry(configuredModules(process.env));
  const schedules = makeScheduleUseCases({ ...deps, clock, ids });
  return {
    registry,
    clock,
    ids,
    experiments: makeExperimentUseCases({ experiments: deps.experiments, registry, clock, ids, beforeDelete: (id, caller) => schedules.deleteAllOf(id, caller) }),
    trials: makeTrialUseCases({ trials: deps.trials, experiments: deps.experiments, queue: deps.queue, clock, ids }),
    schedules,
    report: makeReportUseCases({ trials: deps.trials, experiments: deps.experiments, clock, limits: deps.reportLimits }),
  };
}
