import type { Step, StepList } from '../domain/experiment.js';
import type { ExperimentSnapshot, Trial, TrialCheckpoint, TrialRecord, TrialRecordEntry } from '../domain/trial.js';
import { entryFinished, stepLabel } from './record-format.js';
import { isErrorLine, type TrialLog } from './trial-log.js';

const PHASE_ORDER: readonly StepList[] = ['pre_steps', 'steps', 'post_steps'];

export interface InterruptionPoint {
  phase: StepList;
  index: number;
  step: Step | undefined;
}

/**
 * Where a run that died stopped, read from its record: the unfinished step, or else
 * the step that would have come next; `undefined` when nothing was left to run.
 */
export function interruptionPoint(record: TrialRecord, experiment: ExperimentSnapshot | undefined): InterruptionPoint | undefined {
  const stepsOf = (phase: StepList): Step[] => experiment?.[phase] ?? [];
  const firstFrom = (phases: readonly StepList[]): InterruptionPoint | undefined => {
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

export interface RecoveryPlan {
  checkpoint: TrialCheckpoint;
  /** The entry of the step the worker died in, now saying so; to be written in place of the old one. */
  interrupted?: { phase: StepList; index: number; entry: TrialRecordEntry };
}

/**
 * A trial found with a slice that never ended (its worker died) is recovered: its
 * main steps are not run again (they may have injected a failure already); the
 * post steps that have not started run, so what it did is undone; it ends `Failed`
 * (`Stopped` if a stop was asked). A post step that started is never started again:
 * its entry says it was interrupted. Everything is read from the record, so a
 * recovery that is itself interrupted plans the same way the next time, and each
 * entry it writes replaces the one at its place. `orphaned`: the watchdog's reason for
 * taking the trial over, which heads the verdict.
 */
export function planRecovery(trial: Trial, experiment: ExperimentSnapshot | undefined, previous: TrialCheckpoint | undefined, log: TrialLog, orphaned?: string): RecoveryPlan {
  const record = trial.trial_record;
  const point = interruptionPoint(record, experiment);
  const plan: RecoveryPlan = { checkpoint: { phase: 'post_steps', index: 0, post_failed: [], recovering: true } };
  let headline: string;
  if (point) {
    const unfinished = record[point.phase][point.index];
    if (unfinished && !entryFinished(unfinished)) {
      plan.interrupted = { phase: point.phase, index: point.index, entry: { ...unfinished, logs: [...unfinished.logs, log.error('Interrupted: the worker running this step stopped; it is not run again.')] } };
    }
    headline = `Trial Failed: the run was interrupted at ${stepLabel(point.phase, point.index, point.step)} when its worker stopped; main steps are not run again.`;
  } else {
    headline = 'Trial Failed: the run was interrupted after its last step when its worker stopped.';
  }
  // The watchdog's reason comes first: why nothing ran the trial on.
  if (orphaned !== undefined) headline = `Trial Failed: ${orphaned} ${headline.replace(/^Trial Failed: t/, 'T')}`;
  // An earlier recovery's verdict names the first interruption: keep it rather than the later one.
  const lines = previous?.recovering && previous.verdict ? [...previous.verdict.lines] : [log.error(headline), ...(previous?.verdict ? previous.verdict.lines : [])];
  if (orphaned !== undefined && !lines.some((line) => line.includes(orphaned))) lines.push(log.error(`Trial Failed: ${orphaned}`));
  if (!experiment) lines.push(log.error(`Experiment ${trial.experiment} does not exist, so no post step could run.`));
  plan.checkpoint.verdict = { status: 'Failed', lines };
  // Every post step with an entry has started (its entry is written before it runs).
  const postSteps = experiment?.post_steps ?? [];
  const started = record.post_steps.filter((entry) => entry !== undefined);
  plan.checkpoint.index = Math.min(started.length, postSteps.length);
  plan.checkpoint.post_failed = started.flatMap((entry, index) => {
    const finalEntry = plan.interrupted?.phase === 'post_steps' && plan.interrupted.index === index ? plan.interrupted.entry : entry;
    return finalEntry.logs.some(isErrorLine) ? [stepLabel('post_steps', index, postSteps[index])] : [];
  });
  return plan;
}
