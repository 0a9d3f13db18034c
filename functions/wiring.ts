import type { AppLogger } from './app-logger.js';
import { configuredCatalog } from './modules/catalog.js';
import { ModuleRegistry } from './modules/module-registry.js';
import type { Clock, CloudScheduler, EmailSubscriptions, ExperimentStore, IdGenerator, NotificationStore, SafetyMetrics, SafetyStore, ScheduleStore, TrialQueue, TrialStore } from './ports.js';
import type { ReportLimits } from './domain/report/limits.js';
import { makeExperimentUseCases } from './use-cases/experiments.js';
import type { TimingLimits } from './use-cases/validate-timing.js';
import { makeNotificationUseCases } from './use-cases/notification.js';
import { onDemand } from './use-cases/on-demand.js';
import type { ReportUseCases } from './use-cases/report.js';
import type { SafetyGate } from './use-cases/safety-gate.js';
import type { SafetyUseCases } from './use-cases/safety.js';
import type { ScheduleUseCases } from './use-cases/schedules.js';
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
  /** What one worker slice and one trial can give, checked when an experiment is saved (default: the Lambda worker's). */
  timing?: TimingLimits;
  /** Caps of one `GET /report` (defaults: DEFAULT_REPORT_LIMITS). */
  reportLimits?: Partial<ReportLimits>;
}

/**
 * The use cases every runtime shares (Lambda, local mode, tests); only the adapters differ.
 * Schedules (the cron parser and time zones), halts and freeze windows (cron again) and
 * reports load on their first call, so a request that needs none of them (GET /health,
 * reads of experiments and trials) does not load their code: a smaller Lambda cold start.
 */
export function buildUseCases(deps: CoreDeps) {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? uuidIds;
  // Step commands load by namespace on first use: reads and GET /health load none.
  const registry = deps.registry ?? ModuleRegistry.lazy(configuredCatalog(process.env));
  const schedules = onDemand<ScheduleUseCases>(
    async () => {
      const [{ makeScheduleUseCases }, { withSuppressedFireTimes }] = await Promise.all([import('./use-cases/schedules.js'), import('./use-cases/safety-preview.js')]);
      return withSuppressedFireTimes(makeScheduleUseCases({ ...deps, clock, ids, registry }), { safety: deps.safety, experiments: deps.experiments, clock });
    },
    { create: true, get: true, list: true, update: true, next: true, firings: true, preview: true, delete: true, deleteAllOf: true },
  );
  const gate = onDemand<SafetyGate>(async () => (await import('./use-cases/safety-gate.js')).makeSafetyGate({ safety: deps.safety, clock, logger: deps.logger, metrics: deps.metrics }), { refusal: true });
  return {
    registry,
    clock,
    ids,
    experiments: makeExperimentUseCases({ experiments: deps.experiments, registry, clock, ids, beforeDelete: (id, caller) => schedules.deleteAllOf(id, caller), ...(deps.timing && { timing: deps.timing }) }),
    trials: makeTrialUseCases({ trials: deps.trials, experiments: deps.experiments, queue: deps.queue, clock, ids, gate, registry, logger: deps.logger }),
    safety: onDemand<SafetyUseCases>(
      async () =>
        (await import('./use-cases/safety.js')).makeSafetyUseCases({ safety: deps.safety, trials: deps.trials, experiments: deps.experiments, clock, ids, logger: deps.logger, metrics: deps.metrics, queue: deps.queue }),
      { engageHalt: true, liftHalt: true, listHalts: true, createFreeze: true, listFreezes: true, deleteFreeze: true },
    ),
    gate,
    schedules,
    notification: makeNotificationUseCases({ store: deps.notifications, subscriptions: deps.emailSubscriptions, clock, logger: deps.logger }),
    report: onDemand<ReportUseCases>(
      async () => (await import('./use-cases/report.js')).makeReportUseCases({ trials: deps.trials, experiments: deps.experiments, clock, limits: deps.reportLimits }),
      { open: true, render: true },
    ),
  };
}
