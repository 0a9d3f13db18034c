/**
 * How long a trial and its steps may be, set by where trials run: one FIFO queue
 * whose messages live 14 days, and a worker whose invocations last 15 minutes.
 */
export const TRIAL_LIMITS = {
  /**
   * A single call of a step (an HTTP request with its timeout, one sleep of a wait)
   * must fit in one worker invocation: 15 minutes less the margin kept for saving
   * the checkpoint (60 s) and the time the invocation may already have spent.
   */
  maxStepRunMs: 13 * 60 * 1000,
  /**
   * A trial's message is deleted only when the trial ends, and SQS drops a message
   * 14 days after it was sent, whatever happens to it meanwhile. Two days are kept
   * for the time a trial may wait in the queue behind others.
   */
  maxTrialMs: 12 * 24 * 60 * 60 * 1000,
} as const;
