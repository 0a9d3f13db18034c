import type { JsonObject } from '../domain/types.js';
import { MAX_SUSPENSION_STATE_CHARS } from '../modules/types.js';

/**
 * The write that records a step's start in its record entry. A main step's start is
 * saved only if it still runs after a moment (a quick step costs no extra write); a
 * step that saves its state early (`saveState`) forces it first, because a recovery
 * undoes only a step whose entry says it started and did not end.
 */
export class StartMarker {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private write: Promise<void> | undefined;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Saves the start after `delayMs`, unless `settle` comes first. */
  schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.writeNow(), delayMs);
  }

  /** A scheduled start not written yet is written at once; resolves once any start write is done. */
  async flush(): Promise<void> {
    if (this.timer !== undefined && this.write === undefined) {
      clearTimeout(this.timer);
      void this.writeNow();
    }
    await this.write;
  }

  /** The step ended or suspended: no start write any more, and one under way is waited for. */
  async settle(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write;
  }

  private writeNow(): Promise<void> {
    this.write ??= this.save().catch(this.onError);
    return this.write;
  }
}

/**
 * `StepContext.saveState` for one step: its start first, then the checkpoint with the
 * step's state. Never throws: a failed or refused save is reported through `onError`
 * and the step goes on (only a worker dying before its next suspend leaves the state unknown).
 */
export function stepStateSaver(marker: StartMarker, saveCheckpoint: (state: JsonObject) => Promise<boolean>, onError: (error: unknown) => void): (state: JsonObject) => Promise<void> {
  return async (state) => {
    try {
      if (JSON.stringify(state).length > MAX_SUSPENSION_STATE_CHARS) throw new Error(`the state is larger than ${MAX_SUSPENSION_STATE_CHARS} characters`);
      await marker.flush();
      if ((await saveCheckpoint(state)) === false) throw new Error("the store refused the write (the trial is no longer this slice's to run)");
    } catch (error) {
      onError(error);
    }
  };
}
