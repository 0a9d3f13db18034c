/**
 * Run trial — one slice of it per call (one worker invocation):
 * 1. Claim the trial for this slice (one conditional write that also counts the
 *    invocation and returns the trial as it was). Unknown, or already finished (a
 *    duplicate delivery) ⇒ nothing to do. `Scheduled` ⇒ start it. Left with a slice
 *    that never ended (its worker died) ⇒ recover it (recovery.ts). A message's first
 *    delivery reads the trial first instead: it is nearly always `Scheduled`, and a
 *    claim would be a refused (billed) write.
 * 2. Starting: take the experiment snapshot the trial was created with (older trials:
 *    the stored experiment) and resolve parameters, trial over experiment. Any
 *    placeholder without a value ⇒ `Invalid`. Otherwise `Scheduled` → `In Progress`.
 * 3. Run steps from the checkpoint (trial-run.ts): pre_steps, steps, then post_steps,
 *    each step's record entry written when it ends. A stop request ends the main steps.
 * 4. A slice that cannot go on (budget spent, shutdown, a long wait) saves its
 *    checkpoint and answers `parked`: the caller hands the message back to the queue
 *    until `resumeAt`. Otherwise the trial moves to its final status with a `result`
 *    entry.
 *
 * Each status change is a conditional write from the status last read; when it loses a
 * race (a stop request landed), the trial is read again and handled from its new status.
 */
import { ConflictError, RecordRejectedError } from '../domain/errors.js';
import { boundEntry } from '../domain/record-limits.js';
import { hideParameters, secretParameterNames } from '../domain/redaction.js';
import { secretsOfParameters, SnapshotCache, stepsOf } from './trial-snapshot.js';
import { missingParameters, resolveParameters } from '../domain/templating.js';
import { assertTransition, emptyTrialRecord, isFinal, type ExperimentSnapshot, type Trial, type TrialCheckpoint, type TrialRecordEntry, type TrialState, type TrialStatus } from '../domain/trial.js';
import type { JsonObject } from '../domain/types.js';
import { consoleLogger, type AppLogger } from '../app-logger.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import type { Experiment } from '../domain/experiment.js';
import type { Guard, GuardState } from '../domain/guards.js';
import type { Clock, ExperimentStore, SafetyMetrics, TrialChanges, TrialStore } from '../ports.js';
import type { ExecutorSafety } from './safety-checks.js';
import { guardVerdictLines, TrialGuards } from './trial-guards.js';
import { noObserver, type ExecutorObserver } from './observer.js';
import { messageOf } from './record-format.js';
import { planRecovery } from './recovery.js';
import { cleanUpInterrupted } from './step-cleanup.js';
import { initialCheckpoint, leaseUntil, mainStepsEndOfLife, postStepsReserveMs } from './slicing.js';
import { makeTrialHalts } from './trial-halts.js';
import { TrialLog } from './trial-log.js';
import { TrialRun, type Verdict } from './trial-run.js';

export type ExecutorLogger = AppLogger;

export interface RunTrialDeps {
  trials: TrialStore;
  experiments: ExperimentStore;
  registry: ModuleRegistry;
  clock: Clock;
  /** How often a running step checks the store for a stop request (default 1000 ms). */
  stopPollMs?: number;
  /** How long a main step runs before its start is written to the store (default 1000 ms). */
  startMarkerDelayMs?: number;
  logger?: ExecutorLogger;
  /** Hook points for metrics and notifications. */
  observer?: ExecutorObserver;
  /** Halts and freeze windows, checked when a trial starts and quoted when one stops it. */
  safety?: ExecutorSafety;
  /** Counts guard trips. */
  metrics?: SafetyMetrics;
}

export interface RunTrialOptions {
  /** Epoch ms by which this slice must have saved its checkpoint; absent = no budget (local mode by default). */
  deadline?: number;
  /** Receipt handle of the delivery running this slice: kept so that a stop can wake the parked message. */
  receipt?: string;
  /** Fires when the worker must stop early (local shutdown): the slice checkpoints at the next step or wait boundary. */
  yieldSignal?: AbortSignal;
  /**
   * A recovery delivery sent by the watchdog: it runs only a trial the watchdog marked
   * orphaned (its post steps, then Failed with the watchdog's reason). Any other delivery
   * leaves such a trial alone.
   */
  recovery?: boolean;
  /**
   * The message's first delivery (a trial just queued): its trial has almost surely not
   * started, so it is read before any claim. A claim needs a running trial, and a refused
   * conditional write is billed like one that succeeds. Only the order changes: a trial
   * found running is claimed as on any other delivery.
   */
  firstDelivery?: boolean;
}

