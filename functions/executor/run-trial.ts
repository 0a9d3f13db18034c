/**
 * Run trial — primary course:
 * 1. Load the trial. Unknown id, or already finished (a duplicate delivery) ⇒ nothing to do.
 * 2. Stopped while queued ⇒ `Stopped` without running a step. Found `In Progress`
 *    (a previous worker died) ⇒ recover: run its post steps, end `Failed`, never rerun main steps.
 * 3. Load the experiment (a deleted one too: its definition is kept for audit) and
 *    resolve parameters, trial over experiment. Any placeholder without a value ⇒ `Invalid`.
 * 4. Move `Scheduled` → `In Progress` (executed_at).
 * 5. Run pre_steps, then steps, then post_steps. Every step is saved when it ends, and
 *    also when it starts if it is still running after a moment (so a long step shows as
 *    running); a stop request or the time budget ends the main steps early.
 * 6. Move to the final status (completed_at) with the full record and a `result` entry.
 *
 * Each status change is a conditional write from the status last read; when it loses a
 * race (a stop request landed), the trial is read again and handled from its new status.
 *
 * Time budget: a trial must end before `deadline` (the Lambda's remaining time minus a
 * margin). For now a trial that would overrun is ended `Failed` ("time budget exhausted
 * before step N") after its post steps. The record saved after every step is a complete
 * checkpoint, so a later change can instead pause here and let a redelivered message
 * resume from the first unfinished step.
 */
import type { Experiment, Step, StepList } from '../domain/experiment.js';
import { ConflictError } from '../domain/errors.js';
import { evaluateExpectations } from '../domain/expectations.js';
import { collectSecrets, hideParameters, parameterSecrets, redact, scrubJson, scrubText, secretParameterNames } from '../domain/redaction.js';
import { findPlaceholders, interpolate, isStepOutputReference, missingParameters, resolveParameters, STEP_OUTPUTS } from '../domain/templating.js';
import { assertTransition, emptyTrialRecord, isFinal, type Trial, type TrialRecord, type TrialRecordEntry, type TrialStatus } from '../domain/trial.js';
import type { Json, JsonObject } from '../domain/types.js';
import { consoleLogger, type AppLogger } from '../app-logger.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { StepFailedError } from '../modules/types.js';
import type { Clock, ExperimentStore, SafetyMetrics, TrialStore } from '../ports.js';
import type { ExecutorSafety } from './safety-checks.js';
import { guardsOf, guardVerdictLines, TrialGuards } from './trial-guards.js';
import { isErrorLine, TrialLog } from './trial-log.js';

export type ExecutorLogger = AppLogger;

export interface RunTrialDeps {
  trials: TrialStore;
  experiments: ExperimentStore;
  registry: ModuleRegistry;
  clock: Clock;
  /** How often a running step checks the store for a stop request (default 1000 ms). */
  stopPollMs?: number;
  /** How long a step runs before its start is written to the store (default 1000 ms). */
  startMarkerDelayMs?: number;
  logger?: ExecutorLogger;
  /** Halts and freeze windows, checked when a trial starts and quoted when one stops it. */
  safety?: ExecutorSafety;
  /** Counts guard trips. */
  metrics?: SafetyMetrics;
}

export interface RunTrialOptions {
  /** Epoch ms by which the trial must have ended; absent = no budget (local mode). */
  deadline?: number;
}

/**
 * `ran`: this call moved the trial to `status` (a final one). `skipped`: nothing to
 * do — unknown id (`status` null), already finished, or taken by someone else.
 */
export type RunTrialResult = { outcome: 'ran'; status: TrialStatus } | { outcome: 'skipped'; status: TrialStatus | null };

export type RunTrial = (trialId: string, options?: RunTrialOptions) => Promise<RunTrialResult>;

