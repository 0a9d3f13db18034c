import type { Step, StepList } from '../domain/experiment.js';
import { evaluateExpectations } from '../domain/expectations.js';
import { RecordRejectedError } from '../domain/errors.js';
import { boundEntry } from '../domain/record-limits.js';
import { collectSecrets, redact, scrubJson, scrubText } from '../domain/redaction.js';
import type { ExperimentSnapshot, FinalVerdict, RecordPhase, TrialCheckpoint, TrialRecordEntry, TrialStatus } from '../domain/trial.js';
import type { Json, JsonObject } from '../domain/types.js';
import { findPlaceholders, isStepOutputReference } from '../domain/templating.js';
import type { AppLogger } from '../app-logger.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import { CLEANUP_TIMEOUT_MS, MAX_SUSPENSION_STATE_CHARS, StepFailedError, StepSuspension } from '../modules/types.js';
import type { Clock, TrialStore } from '../ports.js';
import type { ExecutorObserver } from './observer.js';
import { messageOf, stepLabel, summarize } from './record-format.js';
import { maxRunMs, whereOf } from './slicing.js';
import { captureOutputs, outputsTree, referencedOutputs } from './step-outputs.js';
import { cleanUpSuspended } from './step-cleanup.js';
import { StepGuard } from './step-guard.js';
import { StartMarker, stepStateSaver } from './step-start.js';
import { TrialLog } from './trial-log.js';

export interface Verdict {
  status: FinalVerdict;
  lines: string[];
}

/** How a slice ended: the run is over (`final`), or it goes on in a later slice from the checkpoint (`park`). */
export type SliceEnd = { kind: 'final'; verdict: Verdict } | { kind: 'park'; resumeAt: number; reason: string };

type StepOutcome = 'ok' | 'failed' | 'stopped' | 'out-of-time' | { suspendedUntil: number };

export interface TrialRunDeps {
  trials: TrialStore;
  registry: ModuleRegistry;
  clock: Clock;
  logger: AppLogger;
  observer: ExecutorObserver;
  stopPollMs: number;
  startMarkerDelayMs: number;
}

/** Called once the main steps are over, before the post steps: may change the verdict (guards). */
export type AfterMainSteps = (verdict: Verdict, run: TrialRun) => Promise<Verdict>;

export interface SliceLimits {
  /** Epoch ms by which every step call of this slice must have returned; undefined = no budget. */
  deadline: number | undefined;
  /** Fires when the slice must end early (local shutdown). */
  yieldSignal: AbortSignal;
  /** Main steps do not start after this (the trial's end of life less what post steps need). */
  mainStepsEndOfLife: number;
  afterMainSteps?: AfterMainSteps;
  /** Asked before each main step after the first of the slice: true when the trial must stop (a halt now applies to it). */
  mustStop?: () => Promise<boolean>;
  /**
   * Writes `checkpoint` to the store while the slice runs (as a park does, under the same
   * conditions, the slice left running); false when the write was refused. What a step
   * saves through `context.saveState` goes this way, for a recovery to find.
   */
  saveCheckpoint?: (checkpoint: TrialCheckpoint) => Promise<boolean>;
}

const MAIN_PHASES = ['pre_steps', 'steps'] as const;
/** A module is told the slice ends this much before the executor's hard deadline for the call. */
const MODULE_DEADLINE_MARGIN_MS = 500;
/** The least slice time left in which a resumable step is started (it suspends before the deadline). */
const MIN_RESUMABLE_CALL_MS = 1500;
/** Entry writes retried on a store hiccup before the slice gives up (and the message is retried). */
const ENTRY_WRITE_ATTEMPTS = 3;

/**
 * One slice of a trial's run: from its checkpoint, runs steps until the run is over
 * or the slice must end (budget, shutdown, a long wait). `checkpoint` is updated in
 * place; the caller saves it when the slice parks.
 */
export class TrialRun {
  private readonly log: TrialLog;
  /** Step calls made in this slice: a step that does not fit in a fresh slice never will. */
  private callsThisSlice = 0;
  /** `{{ steps.<name>.<path> }}` references of the experiment: the outputs worth keeping. */
  private readonly references: string[];

