import { consoleLogger, type AppLogger } from '../app-logger.js';
import { hideParameters, secretParameterNames } from '../domain/redaction.js';
import { emptyTrialRecord, type TrialState, type TrialStatus } from '../domain/trial.js';
import { leaseUntil } from '../executor/slicing.js';
import { noMetrics, type Metrics } from '../metrics/metrics.js';
import type { Clock, QueueProbe, RecoveryQueue, TrialStore } from '../ports.js';

/**
 * The watchdog: every few minutes (a scheduled function on AWS, a timer locally) it
 * reads the unfinished trials (the unfinished-trials index, never a Scan) and ends the
 * ones that can no longer progress, with the reason in their record:
 *
 * - Scheduled, and its message is gone (the queue is empty, or a trial queued after it
 *   has started, which FIFO order forbids while its message exists) ⇒ `Aborted`, no step
 *   was run (`Stopped` if a stop was asked).
 * - In Progress / Stop Initiated, and no worker touched it past its slice (its lease),
 *   or its message is gone ⇒ taken over: marked `orphaned` with the reason and handed
 *   to a recovery delivery, which runs its post steps and ends it `Failed` (`Stopped`).
 *
 * Every write is conditional on what was read (the status, the lease), so two runs, or
 * a run racing a worker, end a trial once; running it again changes nothing.
 */
export interface WatchdogDeps {
  trials: TrialStore;
  probe: QueueProbe;
  recoveries: RecoveryQueue;
  clock: Clock;
  logger?: AppLogger;
  metrics?: Metrics;
  /** A trial younger than this may not be in the queue yet (the API sends it after saving it); default 5 minutes. */
  graceMs?: number;
}

export type WatchdogAction = 'aborted' | 'stopped' | 'recovery';

export interface WatchdogFinding {
  trialId: string;
  experimentId: string;
  status: TrialStatus;
  action: WatchdogAction;
  reason: string;
}

export interface WatchdogReport {
  /** Unfinished trials looked at. */
  checked: number;
  findings: WatchdogFinding[];
  /** Trials that needed ending but whose write or recovery delivery failed (the next run tries again). */
  failures: number;
}

export const WATCHDOG_GRACE_MS = 5 * 60 * 1000;
const PAGE_SIZE = 100;

export const REASONS = {
  noWorker: 'no worker took the trial up again after its slice (its queue message was lost, or kept failing until it was given up).',
  overtaken: 'its queue message was lost: a trial queued after it started while it was unfinished.',
  emptyQueue: 'its queue message was lost: the queue holds no message at all.',
  notHeld: 'the worker no longer holds it (it gave the trial up after repeated failures).',
} as const;

