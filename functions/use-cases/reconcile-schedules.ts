import type { AppLogger } from '../app-logger.js';
import { isDeleted } from '../domain/deletion.js';
import type { Schedule } from '../domain/schedule.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock, CloudScheduleEntry, ReconcilableCloudScheduler, ExperimentStore, ScheduleStore } from '../ports.js';

/** What reconciliation found different between the store and the cloud, by kind. */
export type DriftKind =
  /** A cloud schedule no live schedule wants (deleted, exhausted, never stored): removed. */
  | 'orphan'
  /** A live schedule whose current generation is not (fully) armed: armed. */
  | 'missing'
  /** A cloud schedule of another generation than the stored one: removed. */
  | 'stale'
  /** A live schedule of a deleted experiment (created while the experiment was being deleted): deleted. */
  | 'cascaded';

export const DRIFT_KINDS: readonly DriftKind[] = ['orphan', 'missing', 'stale', 'cascaded'];

export interface ReconcileReport {
  /** Cloud schedules listed in the group. */
  cloudSchedules: number;
  /** Live schedules read from the store. */
  storedSchedules: number;
  orphan: number;
  missing: number;
  stale: number;
  cascaded: number;
  /** Repairs the cloud or the store refused; the next run tries again. */
  failures: number;
  /** Cloud schedules whose names Kallisti does not make: left alone. */
  foreign: number;
  /** Would-be orphans created or changed within the grace period: left for the next run. */
  recent: number;
  /** Nothing was changed (dry run): the counts say what would have been repaired. */
  dryRun: boolean;
  durationMs: number;
}

export interface ReconcileDeps {
  schedules: ScheduleStore;
  experiments: ExperimentStore;
  cloud: ReconcilableCloudScheduler;
  clock: Clock;
  logger?: AppLogger;
  metrics?: Metrics;
  /**
   * A cloud schedule created or changed this recently is never taken for an
   * orphan: the store write that goes with it (always made first) may not show
   * in the index reads yet. Default 5 minutes.
   */
  graceMs?: number;
  /** Who a cascaded deletion is recorded as made by. */
  actor?: string;
}

export const DEFAULT_GRACE_MS = 5 * 60_000;
const PAGE_SIZE = 100;

/**
 * Brings the cloud in line with the store, which is the truth:
 *
 * 1. List the cloud schedules of the group (first: anything armed later is
 *    newer than the store reads that follow, so it is never taken for an orphan).
 * 2. Read the live experiments, then every live schedule, a page at a time.
 * 3. For each schedule, compare the cloud schedules it has with the ones its
 *    stored generation should have. On any difference, read the record itself
 *    (the index may lag behind a change) and repair: arm what is missing,
 *    remove other generations (stale) and what should not be armed (orphans).
 *    A live schedule of a deleted experiment is deleted (the cascade missed it).
 * 4. Cloud schedules of no live schedule are orphans, removed once older than
 *    the grace period.
 *
 * Cost: one List call per 100 cloud schedules, one store read per 100 schedules
 * and per 100 experiments, and calls only for what differs; never a
 * per-schedule Get on the cloud.
 */