  constructor(
    private readonly deps: TrialRunDeps,
    private readonly trialId: string,
    private readonly experiment: ExperimentSnapshot | undefined,
    private readonly params: JsonObject,
    private readonly paramSecrets: readonly string[],
    readonly checkpoint: TrialCheckpoint,
    /** The status last read from the store: `Stop Initiated` means stop. */
    public status: TrialStatus,
    private readonly limits: SliceLimits,
  ) {
    this.log = new TrialLog(deps.clock);
    this.references = referencedOutputs(experiment);
  }

  /** A step's `where` with parameters and the outputs of earlier steps filled in. */
  private whereFor(step: Step): JsonObject {
    return whereOf(step, { ...this.params, ...outputsTree(this.checkpoint.outputs) });
  }

  /** Keeps what later steps read of this step's output. */
  private keepOutput(step: Step, output: Json): void {
    const captured = captureOutputs(this.references, step.step, output);
    if (Object.keys(captured).length > 0) this.checkpoint.outputs = { ...this.checkpoint.outputs, ...captured };
  }

  private async refreshStatus(): Promise<void> {
    try {
      const current = await this.deps.trials.getState(this.trialId);
      if (current?.status === 'Stop Initiated') this.status = current.status;
    } catch (error) {
      this.deps.logger.warn('Could not check the trial for a stop request', { trialId: this.trialId, error: messageOf(error) });
    }
  }

