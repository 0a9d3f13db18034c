import type { StepContext } from '../../functions/modules/types.js';

/** A step context for calling a module directly: no budget, nothing to resume. */
export function stepContext(overrides: Partial<StepContext> = {}): StepContext {
  return {
    signal: new AbortController().signal,
    log: () => undefined,
    now: () => Date.now(),
    sliceDeadline: undefined,
    yieldSignal: new AbortController().signal,
    resumed: undefined,
    ...overrides,
  };
}
