import type { FieldError } from '../domain/errors.js';
import type { Json, JsonObject } from '../domain/types.js';

/**
 * What a running step can use.
 *
 * A trial runs in slices (one worker invocation each, at most ~15 minutes on
 * Lambda). Between slices nothing of the step survives but what it hands back
 * in a `StepSuspension`, so a step that lasts longer than a slice (a long wait,
 * polling an FIS experiment until it ends, a guard checked during a wait) is
 * written as a resumable module: see `StepModule.resumable`.
 */
export interface StepContext {
  /** Fires on a stop request or when the step overruns its slice: abandon the work and reject. */
  signal: AbortSignal;
  log(message: string): void;
  /**
   * The clock the executor runs on (epoch ms); tests drive it. The executor always
   * sets this and the three below; a module called on its own (a sub-call, a test)
   * may get none: read them as `Date.now`, no budget, no yield, nothing resumed.
   */
  now?(): number;
  /**
   * Epoch ms by which this call must have returned, leaving the worker time to save
   * the checkpoint; undefined when the run has no time budget (local mode without
   * KALLISTI_WORKER_BUDGET_SECONDS). A resumable step suspends before it.
   */
  sliceDeadline?: number;
  /**
   * Fires when the slice must end early (the local worker shutting down). A
   * resumable step then suspends at once; other steps just finish.
   */
  yieldSignal?: AbortSignal;
  /** Resumable steps: the `state` the step handed back when it last suspended; undefined on its first call. */
  resumed?: JsonObject;
  /**
   * Resumable steps that leave something running: saves `state` in the trial's checkpoint
   * now, as a `suspend` would, so that a worker dying before the step's next suspend leaves
   * what its `cleanup` needs (the FIS experiment id) to the recovery. Call it once, right
   * after starting what must be undone: it costs a store write (two when the step's start
   * is not saved yet). It never rejects: a save that fails (the store, a state over
   * MAX_SUSPENSION_STATE_CHARS) is logged and the step goes on, only without that cover.
   * Set by the executor only.
   */
  saveState?(state: JsonObject): Promise<void>;
}

/**
 * IAM permissions one step command needs in the worker's role. The deployment
 * builds the worker's policy from these declarations only (lib/chaos-policy.ts).
 */
export interface IamGrant {
  /** Exact IAM actions (`ec2:StopInstances`); never a wildcard. */
  readonly actions: readonly string[];
  /**
   * ARN patterns the actions may act on; `{partition}` and `{account}` are filled in
   * by the stack. Absent means `*`: only for actions without resource-level permissions.
   */
  readonly resources?: readonly string[];
  /** Destructive: allowed only on resources carrying the deployment's chaos tag (aws:ResourceTag). */
  readonly tagged?: boolean;
}

/**
 * "Not done yet": the step goes on in a later slice, at `resumeAt` (epoch ms), with
 * `state` given back to it as `context.resumed`. The state is stored with the
 * trial's checkpoint, so it must be small JSON (at most 4 KB). What the step logged
 * so far is kept in its record entry. The worker's invocation ends and the queue
 * redelivers the trial's message at `resumeAt` (or as soon as a stop is requested),
 * so a long wait costs no compute.
 */
export class StepSuspension {
  constructor(
    readonly resumeAt: number,
    readonly state: JsonObject,
  ) {}
}

export function suspend(resumeAt: number, state: JsonObject): StepSuspension {
  return new StepSuspension(resumeAt, state);
}

/** Largest `StepSuspension.state`, as JSON characters. */
export const MAX_SUSPENSION_STATE_CHARS = 4 * 1024;

/**
 * A step command, addressed as `namespace.command` in an experiment's `do`.
 * `whereSchema` is a JSON Schema for the step's `where`; it is checked when an
 * experiment is saved (placeholders allowed) and again after interpolation.
 *
 * Time: every call of `run` must fit in one slice. The executor starts a call only
 * when the slice has `maxRunMs(where)` left (otherwise it hands the trial to the
 * next slice first), and an experiment with a step whose `maxRunMs` exceeds what a
 * slice can ever give is refused when saved, with a 400 naming the step. A call that
 * overruns the slice anyway is aborted through `context.signal`.
 *
 * Resumable modules (`resumable: true`, `cm.wait` is the first) may run for any
 * length of time in total: each call does what fits before `context.sliceDeadline`
 * (or until `context.yieldSignal` fires) and returns `suspend(resumeAt, state)`
 * when it is not done; the next call gets `state` back in `context.resumed`. Their
 * `maxRunMs` is the longest a single call blocks (e.g. one poll), not the total;
 * `minTotalMs` is what the step lasts at least, for the trial-length limit.
 */
export interface StepModule {
  readonly name: string;
  readonly description: string;
  readonly whereSchema: Record<string, unknown>;
  /** Only observes the system (no change to it): may be used as a guard. */
  readonly probe?: boolean;
  /** IAM permissions the worker needs to run this command (AWS commands only). */
  readonly iam?: readonly IamGrant[];
  /**
   * Checks a schema cannot express (a role ARN outside the configured list…), run after
   * the schema passed; paths are relative to `where`. Values still holding a `{{ }}`
   * placeholder are skipped when `allowPlaceholders` is set.
   */
  checkWhere?(where: JsonObject, allowPlaceholders: boolean): FieldError[];
  readonly resumable?: boolean;
  run(where: JsonObject, context: StepContext): Promise<Json | StepSuspension>;
  /** Longest one call of `run` can take with these arguments (ms); default DEFAULT_MAX_RUN_MS. */
  maxRunMs?(where: JsonObject): number;
  /** Least time the whole step lasts with these arguments (ms), across slices; default 0. */
  minTotalMs?(where: JsonObject): number;
  /**
   * Resumable modules that leave something running between calls (an FIS experiment, an
   * SSM command): undoes it when the step is abandoned while suspended, because the
   * trial is being stopped (a stop request, a halt, a tripped guard) before the step
   * could go on, or because the trial is being recovered (its worker died in the step,
   * or the watchdog took it over) and so ends without it. Gets the `state` of the
   * step's last `suspend`, or the one it saved since through `context.saveState`. It logs what it did
   * through `context.log` and never throws for what it could not undo; the executor
   * waits for it (at most CLEANUP_TIMEOUT_MS, then `context.signal` fires).
   *
   * A stop that interrupts a call of `run` is the module's own to handle (it knows what
   * it started): the executor then gives a module with a `cleanup` up to
   * CLEANUP_TIMEOUT_MS to return after `context.signal` fired, before it moves on.
   */
  cleanup?(where: JsonObject, state: JsonObject, context: StepContext): Promise<void>;
}

/** Longest the executor waits for a module to undo what it left running (see `StepModule.cleanup`). */
export const CLEANUP_TIMEOUT_MS = 20_000;

/** What a module that does not say is assumed to need at most per call. */
export const DEFAULT_MAX_RUN_MS = 60_000;

/** A step failed in a way the trial record should explain (not a bug). `kind` classifies it for metrics (e.g. `timeout`). */
export class StepFailedError extends Error {
  constructor(
    message: string,
    readonly output?: Json,
    readonly kind?: string,
  ) {
    super(message);
    this.name = 'StepFailedError';
  }
}
