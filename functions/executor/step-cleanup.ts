import type { StepList } from '../domain/experiment.js';
import { collectSecrets, scrubText } from '../domain/redaction.js';
import type { ExperimentSnapshot, TrialCheckpoint } from '../domain/trial.js';
import type { JsonObject } from '../domain/types.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { CLEANUP_TIMEOUT_MS, type StepModule } from '../modules/types.js';
import { messageOf } from './record-format.js';
import { whereOf } from './slicing.js';
import { outputsTree } from './step-outputs.js';
import type { TrialLog } from './trial-log.js';
import { secretsOfParameters } from './trial-snapshot.js';

/**
 * A suspended step abandoned because the trial is being stopped or recovered: its
 * module undoes what it left running (stops the FIS experiment, cancels the SSM
 * command) before the post steps run. What it says goes to the step's record entry; a
 * cleanup that fails or hangs is recorded, never fatal (the post steps run either way).
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

/** The step a recovery marks interrupted (see `planRecovery`). */
export interface InterruptedStep {
  phase: StepList;
  index: number;
}

/**
 * A recovered trial (its worker died, or the watchdog took it over) is ended, never
 * resumed: a step it was suspended in is undone as a stop undoes it (the FIS experiment
 * stopped, the SSM command cancelled), so no fault outlives the trial. Only the step the
 * recovery marks interrupted, and only with the state the checkpoint holds for that very
 * step: a step that ended after its last checkpoint has an entry that says so and is not
 * the interrupted one. Answers the lines for the step's entry (what the module said,
 * scrubbed of the trial's secrets); never throws, so the trial still ends with its reason.
 */
export async function cleanUpInterrupted(
  registry: ModuleRegistry,
  experiment: ExperimentSnapshot | undefined,
  params: JsonObject,
  checkpoint: TrialCheckpoint | undefined,
  interrupted: InterruptedStep,
  log: TrialLog,
  now: () => number,
): Promise<string[]> {
  const state = checkpoint?.step_state;
  if (!checkpoint || state === undefined || checkpoint.phase !== interrupted.phase || checkpoint.index !== interrupted.index) return [];
  const step = experiment?.[interrupted.phase][interrupted.index];
  if (!step) return [];
  const said: string[] = [];
  try {
    const where = whereOf(step, { ...params, ...outputsTree(checkpoint.outputs) });
    const secrets = [...new Set([...collectSecrets(where), ...secretsOfParameters(experiment, params)])].sort((a, b) => b.length - a.length);
    const out = { info: (m: string) => said.push(log.info(scrubText(m, secrets))), error: (m: string) => said.push(log.error(scrubText(m, secrets))) };
    await cleanUpSuspended(registry.get(step.do), where, state, out, now);
  } catch (error) {
    said.push(log.error(`Could not undo what the step left running: ${messageOf(error)}`));
  }
  return said;
}