export const DEFAULT_STOP_POLL_MS = 1000;
export const DEFAULT_START_MARKER_DELAY_MS = 1000;
/** Conditional writes lost to concurrent changes before giving up (each loss means the status moved on). */
const MAX_ATTEMPTS = 5;
/** Longest delay Node's timers accept; a longer budget needs no timer. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_SUMMARY_LENGTH = 300;

const PHASE_LABEL: Record<StepList, string> = { pre_steps: 'pre step', steps: 'step', post_steps: 'post step' };
const MAIN_PHASES = ['pre_steps', 'steps'] as const;
const PHASE_ORDER: readonly StepList[] = ['pre_steps', 'steps', 'post_steps'];

type FinalStatus = 'Succeeded' | 'Failed' | 'Aborted' | 'Stopped';
type StepOutcome = 'ok' | 'failed' | 'stopped' | 'out-of-time';
type AbortCause = 'stop' | 'deadline';


function stepsOf(experiment: Experiment | undefined): Step[] {
  return experiment ? [...experiment.pre_steps, ...experiment.steps, ...experiment.post_steps] : [];
}

/** The values of parameters that hold credentials, to scrub from everything a run records. */
function secretsOfParameters(experiment: Experiment | undefined, params: JsonObject): string[] {
  return parameterSecrets(params, secretParameterNames(stepsOf(experiment), params));
}

/** `step 2 ("probe")`, numbered from 1 within its list. */
function stepLabel(phase: StepList, index: number, step: Step | undefined): string {
  return `${PHASE_LABEL[phase]} ${index + 1}${step ? ` ("${step.step}")` : ''}`;
}

