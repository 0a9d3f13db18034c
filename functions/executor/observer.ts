import type { RecordPhase, TrialStatus } from '../domain/trial.js';

/**
 * Hook points of a trial's run, for metrics and notifications. Every method is
 * optional and called synchronously: keep it cheap and never throw (a failing
 * observer is logged and ignored by the callers that guard it).
 */
export interface ExecutorObserver {
  /** A worker invocation took up the trial (`invocation` counts from 1). */
  sliceStarted?(event: { trialId: string; invocation: number; recovering: boolean }): void;
  /** The slice saved its checkpoint and hands the trial back to the queue until `resumeAt`. */
  sliceParked?(event: { trialId: string; resumeAt: number; reason: string; durationMs: number }): void;
  /** One call of a step ended (`outcome`: ok, failed, stopped, out-of-time). */
  stepEnded?(event: { trialId: string; phase: RecordPhase; index: number; outcome: string; durationMs: number }): void;
  /** The trial reached its final status. */
  trialFinished?(event: { trialId: string; status: TrialStatus; invocations: number }): void;
}

export const noObserver: ExecutorObserver = {};
