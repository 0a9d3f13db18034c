import type { Json, JsonObject } from '../domain/types.js';

/** What a running step can use: a signal that fires on stop or time-out, and its log. */
export interface StepContext {
  signal: AbortSignal;
  log(message: string): void;
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
  run(where: JsonObject, context: StepContext): Promise<Json>;
}

/** A step failed in a way the trial record should explain (not a bug). */
export class StepFailedError extends Error {
  constructor(message: string, readonly output?: Json) {
    super(message);
    this.name = 'StepFailedError';
  }
}