export function makeReconcileSchedules(deps: ReconcileDeps) {
  const { schedules, experiments, cloud, clock, logger } = deps;
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  const actor = deps.actor ?? 'reconciler';

  return async function reconcileSchedules(options: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
    const dryRun = options.dryRun ?? false;
    const startedAt = clock.now().getTime();
    const report: ReconcileReport = { cloudSchedules: 0, storedSchedules: 0, orphan: 0, missing: 0, stale: 0, cascaded: 0, failures: 0, foreign: 0, recent: 0, dryRun, durationMs: 0 };
    const isRecent = (entry: CloudScheduleEntry) => entry.modifiedAt !== undefined && startedAt - entry.modifiedAt.getTime() < graceMs;

    async function repair(kind: DriftKind, context: Record<string, unknown>, action: () => Promise<unknown>): Promise<void> {
      report[kind] += 1;
      if (dryRun) {
        logger?.info(`Reconciliation found ${kind} (dry run: left as is)`, context);
        return;
      }
      try {
        await action();
        logger?.warn(`Reconciliation repaired ${kind}`, context);
      } catch (error) {
        report.failures += 1;
        logger?.error(`Reconciliation could not repair ${kind}; the next run tries again`, { ...context, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    }

    const removeEntry = (kind: DriftKind, entry: CloudScheduleEntry) =>
      repair(kind, { cloudSchedule: entry.name, scheduleId: entry.scheduleId, generation: entry.generation }, () => cloud.remove(entry.name));

    // 1. The cloud.
    const cloudById = new Map<string, CloudScheduleEntry[]>();
    for await (const page of cloud.list()) {
      for (const entry of page) {
        report.cloudSchedules += 1;
        if (entry.scheduleId === undefined) {
          report.foreign += 1;
          continue;
        }
        const entries = cloudById.get(entry.scheduleId) ?? [];
        entries.push(entry);
        cloudById.set(entry.scheduleId, entries);
      }
    }

    // 2. The store: live experiments, then live schedules.
    const liveExperiments = new Set<string>();
    let token: string | undefined;
    do {
      const page = await experiments.list({ limit: PAGE_SIZE, nextToken: token });
      for (const experiment of page.items) liveExperiments.add(experiment.id);
      token = page.nextToken;
    } while (token);

    async function experimentIsLive(experimentId: string): Promise<boolean> {
      if (liveExperiments.has(experimentId)) return true;
      // Not in the (eventually consistent) list: ask the record itself before deleting anything.
      const experiment = await experiments.get(experimentId, { includeDeleted: true });
      const live = experiment !== undefined && !isDeleted(experiment);
      if (live) liveExperiments.add(experimentId);
      return live;
    }

    async function reconcileOne(listed: Schedule, entries: CloudScheduleEntry[]): Promise<void> {
      const context = { scheduleId: listed.id, experimentId: listed.experiment_id };
      if (!(await experimentIsLive(listed.experiment_id))) {
        await repair('cascaded', context, () => schedules.markDeleted(listed.experiment_id, listed.id, actor, clock.now().toISOString()));
        for (const entry of entries) await removeEntry('orphan', entry);
        return;
      }
      const names = new Set(entries.map((e) => e.name));
      const wanted = cloud.expectedNames(listed);
      if (wanted.every((n) => names.has(n)) && entries.every((e) => wanted.includes(e.name))) return;

      // Something differs: decide on the record itself, not on the index, which may lag behind a change.
      const fresh = await schedules.get(listed.experiment_id, listed.id);
      if (!fresh) {
        for (const entry of entries) {
          if (isRecent(entry)) report.recent += 1;
          else await removeEntry('orphan', entry);
        }
        return;
      }
      const expected = cloud.expectedNames(fresh);
      if (expected.some((n) => !names.has(n))) {
        await repair('missing', { ...context, generation: fresh.generation }, () => cloud.arm(fresh));
      }
      for (const entry of entries) {
        if (expected.includes(entry.name)) continue;
        await removeEntry(entry.generation === fresh.generation ? 'orphan' : 'stale', entry);
      }
    }

    token = undefined;
    do {
      const page = await schedules.listAll({ limit: PAGE_SIZE, nextToken: token });
      for (const schedule of page.items) {
        report.storedSchedules += 1;
        await reconcileOne(schedule, cloudById.get(schedule.id) ?? []);
        cloudById.delete(schedule.id);
      }
      token = page.nextToken;
    } while (token);

    // 3. Cloud schedules of no live schedule.
    for (const entries of cloudById.values()) {
      for (const entry of entries) {
        if (isRecent(entry)) report.recent += 1;
        else await removeEntry('orphan', entry);
      }
    }

    report.durationMs = clock.now().getTime() - startedAt;
    const repaired = DRIFT_KINDS.reduce((sum, kind) => sum + report[kind], 0);
    if (repaired > 0 || report.failures > 0) logger?.warn('Schedule reconciliation found drift', { ...report });
    else logger?.info('Schedule reconciliation: store and cloud agree', { ...report });
    for (const kind of DRIFT_KINDS) deps.metrics?.record('ScheduleDrift', report[kind], { Kind: kind });
    deps.metrics?.record('ScheduleRepairFailures', report.failures, {});
    return report;
  };
}

export type ReconcileSchedules = ReturnType<typeof makeReconcileSchedules>;
