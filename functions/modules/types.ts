import type { FieldError } from '../domain/errors.js';
import type { Json, JsonObject } from '../domain/types.js';

/** What a running step can use: a signal that fires on stop or time-out, and its log. */
export interface StepContext {
  signal: AbortSignal;
  log(message: string): void;
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
 * A step command, addressed as `namespace.command` in an experiment's `do`.
 * `whereSchema` is a JSON Schema for the step's `where`; it is checked when an
 * experiment is saved (placeholders allowed) and again after interpolation.
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
  run(where: JsonObject, context: StepContext): Promise<Json>;
}

/** A step failed in a way the trial record should explain (not a bug). */
export class StepFailedError extends Error {
  constructor(message: string, readonly output?: Json) {
    super(message);
    this.name = 'StepFailedError';
  }
}