export function makeWatchdog(deps: WatchdogDeps): () => Promise<WatchdogReport> {
  const logger = deps.logger ?? consoleLogger;
  const metrics = deps.metrics ?? noMetrics;
  const grace = deps.graceMs ?? WATCHDOG_GRACE_MS;
  const { trials, probe, clock } = deps;

  async function listAll(): Promise<TrialState[]> {
    const all: TrialState[] = [];
    let nextToken: string | undefined;
    do {
      const page = await trials.listUnfinished({ limit: PAGE_SIZE, nextToken });
      all.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  }

  return async function watchdog(): Promise<WatchdogReport> {
    const unfinished = await listAll();
    const now = clock.now().getTime();
    const older = (iso: string | null): boolean => iso !== null && now - Date.parse(iso) > grace;
    let empty: Promise<boolean> | undefined;
    // Asked once per run, and only when a trial's fate depends on it; a failed probe proves nothing.
    const queueEmpty = (): Promise<boolean> =>
      (empty ??= probe.isEmpty().catch((error: unknown) => {
        logger.warn('Could not read the queue; trials are judged on their leases only', { error: error instanceof Error ? error.message : String(error) });
        return false;
      }));

    /** Why the trial's message must be gone, or undefined when it may still be in the queue. */
    async function messageLost(trial: TrialState): Promise<string | undefined> {
      if (!older(trial.created_at)) return undefined;
      if (probe.holds) return probe.holds(trial.id) ? undefined : REASONS.notHeld;
      const created = Date.parse(trial.created_at);
      const overtaken = unfinished.some((other) => {
        if (other.id === trial.id || other.executed_at === null) return false;
        // A running trial's message stays until it ends, so nothing started after it while it was there.
        if (trial.executed_at !== null) return other.executed_at > trial.executed_at;
        // An API trial is queued when it is saved: one saved well after this one was queued behind it.
        // (A schedule's trial is saved when its firing, sent earlier, reaches the head: no proof.)
        return other.schedule_id === null && Date.parse(other.created_at) > created + grace;
      });
      if (overtaken) return REASONS.overtaken;
      return (await queueEmpty()) ? REASONS.emptyQueue : undefined;
    }

    /** A trial that never started: ended in the store alone, with the reason; no step ran, so none needs undoing. */
    async function endUnstarted(trial: TrialState, reason: string): Promise<WatchdogFinding | undefined> {
      const stopping = trial.status === 'Stop Initiated';
      const status = stopping ? 'Stopped' : 'Aborted';
      const at = clock.now().toISOString();
      const line = stopping ? `Trial Stopped: a stop was requested before the trial started, and ${reason} No step was run.` : `Trial Aborted: ${reason} No step was run.`;
      const record = emptyTrialRecord();
      record.result.push({ step_name: 'result', step_parameters: {}, logs: [`[${at} - ERROR] ${line}`] });
      // The record kept forever holds no credential, as for a trial the worker ends.
      const snapshot = (await trials.get(trial.id))?.experiment_snapshot;
      const steps = snapshot ? [...snapshot.pre_steps, ...snapshot.steps, ...snapshot.post_steps] : [];
      const ended = await trials.transition(trial.id, [trial.status], status, { completed_at: at, trial_record: record, parameters: hideParameters(trial.parameters, secretParameterNames(steps, trial.parameters)) });
      return ended ? { trialId: trial.id, experimentId: trial.experiment, status: trial.status, action: stopping ? 'stopped' : 'aborted', reason } : undefined;
    }

    /** A trial that started: marked orphaned (conditional on the lease read) and handed to a recovery delivery. */
    async function takeOver(trial: TrialState, reason: string): Promise<WatchdogFinding | undefined> {
      const runtime = trial.runtime;
      if (!runtime) return undefined;
      const lease = leaseUntil(now, now);
      const taken = await trials.updateRuntime(trial.id, { slice: 'running', orphaned: runtime.orphaned ?? reason, lease_until: lease }, { ifLease: runtime.lease_until });
      if (!taken) return undefined;
      await deps.recoveries.enqueueRecovery(trial.id, lease);
      return { trialId: trial.id, experimentId: trial.experiment, status: trial.status, action: 'recovery', reason: runtime.orphaned ?? reason };
    }

    async function judge(trial: TrialState): Promise<WatchdogFinding | undefined> {
      if (trial.executed_at === null && (trial.status === 'Scheduled' || trial.status === 'Stop Initiated')) {
        const lost = await messageLost(trial);
        return lost ? endUnstarted(trial, lost) : undefined;
      }
      const runtime = trial.runtime;
      // Trials run before slices existed carry no lease: their worker's own recovery handles them.
      if (!runtime) return undefined;
      const leaseOver = Date.parse(runtime.lease_until) < now;
      // Taken over already: only a recovery that stalled in turn (its lease over) is handed on again.
      if (runtime.orphaned !== undefined) return leaseOver ? takeOver(trial, runtime.orphaned) : undefined;
      if (leaseOver) return takeOver(trial, REASONS.noWorker);
      const lost = await messageLost(trial);
      return lost ? takeOver(trial, lost) : undefined;
    }

    const report: WatchdogReport = { checked: unfinished.length, findings: [], failures: 0 };
    for (const trial of unfinished) {
      try {
        const finding = await judge(trial);
        if (!finding) continue;
        report.findings.push(finding);
        metrics.record('OverdueTrials', 1, {}, { experiment: finding.experimentId });
        logger.warn('Watchdog ended a trial that could no longer progress', { ...finding });
      } catch (error) {
        report.failures += 1;
        logger.error('Watchdog could not end a trial; the next run tries again', { trialId: trial.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return report;
  };
}
