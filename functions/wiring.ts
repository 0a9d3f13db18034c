import type { AppLogger } from './app-logger.js';
import { configuredModules, ModuleRegistry } from './modules/registry.js';
import type { Clock, CloudScheduler, EmailSubscriptions, ExperimentStore, IdGenerator, NotificationStore, SafetyMetrics, SafetyStore, ScheduleStore, TrialQueue, TrialStore } from './ports.js';
import type { ReportLimits } from './domain/report/limits.js';
import { makeExperimentUseCases } from './use-cases/experiments.js';
import { makeNotificationUseCases } from './use-cases/notification.js';
import { makeReportUseCases } from './use-cases/report.js';
import { makeScheduleUseCases } from './use-cases/schedules.js';
import { makeSafetyGate } from './use-cases/safety-gate.js';
import { withSuppressedFireTimes } from './use-cases/safety-preview.js';
import { makeSafetyUseCases } from './use-cases/safety.js';
import { makeTrialUseCases } from './use-cases/trials.js';

import { systemClock, uuidIds } from './system.js';

export { systemClock, uuidIds };

export interface CoreDeps {
  experiments: ExperimentStore;
  trials: TrialStore;
  schedules: ScheduleStore;
  queue: TrialQueue;
  cloud: CloudScheduler;
  /** Halts and freeze windows: enforced on every trial, firing and start. */
  safety: SafetyStore;
  metrics?: SafetyMetrics;
  /** Kallisti's notification list (`/notification`). */
  notifications: NotificationStore;
  /** The trial-finished topic's email subscriptions (AWS); absent locally. */
  emailSubscriptions?: EmailSubscriptions;
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
  const schedules = makeScheduleUseCases({ ...deps, clock, ids, registry });
  const gate = makeSafetyGate({ safety: deps.safety, clock, logger: deps.logger, metrics: deps.metrics });
  return {
    registry,
    clock,
    ids,
    experiments: makeExperimentUseCases({ experiments: deps.experiments, registry, clock, ids, beforeDelete: (id, caller) => schedules.deleteAllOf(id, caller) }),
    trials: makeTrialUseCases({ trials: deps.trials, experiments: deps.experiments, queue: deps.queue, clock, ids, gate, registry, logger: deps.logger }),
    safety: makeSafetyUseCases({ safety: deps.safety, trials: deps.trials, experiments: deps.experiments, clock, ids, logger: deps.logger, metrics: deps.metrics, queue: deps.queue }),
    gate,
    schedules: withSuppressedFireTimes(schedules, { safety: deps.safety, experiments: deps.experiments, clock }),
    notification: makeNotificationUseCases({ store: deps.notifications, subscriptions: deps.emailSubscriptions, clock, logger: deps.logger }),
    report: makeReportUseCases({ trials: deps.trials, experiments: deps.experiments, clock, limits: deps.reportLimits }),
  };
}