  private get stopRequested(): boolean {
    return this.status === 'Stop Initiated';
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  async runSlice(): Promise<SliceEnd> {
    if (!this.checkpoint.verdict) {
      const main = await this.runMainSteps();
      if (main.kind === 'park') return main;
      this.checkpoint.verdict = this.limits.afterMainSteps ? await this.limits.afterMainSteps(main.verdict, this) : main.verdict;
      this.moveTo('post_steps', 0);
    }
    const post = await this.runPostSteps();
    if (post) return post;
    return { kind: 'final', verdict: this.finalVerdict(this.checkpoint.verdict) };
  }

  private moveTo(phase: StepList, index: number): void {
    this.checkpoint.phase = phase;
    this.checkpoint.index = index;
    delete this.checkpoint.step_state;
    delete this.checkpoint.step_entry;
    delete this.checkpoint.resume_at;
  }

  private park(resumeAt: number, reason: string): SliceEnd {
    this.checkpoint.resume_at = new Date(resumeAt).toISOString();
    return { kind: 'park', resumeAt, reason };
  }

  /** Whether a call of `step` can end before the slice does; `never` when even a fresh slice is too short. */
  private fits(step: Step, where: JsonObject): 'yes' | 'next-slice' | 'never' {
    if (this.limits.deadline === undefined) return 'yes';
    // A resumable step does what fits before the deadline and suspends: it needs only a moment.
    if (this.deps.registry.get(step.do)?.resumable) return this.now() + MIN_RESUMABLE_CALL_MS <= this.limits.deadline ? 'yes' : 'next-slice';
    if (this.now() + maxRunMs(this.deps.registry, step, where) <= this.limits.deadline) return 'yes';
    return this.callsThisSlice === 0 ? 'never' : 'next-slice';
  }

  /** pre_steps then steps from the checkpoint; the first failure or stop ends them. */
  private async runMainSteps(): Promise<SliceEnd | { kind: 'verdict'; verdict: Verdict }> {
    const verdict = (status: FinalVerdict, line: string) => ({ kind: 'verdict' as const, verdict: { status, lines: [line] } });
    for (const phase of MAIN_PHASES) {
      if (MAIN_PHASES.indexOf(phase) < MAIN_PHASES.indexOf(this.checkpoint.phase as (typeof MAIN_PHASES)[number])) continue;
      const steps = this.experiment?.[phase] ?? [];
      const from = phase === this.checkpoint.phase ? this.checkpoint.index : 0;
      for (let index = from; index < steps.length; index += 1) {
        const step = steps[index] as Step;
        const label = stepLabel(phase, index, step);
        if (phase !== this.checkpoint.phase || index !== this.checkpoint.index) this.moveTo(phase, index);
        const resuming = this.checkpoint.step_state !== undefined;
        // A stop request that landed while the previous step ran: one small read per main step.
        if (!this.stopRequested && this.callsThisSlice > 0) await this.refreshStatus();
        if (!this.stopRequested && this.callsThisSlice > 0 && (await this.limits.mustStop?.())) this.status = 'Stop Initiated';
        if (this.stopRequested) {
          if (resuming) {
            await this.endSuspended(phase, index, step, this.log.error('Stopped: a stop was requested while the step waited.'));
            return verdict('Stopped', this.log.error(`Trial Stopped: a stop was requested during ${label}.`));
          }
          return verdict('Stopped', this.log.error(`Trial Stopped: a stop was requested before ${label}.`));
        }
        if (!resuming && this.now() >= this.limits.mainStepsEndOfLife) {
          return verdict('Failed', this.log.error(`Trial Failed: the trial reached the longest time a trial may run before ${label}; it was not started.`));
        }
        const where = this.whereFor(step);
        const fit = this.fits(step, where);
        if (fit === 'next-slice' || this.limits.yieldSignal.aborted) return this.park(this.now(), `${label} continues in the next slice`);
        if (fit === 'never') {
          await this.writeEntry(phase, index, this.newEntry(step, where, [this.log.error(`Not started: it may take up to ${Math.ceil(maxRunMs(this.deps.registry, step, where) / 1000)} s, more than one worker invocation can give.`)]));
          return verdict('Failed', this.log.error(`Trial Failed: ${label} cannot fit in one worker invocation.`));
        }
        const outcome = await this.runStep(phase, index, step, where, true);
        if (typeof outcome === 'object') return this.park(outcome.suspendedUntil, `${label} is suspended`);
        switch (outcome) {
          case 'ok':
            break;
          case 'failed':
            return phase === 'pre_steps'
              ? verdict('Aborted', this.log.error(`Trial Aborted: ${label} failed, so the steps were not run.`))
              : verdict('Failed', this.log.error(`Trial Failed: ${label} failed.`));
          case 'stopped':
            return verdict('Stopped', this.log.error(`Trial Stopped: a stop was requested during ${label}.`));
          case 'out-of-time':
            return verdict('Failed', this.log.error(`Trial Failed: ${label} ran past the end of its slice.`));
        }
      }
      if (phase === 'pre_steps' && this.checkpoint.phase === 'pre_steps') this.moveTo('steps', 0);
    }
    return { kind: 'verdict', verdict: { status: 'Succeeded', lines: [this.log.info('Trial Succeeded.')] } };
  }

  /**
   * Every post step from the checkpoint on, whatever happened: they undo what earlier
   * steps did, so one failing does not skip the rest. A stop does not cut them short.
   */
  private async runPostSteps(): Promise<SliceEnd | undefined> {
    const steps = this.experiment?.post_steps ?? [];
    for (let index = this.checkpoint.index; index < steps.length; index += 1) {
      const step = steps[index] as Step;
      const label = stepLabel('post_steps', index, step);
      if (index !== this.checkpoint.index) this.moveTo('post_steps', index);
      const where = this.whereFor(step);
      const resuming = this.checkpoint.step_state !== undefined;
      const fit = this.fits(step, where);
      if (fit === 'next-slice' || (this.limits.yieldSignal.aborted && !resuming)) return this.park(this.now(), `${label} continues in the next slice`);
      if (fit === 'never') {
        await this.writeEntry('post_steps', index, this.newEntry(step, where, [this.log.error(`Not started: it may take up to ${Math.ceil(maxRunMs(this.deps.registry, step, where) / 1000)} s, more than one worker invocation can give.`)]));
        this.checkpoint.post_failed.push(label);
        continue;
      }
      const outcome = await this.runStep('post_steps', index, step, where, false);
      if (typeof outcome === 'object') return this.park(outcome.suspendedUntil, `${label} is suspended`);
      if (outcome !== 'ok') this.checkpoint.post_failed.push(label);
    }
    this.moveTo('post_steps', steps.length);
    return undefined;
  }

  private finalVerdict(verdict: Verdict): Verdict {
    const failed = this.checkpoint.post_failed;
    if (failed.length === 0) return verdict;
    if (verdict.status === 'Succeeded') return { status: 'Failed', lines: [this.log.error(`Trial Failed: ${failed.join(', ')} failed.`)] };
    return { status: verdict.status, lines: [...verdict.lines, this.log.error(`${failed.join(', ')} failed.`)] };
  }

  private secretsOf(where: JsonObject): string[] {
    return [...new Set([...collectSecrets(where), ...this.paramSecrets])].sort((a, b) => b.length - a.length);
  }

  private newEntry(step: Step, where: JsonObject, logs: string[]): TrialRecordEntry {
    const secrets = this.secretsOf(where);
    return { step_name: step.step, step_parameters: scrubJson(redact(where), secrets) as JsonObject, logs };
  }

  /** Writes an entry (bounded) in place; a store hiccup is retried, a refused entry ends the trial. */
  private async writeEntry(phase: RecordPhase, index: number, entry: TrialRecordEntry): Promise<void> {
    const bounded = boundEntry(entry);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.deps.trials.putRecordEntry(this.trialId, phase, index, bounded);
        return;
      } catch (error) {
        if (error instanceof RecordRejectedError || attempt >= ENTRY_WRITE_ATTEMPTS) throw error;
        this.deps.logger.warn('Could not save a record entry; retrying', { trialId: this.trialId, phase, index, error: messageOf(error) });
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  /** Ends the suspended step of the checkpoint with `line` (a stop while it waited), once its module undid what it left running. */
  private async endSuspended(phase: StepList, index: number, step: Step, line: string): Promise<void> {
    const entry = this.checkpoint.step_entry;
    const where = this.whereFor(step);
    const scrub = (text: string): string => scrubText(text, this.secretsOf(where));
    const said: string[] = [];
    const out = { info: (m: string) => said.push(this.log.info(scrub(m))), error: (m: string) => said.push(this.log.error(scrub(m))) };
    await cleanUpSuspended(this.deps.registry.get(step.do), where, this.checkpoint.step_state, out, () => this.now());
    if (entry) await this.writeEntry(phase, index, { ...entry, logs: [...entry.logs, line, ...said] });
    this.moveTo(phase, index);
  }

  /** Runs one call of a step and records it; `main` steps watch for a stop request. */
  private async runStep(phase: StepList, index: number, step: Step, where: JsonObject, main: boolean): Promise<StepOutcome> {
    const { registry, logger, trials, observer } = this.deps;
    const started = this.now();
    const secrets = this.secretsOf(where);
    const scrub = (text: string): string => scrubText(text, secrets);
    const resumed = this.checkpoint.step_state;
    const entry: TrialRecordEntry = this.checkpoint.step_entry
      ? structuredClone(this.checkpoint.step_entry)
      : this.newEntry(step, where, [this.log.info(`Starting ${step.do} step "${step.step}".`)]);
    this.callsThisSlice += 1;
    // A post step's start is saved before it runs: if its worker dies, it is never run
    // twice. A main step's start is saved only if it still runs after a moment (GET
    // /trial then shows a long step in progress, a quick one costs one write).
    const warn = (message: string) => (error: unknown) => logger.warn(message, { trialId: this.trialId, phase, index, error: messageOf(error) });
    const startMarker = new StartMarker(() => this.writeEntry(phase, index, structuredClone(entry)), warn('Could not save the start of a step'));
    if (!main && !resumed) await this.writeEntry(phase, index, entry);
    else if (!resumed) startMarker.schedule(this.deps.startMarkerDelayMs);
    const { saveCheckpoint } = this.limits;
    // After a failed save the step goes on (its own stop and timeout still apply).
    const saveState = saveCheckpoint && stepStateSaver(startMarker, (state) => saveCheckpoint({ ...structuredClone(this.checkpoint), phase, index, step_state: state }), warn('Could not save the state of a running step; it goes on'));
    const finish = async (outcome: StepOutcome, line: string): Promise<StepOutcome> => {
      await startMarker.settle();
      entry.logs.push(line);
      await this.writeEntry(phase, index, entry);
      this.moveTo(phase, index + 1);
      observer.stepEnded?.({ trialId: this.trialId, phase, index, outcome: outcome as string, durationMs: this.now() - started });
      return outcome;
    };

    if (main && this.stopRequested) return finish('stopped', this.log.error('Not started: a stop was requested.'));
    const unresolved = findPlaceholders(where).filter(isStepOutputReference);
    if (unresolved.length > 0) {
      const names = unresolved.map((name) => `{{ ${name} }}`).join(', ');
      return finish('failed', this.log.error(`Not started: ${names} names no output of an earlier step of this run (the step did not run, is named differently, or its output has no such field).`));
    }
    const errors = await registry.validateWhere(step.do, where, `${phase}[${index}].where`, false);
    if (errors.length > 0) {
      return finish('failed', this.log.error(scrub(`Invalid step arguments after templating: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`)));
    }
    const module = registry.get(step.do);
    if (!module) return finish('failed', this.log.error(`Unknown step command "${step.do}".`));

    const guard = new StepGuard({
      pollMs: this.deps.stopPollMs,
      // A module that can undo what it started gets time to do so when a stop interrupts it.
      stopGraceMs: module.cleanup ? CLEANUP_TIMEOUT_MS : 0,
      pollForStop: main
        ? async () => {
            const current = await trials.getState(this.trialId);
            if (current?.status === 'Stop Initiated') this.status = current.status;
            return this.stopRequested;
          }
        : undefined,
      msUntilDeadline: this.limits.deadline !== undefined ? this.limits.deadline - this.now() : undefined,
      onPollError: (error) => logger.warn('Could not check the trial for a stop request', { trialId: this.trialId, error: messageOf(error) }),
    });
    try {
      const output = await guard.run(() =>
        module.run(where, {
          signal: guard.signal,
          log: (message) => entry.logs.push(this.log.info(scrub(message))),
          now: () => this.now(),
          // A step that stops at the slice's end returns before the guard's hard deadline does.
          sliceDeadline: this.limits.deadline === undefined ? undefined : this.limits.deadline - MODULE_DEADLINE_MARGIN_MS,
          yieldSignal: this.limits.yieldSignal,
          resumed,
          ...(saveState && { saveState }),
        }),
      );
      if (output instanceof StepSuspension) return await this.suspend(phase, index, entry, output, startMarker);
      this.keepOutput(step, output);
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
      if (error instanceof RecordRejectedError) throw error;
      if (guard.cause === 'stop') return await finish('stopped', this.log.error('Stopped: a stop was requested while the step ran.'));
      if (guard.cause === 'deadline') return await finish('out-of-time', this.log.error('Interrupted: the step ran past the end of its slice.'));
      if (error instanceof StepFailedError) {
        if (error.output !== undefined) {
          this.keepOutput(step, error.output);
          entry.logs.push(this.log.info(`Result: ${summarize(error.output, secrets)}`));
        }
        return await finish('failed', this.log.error(scrub(error.message)));
      }
      return await finish('failed', this.log.error(scrub(`Step failed with an unexpected error: ${messageOf(error)}`)));
    } finally {
      guard.dispose();
    }
  }

  /** Keeps a suspended step's state and entry in the checkpoint (and shows its progress in the record). */
  private async suspend(phase: StepList, index: number, entry: TrialRecordEntry, suspension: StepSuspension, startMarker: StartMarker): Promise<StepOutcome> {
    await startMarker.settle();
    if (JSON.stringify(suspension.state).length > MAX_SUSPENSION_STATE_CHARS) {
      throw new Error(`Step ${phase}[${index}] suspended with a state larger than ${MAX_SUSPENSION_STATE_CHARS} characters`);
    }
    const bounded = boundEntry(entry);
    await this.writeEntry(phase, index, bounded);
    this.checkpoint.phase = phase;
    this.checkpoint.index = index;
    this.checkpoint.step_state = suspension.state;
    this.checkpoint.step_entry = bounded;
    return { suspendedUntil: suspension.resumeAt };
  }
}