function isJsonObject(value: Json): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A short, secret-free line about a step's output: its top-level scalar fields (the raw body is left out). */
function summarize(output: Json, secrets: readonly string[]): string {
  const safe = redact(output);
  let shown: Json = safe;
  if (isJsonObject(safe)) {
    const scalars: JsonObject = {};
    for (const [key, value] of Object.entries(safe)) {
      if (key !== 'response_text' && (value === null || typeof value !== 'object')) scalars[key] = value;
    }
    shown = scalars;
  }
  const text = scrubText(JSON.stringify(shown), secrets);
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH)}…` : text;
}

/** The least time a step will take when it says so (`time_in_seconds`), so a wait that cannot fit is not started. */
function minimumDurationMs(where: JsonObject): number {
  const seconds = where['time_in_seconds'];
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

function entryFinished(entry: TrialRecordEntry): boolean {
  return entry.logs.some(isErrorLine) || (entry.logs.at(-1)?.endsWith('] Completed.') ?? false);
}

/**
 * Where a run that died stopped, read from its record: the unfinished step, or else
 * the step that would have come next; `undefined` when nothing was left to run.
 */
function interruptionPoint(record: TrialRecord, experiment: Experiment | undefined): { phase: StepList; index: number; step: Step | undefined } | undefined {
  const stepsOf = (phase: StepList): Step[] => experiment?.[phase] ?? [];
  const firstFrom = (phases: readonly StepList[]): { phase: StepList; index: number; step: Step | undefined } | undefined => {
    for (const phase of phases) {
      const step = stepsOf(phase)[0];
      if (step) return { phase, index: 0, step };
    }
    return undefined;
  };
  const lastPhase = [...PHASE_ORDER].reverse().find((phase) => record[phase].length > 0);
  if (!lastPhase) return firstFrom(PHASE_ORDER);
  const index = record[lastPhase].length - 1;
  const last = record[lastPhase][index] as TrialRecordEntry;
  if (!entryFinished(last)) return { phase: lastPhase, index, step: stepsOf(lastPhase)[index] };
  // A failed or stopped main step sends the run straight to the post steps.
  if (lastPhase !== 'post_steps' && last.logs.some(isErrorLine)) return firstFrom(['post_steps']);
  const next = stepsOf(lastPhase)[index + 1];
  if (next) return { phase: lastPhase, index: index + 1, step: next };
  return firstFrom(PHASE_ORDER.slice(PHASE_ORDER.indexOf(lastPhase) + 1));
}

/**
 * Runs one step under an AbortSignal that fires on a stop request (polled) or at the
 * deadline. The step is raced against the signal, so even a module that ignores its
 * signal cannot keep the worker past a stop.
 */
class StepGuard {
  private readonly controller = new AbortController();
  private poller: ReturnType<typeof setInterval> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  cause: AbortCause | undefined;

  constructor(options: { pollMs: number; pollForStop?: () => Promise<boolean>; msUntilDeadline?: number; onPollError: (error: unknown) => void }) {
    const { pollForStop, msUntilDeadline } = options;
    if (pollForStop) {
      let inFlight = false;
      this.poller = setInterval(() => {
        if (inFlight) return;
        inFlight = true;
        pollForStop()
          .then((stop) => {
            if (stop) this.abort('stop');
          })
          .catch(options.onPollError)
          .finally(() => {
            inFlight = false;
          });
      }, options.pollMs);
    }
    if (msUntilDeadline !== undefined && msUntilDeadline <= MAX_TIMER_MS) {
      this.deadlineTimer = setTimeout(() => this.abort('deadline'), Math.max(0, msUntilDeadline));
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(cause: AbortCause): void {
    if (this.cause) return;
    this.cause = cause;
    this.controller.abort(new Error(cause === 'stop' ? 'Trial stop requested' : 'Trial time budget exhausted'));
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const running = work();
    // If the abort wins the race the step's own rejection has no listener left.
    running.catch(() => undefined);
    return Promise.race([running, aborted]);
  }

  dispose(): void {
    if (this.poller) clearInterval(this.poller);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
  }
}

interface Verdict {
  status: FinalStatus;
  lines: string[];
}

/** The execution of one trial once it is `In Progress` (or being recovered). */
class TrialRun {
  private readonly log: TrialLog;
  /** Outputs of the steps run so far, by step name: `{{ steps.<name>.<path> }}` reads them (e.g. a value to restore). */
  private readonly outputs: JsonObject = {};
  private readonly pollMs: number;
  private readonly startMarkerDelayMs: number;

  constructor(
    private readonly deps: Required<Pick<RunTrialDeps, 'trials' | 'registry' | 'clock'>> & { logger: ExecutorLogger; stopPollMs: number; startMarkerDelayMs: number },
    private readonly trialId: string,
    readonly experiment: Experiment | undefined,
    private readonly params: JsonObject,
    /** Values of credential parameters: scrubbed from the record like the step's own secrets. */
    private readonly paramSecrets: readonly string[],
    readonly record: TrialRecord,
    /** The status last read from the store: `Stop Initiated` means stop. */
    public status: TrialStatus,
    private readonly deadline: number | undefined,
  ) {
    this.log = new TrialLog(deps.clock);
    this.pollMs = deps.stopPollMs;
    this.startMarkerDelayMs = deps.startMarkerDelayMs;
  }

  private get stopRequested(): boolean {
    return this.status === 'Stop Initiated';
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  /** Saves the record; progress is best effort (the final write carries the whole record). */
  async save(): Promise<void> {
    try {
      const stored = await this.deps.trials.saveProgress(this.trialId, { trial_record: structuredClone(this.record) });
      if (stored) this.status = stored.status;
    } catch (error) {
      this.deps.logger.warn('Could not save trial progress', { trialId: this.trialId, error: messageOf(error) });
    }
  }

  /** pre_steps then steps; the first failure, stop or overrun ends them. */
  async runMainSteps(): Promise<Verdict> {
    for (const phase of MAIN_PHASES) {
      const steps = this.experiment?.[phase] ?? [];
      for (const [index, step] of steps.entries()) {
        const label = stepLabel(phase, index, step);
        if (this.stopRequested) return { status: 'Stopped', lines: [this.log.error(`Trial Stopped: a stop was requested before ${label}.`)] };
        const where = this.whereOf(step);
        if (this.deadline !== undefined && this.now() + minimumDurationMs(where) >= this.deadline) {
          return { status: 'Failed', lines: [this.log.error(`Trial Failed: time budget exhausted before ${label}; it was not started.`)] };
        }
        const outcome = await this.runStep(phase, index, step, true);
        switch (outcome) {
          case 'ok':
            break;
          case 'failed':
            return phase === 'pre_steps'
              ? { status: 'Aborted', lines: [this.log.error(`Trial Aborted: ${label} failed, so the steps were not run.`)] }
              : { status: 'Failed', lines: [this.log.error(`Trial Failed: ${label} failed.`)] };
          case 'stopped':
            return { status: 'Stopped', lines: [this.log.error(`Trial Stopped: a stop was requested during ${label}.`)] };
          case 'out-of-time':
            return { status: 'Failed', lines: [this.log.error(`Trial Failed: time budget exhausted during ${label}.`)] };
        }
      }
    }
    return { status: 'Succeeded', lines: [this.log.info('Trial Succeeded.')] };
  }

  /**
   * Every post step from `from` on, whatever happens: they undo what earlier steps
   * did, so one failing does not skip the rest. Returns the labels of failed ones.
   */
  async runPostSteps(from = 0): Promise<string[]> {
    const failed: string[] = [];
    const steps = this.experiment?.post_steps ?? [];
    for (let index = from; index < steps.length; index += 1) {
      const step = steps[index] as Step;
      if ((await this.runStep('post_steps', index, step, false)) !== 'ok') failed.push(stepLabel('post_steps', index, step));
    }
    return failed;
  }

  private whereOf(step: Step): JsonObject {
    const where = interpolate(step.where, { ...this.params, [STEP_OUTPUTS]: this.outputs });
    return isJsonObject(where) ? where : {};
  }

  /** Runs one step and records it; `main` steps watch for stop and the deadline. */
  private async runStep(phase: StepList, index: number, step: Step, main: boolean): Promise<StepOutcome> {
    const { registry, logger, trials } = this.deps;
    const where = this.whereOf(step);
    const secrets = [...new Set([...collectSecrets(where), ...this.paramSecrets])].sort((a, b) => b.length - a.length);
    const scrub = (text: string): string => scrubText(text, secrets);
    const stepParameters = scrubJson(redact(where), secrets) as JsonObject;
    const entry: TrialRecordEntry = { step_name: step.step, step_parameters: stepParameters, logs: [this.log.info(`Starting ${step.do} step "${step.step}".`)] };
    // The start of a step is written only if the step is still running after a
    // moment: GET /trial then shows a long step in progress, while a quick step
    // costs one write (its end), not two.
    let startWrite: Promise<void> | undefined;
    const startTimer = setTimeout(() => {
      startWrite = this.save();
    }, this.startMarkerDelayMs);
    const finish = async (outcome: StepOutcome, line: string): Promise<StepOutcome> => {
      clearTimeout(startTimer);
      await startWrite;
      entry.logs.push(line);
      await this.save();
      return outcome;
    };
    this.record[phase].push(entry);

    if (main && this.stopRequested) return finish('stopped', this.log.error('Not started: a stop was requested.'));
    const unresolved = findPlaceholders(where).filter(isStepOutputReference);
    if (unresolved.length > 0) {
      const names = unresolved.map((name) => `{{ ${name} }}`).join(', ');
      return finish('failed', this.log.error(`Not started: ${names} names no output of an earlier step of this run (the step did not run, is named differently, or its output has no such field).`));
    }
    const errors = registry.validateWhere(step.do, where, `${phase}[${index}].where`, false);
    if (errors.length > 0) {
      return finish('failed', this.log.error(scrub(`Invalid step arguments after templating: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`)));
    }
    const module = registry.get(step.do);
    if (!module) return finish('failed', this.log.error(`Unknown step command "${step.do}".`));

    const guard = new StepGuard({
      pollMs: this.pollMs,
      pollForStop: main
        ? async () => {
            const current = await trials.get(this.trialId);
            if (current?.status === 'Stop Initiated') this.status = current.status;
            return this.stopRequested;
          }
        : undefined,
      msUntilDeadline: main && this.deadline !== undefined ? this.deadline - this.now() : undefined,
      onPollError: (error) => logger.warn('Could not check the trial for a stop request', { trialId: this.trialId, error: messageOf(error) }),
    });
    try {
      const output = await guard.run(() => module.run(where, { signal: guard.signal, log: (message) => entry.logs.push(this.log.info(scrub(message))) }));
      this.outputs[step.step] = output;
      entry.logs.push(this.log.info(`Result: ${summarize(output, secrets)}`));
      const expectations = evaluateExpectations(step.expect, output);
      for (const result of expectations.results) {
        entry.logs.push(result.passed ? this.log.info(scrub(result.message)) : this.log.error(scrub(result.message)));
      }
      if (!expectations.passed) {
        const failures = expectations.results.filter((r) => !r.passed).length;
        return await finish('failed', this.log.error(`Step failed: ${failures} of ${expectations.results.length} expectation(s) not met.`));
      }
      return await finish('ok', this.log.info('Completed.'));
    } catch (error) {
      if (guard.cause === 'stop') return await finish('stopped', this.log.error('Stopped: a stop was requested while the step ran.'));
      if (guard.cause === 'deadline') return await finish('out-of-time', this.log.error('Interrupted: the time budget ran out while the step ran.'));
      if (error instanceof StepFailedError) {
        if (error.output !== undefined) {
          this.outputs[step.step] = error.output;
          entry.logs.push(this.log.info(`Result: ${summarize(error.output, secrets)}`));
        }
        return await finish('failed', this.log.error(scrub(error.message)));
      }
      return await finish('failed', this.log.error(scrub(`Step failed with an unexpected error: ${messageOf(error)}`)));
    } finally {
      guard.dispose();
    }
  }
}

export function makeRunTrial(deps: RunTrialDeps): RunTrial {
  const { trials, experiments, clock } = deps;
  const logger = deps.logger ?? consoleLogger;
  const runDeps = { trials, registry: deps.registry, clock, logger, stopPollMs: deps.stopPollMs ?? DEFAULT_STOP_POLL_MS, startMarkerDelayMs: deps.startMarkerDelayMs ?? DEFAULT_START_MARKER_DELAY_MS };
  const log = new TrialLog(clock);
  const nowIso = (): string => clock.now().toISOString();

  /**
   * A conditional status change from the status just read; undefined when the trial moved meanwhile.
   * The final move also hides the trial's credential parameters: the record kept forever holds no secret.
   */
  async function move(trial: Trial, to: TrialStatus, changes: Parameters<TrialStore['transition']>[3], experiment?: Experiment): Promise<Trial | undefined> {
    assertTransition(trial.status, to);
    const sealed = isFinal(to) ? { ...changes, parameters: hideParameters(trial.parameters, secretParameterNames(stepsOf(experiment), trial.parameters)) } : changes;
    return trials.transition(trial.id, [trial.status], to, sealed);
  }

  function withResult(record: TrialRecord, lines: string[]): TrialRecord {
    return { ...record, result: [{ step_name: 'result', step_parameters: {}, logs: lines }] };
  }

  /**
   * Ends a run with `verdict`. A stop request that landed after the last check makes
   * the trial `Stopped` whatever the verdict (`Stop Initiated` can only become that).
   */
  async function finish(trial: Trial, run: TrialRun, verdict: Verdict): Promise<RunTrialResult> {
    let current: Trial | undefined = { ...trial, status: run.status };
    for (let attempt = 0; attempt < MAX_ATTEMPTS && current && !isFinal(current.status); attempt += 1) {
      const stopping = current.status === 'Stop Initiated';
      const status: FinalStatus = stopping ? 'Stopped' : verdict.status;
      // The verdict's first line is its headline; a Succeeded headline would contradict the Stopped one.
      const kept = verdict.status === 'Succeeded' ? verdict.lines.slice(1) : verdict.lines;
      const lines = stopping && verdict.status !== 'Stopped' ? [log.error(`Trial Stopped: a stop was requested before the trial could end ${verdict.status}.`), ...kept] : [...verdict.lines];
      if (status === 'Stopped') await noteHalt(trial, run.experiment, lines);
      const ended = await move(current, status, { completed_at: nowIso(), trial_record: withResult(run.record, lines) }, run.experiment);
      if (ended) {
        logger.info('Trial finished', { trialId: trial.id, status });
        return { outcome: 'ran', status };
      }
      current = await trials.get(trial.id);
    }
    if (current && isFinal(current.status)) {
      logger.warn('Trial was finished by someone else', { trialId: trial.id, status: current.status });
      return { outcome: 'skipped', status: current.status };
    }
    throw new ConflictError(`Trial ${trial.id} could not be moved to its final status.`);
  }

  /** A stopped trial's record names the halt behind the stop, when one is in force (best effort: the stop stands either way). */
  async function noteHalt(trial: Trial, experiment: Experiment | undefined, lines: string[]): Promise<void> {
    try {
      const note = await deps.safety?.haltNote(trial, experiment);
      if (note) lines.push(log.error(note));
    } catch (error) {
      logger.warn('Could not read the halts for a stopped trial', { trialId: trial.id, error: messageOf(error) });
    }
  }

  async function loadExperiment(trial: Trial): Promise<Experiment | undefined> {
    return experiments.get(trial.experiment, { includeDeleted: true });
  }

  async function stopQueued(trial: Trial): Promise<RunTrialResult | undefined> {
    const experiment = await loadExperiment(trial);
    const lines = [log.error('Trial Stopped: a stop was requested before the trial started; no step was run.')];
    await noteHalt(trial, experiment, lines);
    const ended = await move(trial, 'Stopped', { completed_at: nowIso(), trial_record: withResult(trial.trial_record, lines) }, experiment);
    return ended ? { outcome: 'ran', status: 'Stopped' } : undefined;
  }

  async function invalid(trial: Trial, message: string, experiment?: Experiment): Promise<RunTrialResult | undefined> {
    const ended = await move(trial, 'Invalid', { completed_at: nowIso(), trial_record: withResult(emptyTrialRecord(), [log.error(message)]) }, experiment);
    return ended ? { outcome: 'ran', status: 'Invalid' } : undefined;
  }

  async function start(trial: Trial, deadline: number | undefined): Promise<RunTrialResult | undefined> {
    const experiment = await loadExperiment(trial);
    if (!experiment) return invalid(trial, `Trial Invalid: experiment ${trial.experiment} does not exist.`);
    const params = resolveParameters(experiment.parameters, trial.parameters);
    const missing = missingParameters([...experiment.pre_steps, ...experiment.steps, ...experiment.post_steps], params);
    if (missing.length > 0) {
      const names = missing.map((name) => `"${name}"`).join(', ');
      return invalid(trial, `Trial Invalid: no value for parameter(s) ${names} in the trial, schedule or experiment parameters.`, experiment);
    }
    const refused = await deps.safety?.refuseStart(trial, experiment);
    if (refused) {
      const ended = await move(trial, 'Aborted', { completed_at: nowIso(), trial_record: withResult(emptyTrialRecord(), [log.error(refused)]) }, experiment);
      return ended ? { outcome: 'ran', status: 'Aborted' } : undefined;
    }
    const started = await move(trial, 'In Progress', { executed_at: nowIso(), trial_record: emptyTrialRecord() });
    if (!started) return undefined;
    const run = new TrialRun(runDeps, trial.id, experiment, params, secretsOfParameters(experiment, params), emptyTrialRecord(), started.status, deadline);
    const guarded = guardsOf(experiment, trial);
    const guards = guarded.length > 0
      ? new TrialGuards({ trialId: trial.id, guards: guarded, registry: deps.registry, trials, clock, params, paramSecrets: secretsOfParameters(experiment, params), logger, metrics: deps.metrics })
      : undefined;
    // Pre-flight: a `before` guard that trips ends the trial before anything is touched (no step, no post step).
    const preflight = await guards?.before();
    if (preflight) return finish(started, run, { status: 'Aborted', lines: guardVerdictLines(preflight, 'Aborted', 'no step was run').map((line) => log.error(line)) });
    guards?.watch();
    let verdict = await run.runMainSteps();
    if (guards) {
      await guards.stopWatching();
      const tripped = guards.tripped ?? (['Succeeded', 'Failed'].includes(verdict.status) ? await guards.after() : undefined);
      if (tripped) {
        // The trip asked for the stop in the store; the run follows it (or fails the trial if that write failed).
        if (tripped.stopping) run.status = 'Stop Initiated';
        const status = tripped.stopping ? 'Stopped' : 'Failed';
        const kept = verdict.status === 'Succeeded' ? [] : verdict.lines;
        verdict = { status, lines: [...guardVerdictLines(tripped.trip, status, 'the post steps ran').map((line) => log.error(line)), ...kept] };
      }
    }
    const failedPost = await run.runPostSteps();
    if (failedPost.length > 0) {
      const line = log.error(`${failedPost.join(', ')} failed.`);
      if (verdict.status === 'Succeeded') return finish(started, run, { status: 'Failed', lines: [log.error(`Trial Failed: ${failedPost.join(', ')} failed.`)] });
      verdict.lines.push(line);
    }
    return finish(started, run, verdict);
  }

  /**
   * A trial found running was left behind by a worker that died. Its main steps are
   * not run again (they may have injected a failure already); its post steps run so
   * what it did is undone, and it ends `Failed` (`Stopped` if a stop was asked).
   */
  async function recover(trial: Trial): Promise<RunTrialResult> {
    const experiment = await loadExperiment(trial);
    const record = structuredClone(trial.trial_record);
    const point = interruptionPoint(record, experiment);
    const lines: string[] = [];
    if (point) {
      const unfinished = record[point.phase][point.index];
      if (unfinished && !entryFinished(unfinished)) unfinished.logs.push(log.error('Interrupted: the worker running this step stopped.'));
      lines.push(log.error(`Trial Failed: the run was interrupted at ${stepLabel(point.phase, point.index, point.step)} when its worker stopped; main steps are not run again.`));
    } else {
      lines.push(log.error('Trial Failed: the run was interrupted after its last step when its worker stopped.'));
    }
    if (!experiment) lines.push(log.error(`Experiment ${trial.experiment} does not exist, so no post step could run.`));
    logger.warn('Recovering an interrupted trial', { trialId: trial.id, status: trial.status });
    const params = resolveParameters(experiment?.parameters, trial.parameters);
    const run = new TrialRun(runDeps, trial.id, experiment, params, secretsOfParameters(experiment, params), record, trial.status, undefined);
    const postFrom = !point ? (experiment?.post_steps.length ?? 0) : point.phase === 'post_steps' ? point.index : 0;
    const failedPost = await run.runPostSteps(postFrom);
    if (failedPost.length > 0) lines.push(log.error(`${failedPost.join(', ')} failed.`));
    return finish(trial, run, { status: 'Failed', lines });
  }

  return async function runTrial(trialId, options = {}) {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const trial = await trials.get(trialId);
      if (!trial) {
        logger.warn('Unknown trial; nothing to run', { trialId });
        return { outcome: 'skipped', status: null };
      }
      if (isFinal(trial.status)) {
        logger.info('Trial already finished; nothing to run', { trialId, status: trial.status });
        return { outcome: 'skipped', status: trial.status };
      }
      let result: RunTrialResult | undefined;
      if (trial.status === 'Scheduled') result = await start(trial, options.deadline);
      else if (trial.status === 'Stop Initiated' && trial.executed_at === null) result = await stopQueued(trial);
      else result = await recover(trial);
      if (result) return result;
      // The trial changed between the read and the write (a stop request); handle its new status.
    }
    throw new ConflictError(`Trial ${trialId} kept changing while the worker tried to run it.`);
  }
}
