import type { JsonObject } from '../domain/types.js';
import { CLEANUP_TIMEOUT_MS, type StepModule } from '../modules/types.js';
import { messageOf } from './record-format.js';

/**
 * A suspended step abandoned because the trial is being stopped: its module undoes
 * what it left running (stops the FIS experiment, cancels the SSM command) before the
 * post steps run. What it says goes to the step's record entry; a cleanup that fails
 * or hangs is recorded, never fatal (the post steps run either way).
 */
export async function cleanUpSuspended(
  module: StepModule | undefined,
  where: JsonObject,
  state: JsonObject | undefined,
  out: { info(message: string): void; error(message: string): void },
  now: () => number,
): Promise<void> {
  if (!module?.cleanup || state === undefined) return;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`cleanup gave no answer within ${CLEANUP_TIMEOUT_MS / 1000} s`)), CLEANUP_TIMEOUT_MS);
  try {
    const timedOut = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
    const running = module.cleanup(where, state, { signal: controller.signal, log: out.info, now });
    running.catch(() => undefined);
    await Promise.race([running, timedOut]);
  } catch (error) {
    out.error(`Could not undo what the step left running: ${messageOf(error)}`);
  } finally {
    clearTimeout(timer);
  }
}