/**
 * `ran`: this call moved the trial to `status` (a final one). `parked`: the trial goes
 * on in a later slice; hand its message back until `resumeAt`. `skipped`: nothing to
 * do — unknown id (`status` null), already finished, or taken by someone else.
 */
export type RunTrialResult =
  | { outcome: 'ran'; status: TrialStatus }
  | { outcome: 'parked'; status: TrialStatus; resumeAt: number }
  | { outcome: 'skipped'; status: TrialStatus | null };

export type RunTrial = (trialId: string, options?: RunTrialOptions) => Promise<RunTrialResult>;

export const DEFAULT_STOP_POLL_MS = 1000;
export const DEFAULT_START_MARKER_DELAY_MS = 1000;
/** Conditional writes lost to concurrent changes before giving up (each loss means the status moved on). */
const MAX_ATTEMPTS = 5;

export function makeRunTrial(deps: RunTrialDeps): RunTrial {
  const { trials, experiments, clock, registry } = deps;
  const logger = deps.logger ?? consoleLogger;
  const observer = deps.observer ?? noObserver;
  const runDeps = {
    trials,
    registry,
    clock,
    logger,
    observer,
    stopPollMs: deps.stopPollMs ?? DEFAULT_STOP_POLL_MS,
    startMarkerDelayMs: deps.startMarkerDelayMs ?? DEFAULT_START_MARKER_DELAY_MS,
  };
  const log = new TrialLog(clock);
  const now = (): number => clock.now().getTime();
  const nowIso = (): string => clock.now().toISOString();
  const snapshots = new SnapshotCache(trials, experiments);
  /**
   * What the trial runs, with the namespaces of every command it may call (steps, the
   * experiment's and the trial's guards) loaded: the registry's `get` does not load.
   */
  const experimentOf = async (trial: Pick<Trial, 'id' | 'experiment' | 'experiment_snapshot'> & { guards?: readonly Guard[] }): Promise<ExperimentSnapshot | undefined> => {
    const experiment = await snapshots.of(trial);
    await registry.load([...stepsOf(experiment), ...(experiment?.guards ?? []), ...(trial.guards ?? [])].map((step) => step.do));
    return experiment;
  };

  const notify = (call: () => void): void => {
    try {
      call();
    } catch (error) {
      logger.warn('Executor observer failed', { error: messageOf(error) });
    }
  };

  const { storedExperiment, asTrial, noteHalt, stoppedByHalt } = makeTrialHalts({ safety: deps.safety, experiments, trials, metrics: deps.metrics, logger, log });

  function guardsFor(trial: TrialState, experiment: ExperimentSnapshot | undefined): Guard[] {
    return [...(experiment?.guards ?? []), ...(trial.guards ?? [])];
  }

  function trialGuards(trial: TrialState, experiment: ExperimentSnapshot | undefined, params: JsonObject, saved?: GuardState): TrialGuards | undefined {
    const guards = guardsFor(trial, experiment);
    if (guards.length === 0) return undefined;
    return new TrialGuards({ trialId: trial.id, guards, registry, trials, clock, params, paramSecrets: secretsOfParameters(experiment, params), logger, metrics: deps.metrics, saved });
  }

  /**
   * A conditional status change from the status just read; undefined when the trial moved meanwhile.
   * The final move also hides the trial's credential parameters: the record kept forever holds no secret.
   */
  async function move(trial: TrialState, to: TrialStatus, changes: TrialChanges, experiment?: ExperimentSnapshot): Promise<TrialState | undefined> {
    assertTransition(trial.status, to);
    const sealed = isFinal(to) ? { ...changes, parameters: hideParameters(trial.parameters, secretParameterNames(stepsOf(experiment), trial.parameters)) } : changes;
    return trials.transition(trial.id, [trial.status], to, sealed);
  }

  const resultOf = (lines: string[]): { result: TrialRecordEntry[] } => ({ result: [{ step_name: 'result', step_parameters: {}, logs: lines }] });

  /**
   * Ends a run with `verdict`. A stop request that landed after the last check makes
   * the trial `Stopped` whatever the verdict (`Stop Initiated` can only become that).
   */
  async function finish(trial: TrialState, status: TrialStatus, verdict: Verdict, experiment: ExperimentSnapshot | undefined): Promise<RunTrialResult> {
    let current: TrialState | undefined = { ...trial, status };
    for (let attempt = 0; attempt < MAX_ATTEMPTS && current && !isFinal(current.status); attempt += 1) {
      const stopping = current.status === 'Stop Initiated';
      const final = stopping ? 'Stopped' : verdict.status;
      // The verdict's first line is its headline; a Succeeded headline would contradict the Stopped one.
      const kept = verdict.status === 'Succeeded' ? verdict.lines.slice(1) : verdict.lines;
      const lines = stopping && verdict.status !== 'Stopped' ? [log.error(`Trial Stopped: a stop was requested before the trial could end ${verdict.status}.`), ...kept] : [...verdict.lines];
      if (final === 'Stopped') await noteHalt(trial, lines);
      const ended = await move(current, final, { completed_at: nowIso(), trial_record: resultOf(lines) }, experiment);
      if (ended) {
        snapshots.forget(trial.id);
        logger.info('Trial finished', { trialId: trial.id, status: final, invocations: ended.invocations ?? 0 });
        notify(() => observer.trialFinished?.({ trialId: trial.id, status: final, invocations: ended.invocations ?? 0 }));
        return { outcome: 'ran', status: final };
      }
      current = await trials.getState(trial.id);
    }
    if (current && isFinal(current.status)) {
      logger.warn('Trial was finished by someone else', { trialId: trial.id, status: current.status });
      return { outcome: 'skipped', status: current.status };
    }
    throw new ConflictError(`Trial ${trial.id} could not be moved to its final status.`);
  }

  /** Runs one slice from `checkpoint` and ends it: final status, or checkpoint saved and parked. */
  async function runSlice(trial: TrialState, experiment: ExperimentSnapshot | undefined, checkpoint: TrialCheckpoint, status: TrialStatus, options: RunTrialOptions): Promise<RunTrialResult> {
    const params = resolveParameters(experiment?.parameters, trial.parameters);
    const started = now();
    // `during` guards are checked while main steps run in this slice; the verdict they change is decided in the slice that ends the main steps.
    const guards = checkpoint.verdict ? undefined : trialGuards(trial, experiment, params, checkpoint.guards);
    // Checks that fell due while the trial was parked (a long wait) come first: a trip stops the trial before its step goes on.
    await guards?.checkDue();
    if (guards?.tripped?.stopping) status = 'Stop Initiated';
    const stored: { experiment?: Experiment; read?: boolean } = {};
    const mustStop = (): Promise<boolean> => stoppedByHalt(trial, stored);
    // A slice that goes on from a checkpoint (not the first): a halt engaged while the trial was parked stops it now.
    const resumed = checkpoint.phase !== 'pre_steps' || checkpoint.index > 0 || checkpoint.step_state !== undefined;
    if (!checkpoint.verdict && status === 'In Progress' && resumed && (await mustStop())) status = 'Stop Initiated';
    const afterMainSteps = async (verdict: Verdict, run: TrialRun): Promise<Verdict> => {
      if (!guards) return verdict;
      await guards.stopWatching();
      const tripped = guards.tripped ?? (['Succeeded', 'Failed'].includes(verdict.status) ? await guards.after() : undefined);
      if (!tripped) return verdict;
      // The trip asked for the stop in the store; the run follows it (or fails the trial if that write failed).
      if (tripped.stopping) run.status = 'Stop Initiated';
      const status = tripped.stopping ? 'Stopped' : 'Failed';
      const kept = verdict.status === 'Succeeded' ? [] : verdict.lines;
      return { status, lines: [...guardVerdictLines(tripped.trip, status, 'the post steps ran').map((line) => log.error(line)), ...kept] };
    };
    const run = new TrialRun(runDeps, trial.id, experiment, params, secretsOfParameters(experiment, params), checkpoint, status, {
      deadline: options.deadline,
      yieldSignal: options.yieldSignal ?? new AbortController().signal,
      mainStepsEndOfLife: mainStepsEndOfLife(trial.created_at, postStepsReserveMs(registry, experiment, params)),
      afterMainSteps,
      mustStop,
      // A running step's state (the FIS experiment it started) is saved as the park saves it, the slice left running.
      saveCheckpoint: async (saved) => (await trials.updateRuntime(trial.id, { checkpoint: saved }, { recovery: options.recovery === true })) !== undefined,
    });
    let end;
    guards?.watch();
    try {
      end = await run.runSlice();
    } catch (error) {
      if (!(error instanceof RecordRejectedError)) throw error;
      // Retrying cannot make the store take the entry: end the trial now, with the reason.
      logger.error('The store refused a record entry; the trial ends Failed', { trialId: trial.id, error: error.message });
      return finish(trial, run.status, { status: 'Failed', lines: [log.error(`Trial Failed: its record could not be saved (${error.message}).`)] }, experiment);
    } finally {
      await guards?.stopWatching();
    }
    if (end.kind === 'final') return finish(trial, run.status, end.verdict, experiment);
    // A parked trial comes back for its next `during` check, with the guards' state, while its main steps go on.
    const guardCheckAt = guards && !checkpoint.verdict ? guards.nextCheckAt() : undefined;
    if (guards && !checkpoint.verdict) checkpoint.guards = guards.saved();
    else delete checkpoint.guards;
    const resumeAt = Math.min(end.resumeAt, guardCheckAt ?? Number.POSITIVE_INFINITY);
    const parked = await trials.updateRuntime(trial.id, { slice: 'parked', checkpoint, lease_until: leaseUntil(now(), resumeAt) }, { recovery: options.recovery === true });
    if (!parked) {
      const current = await trials.getState(trial.id);
      return { outcome: 'skipped', status: current?.status ?? null };
    }
    const reason = resumeAt < end.resumeAt ? `${end.reason}; a guard check is due first` : end.reason;
    logger.info('Trial slice parked', { trialId: trial.id, resumeAt: new Date(resumeAt).toISOString(), reason });
    notify(() => observer.sliceParked?.({ trialId: trial.id, resumeAt, reason, durationMs: now() - started }));
    return { outcome: 'parked', status: parked.status, resumeAt };
  }

  async function invalid(trial: TrialState, message: string, experiment?: ExperimentSnapshot): Promise<RunTrialResult | undefined> {
    const ended = await move(trial, 'Invalid', { completed_at: nowIso(), trial_record: resultOf([log.error(message)]) }, experiment);
    return ended ? { outcome: 'ran', status: 'Invalid' } : undefined;
  }

  async function stopQueued(trial: TrialState): Promise<RunTrialResult | undefined> {
    const lines = [log.error('Trial Stopped: a stop was requested before the trial started; no step was run.')];
    await noteHalt(trial, lines);
    const ended = await move(trial, 'Stopped', { completed_at: nowIso(), trial_record: resultOf(lines) }, await experimentOf(trial));
    return ended ? { outcome: 'ran', status: 'Stopped' } : undefined;
  }

  async function start(trial: TrialState, options: RunTrialOptions): Promise<RunTrialResult | undefined> {
    const experiment = await experimentOf(trial);
    if (!experiment) return invalid(trial, `Trial Invalid: experiment ${trial.experiment} does not exist.`);
    const params = resolveParameters(experiment.parameters, trial.parameters);
    const missing = missingParameters(stepsOf(experiment), params);
    if (missing.length > 0) {
      const names = missing.map((name) => `"${name}"`).join(', ');
      return invalid(trial, `Trial Invalid: no value for parameter(s) ${names} in the trial, schedule or experiment parameters.`, experiment);
    }
    const stored = deps.safety ? await storedExperiment(trial) : undefined;
    const refused = stored ? await deps.safety?.refuseStart(asTrial(trial), stored) : undefined;
    if (refused) {
      const ended = await move(trial, 'Aborted', { completed_at: nowIso(), trial_record: resultOf([log.error(refused)]) }, experiment);
      return ended ? { outcome: 'ran', status: 'Aborted' } : undefined;
    }
    const checkpoint = initialCheckpoint();
    const runtime = { slice: 'running' as const, checkpoint, lease_until: leaseUntil(now(), options.deadline), ...(options.receipt !== undefined && { receipt: options.receipt }) };
    const started = await move(trial, 'In Progress', { executed_at: nowIso(), invocations: 1, runtime, trial_record: emptyTrialRecord() });
    if (!started) return undefined;
    notify(() => observer.sliceStarted?.({ trialId: trial.id, invocation: 1, recovering: false }));
    // Pre-flight: a `before` guard that trips ends the trial before anything is touched (no step, no post step).
    const preflight = await trialGuards(started, experiment, params)?.before();
    if (preflight) return finish(started, started.status, { status: 'Aborted', lines: guardVerdictLines(preflight, 'Aborted', 'no step was run').map((line) => log.error(line)) }, experiment);
    return runSlice(started, experiment, checkpoint, started.status, options);
  }

  /** A slice that never ended: plan the recovery from the record, undo what the interrupted step left running, and run it (post steps only). */
  async function recover(state: TrialState, options: RunTrialOptions, counted: boolean): Promise<RunTrialResult> {
    const trial = await trials.get(state.id);
    if (!trial) return { outcome: 'skipped', status: null };
    const experiment = await experimentOf(trial);
    const orphaned = state.runtime?.orphaned;
    const previous = state.runtime?.checkpoint;
    const plan = planRecovery(trial, experiment, previous, log, orphaned);
    logger.warn('Recovering an interrupted trial', { trialId: trial.id, status: state.status, postStepsFrom: plan.checkpoint.index, ...(orphaned !== undefined && { orphaned }) });
    if (plan.interrupted) {
      // The trial ends here: what the interrupted step left running (an FIS experiment, an SSM command) is undone first.
      const params = resolveParameters(experiment?.parameters, trial.parameters);
      const undone = await cleanUpInterrupted(registry, experiment, params, previous, plan.interrupted, log, now);
      const entry = boundEntry({ ...plan.interrupted.entry, logs: [...plan.interrupted.entry.logs, ...undone] });
      await trials.putRecordEntry(trial.id, plan.interrupted.phase, plan.interrupted.index, entry);
    }
    const runtime = {
      slice: 'running' as const,
      checkpoint: plan.checkpoint,
      lease_until: leaseUntil(now(), options.deadline),
      ...(options.receipt !== undefined && { receipt: options.receipt }),
      ...(orphaned !== undefined && { orphaned }),
    };
    const claimed = await trials.updateRuntime(trial.id, runtime, { replace: true, countInvocation: !counted, recovery: options.recovery === true });
    if (!claimed) return { outcome: 'skipped', status: (await trials.getState(trial.id))?.status ?? null };
    notify(() => observer.sliceStarted?.({ trialId: trial.id, invocation: (claimed.invocations ?? 0) + (counted ? 0 : 1), recovering: true }));
    return runSlice(state, experiment, plan.checkpoint, claimed.status, options);
  }

  /**
   * Takes up a running trial with one write: marks this slice running, counts the
   * invocation and answers the trial as it was. A parked trial goes on from its
   * checkpoint; a slice that never ended was interrupted. Undefined when the trial
   * is not running with a runtime (Scheduled, finished, unknown, or left by a worker
   * from before slices existed).
   */
  async function claim(trialId: string, options: RunTrialOptions): Promise<RunTrialResult | undefined> {
    const before = await trials.updateRuntime(trialId, { slice: 'running', lease_until: leaseUntil(now(), options.deadline), ...(options.receipt !== undefined && { receipt: options.receipt }) }, { countInvocation: true, recovery: options.recovery === true });
    if (!before) return undefined;
    const runtime = before.runtime;
    if (!runtime || runtime.slice !== 'parked') return recover(before, options, true);
    const invocation = (before.invocations ?? 0) + 1;
    notify(() => observer.sliceStarted?.({ trialId, invocation, recovering: runtime.checkpoint.recovering === true }));
    return runSlice({ ...before, invocations: invocation }, await experimentOf(before), runtime.checkpoint, before.status, options);
  }

  return async function runTrial(trialId, options = {}) {
    // The common case of a long trial (its next slice) costs this one write. A first delivery (a recovery is never one: its trial runs) skips it.
    if (options.firstDelivery !== true || options.recovery === true) {
      const claimed = await claim(trialId, options);
      if (claimed) return claimed;
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const trial = await trials.getState(trialId);
      if (!trial) {
        logger.warn('Unknown trial; nothing to run', { trialId });
        return { outcome: 'skipped', status: null };
      }
      if (isFinal(trial.status)) {
        logger.info('Trial already finished; nothing to run', { trialId, status: trial.status });
        return { outcome: 'skipped', status: trial.status };
      }
      // The watchdog took the trial over: only its recovery delivery runs it; a recovery delivery runs nothing else.
      if (trial.runtime?.orphaned !== undefined || options.recovery === true) {
        if (trial.runtime?.orphaned !== undefined && options.recovery === true) return (await claim(trialId, options)) ?? { outcome: 'skipped', status: trial.status };
        logger.warn(options.recovery ? 'Recovery delivery for a trial the watchdog does not hold; nothing to run' : 'Trial taken over by the watchdog; this delivery runs nothing', { trialId, status: trial.status });
        return { outcome: 'skipped', status: trial.status };
      }
      let result: RunTrialResult | undefined;
      if (trial.status === 'Scheduled') result = await start(trial, options);
      else if (trial.status === 'Stop Initiated' && trial.executed_at === null) result = await stopQueued(trial);
      else result = trial.runtime ? await claim(trialId, options) : await recover(trial, options, false);
      if (result) return result;
      // The trial changed between the read and the write (a stop request); handle its new status.
    }
    throw new ConflictError(`Trial ${trialId} kept changing while the worker tried to run it.`);
  };
}
