import { StepFailedError } from '../modules/types.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TrialObserver } from './trial-observer.js';

const HTTP_COMMANDS = /^cm\.http_/;

/** Trials and steps as metrics: TrialsFinished, TrialDuration, StepDuration, StepsFailed, HttpStepErrors. */
export function metricsObserver(metrics: Metrics, now: () => number = () => performance.now()): TrialObserver {
  return {
    trialFinished: (event) => {
      metrics.record('TrialsFinished', 1, { Status: event.status }, { experiment: event.experimentId });
      if (event.durationMs !== null) metrics.record('TrialDuration', event.durationMs, { Status: event.status });
    },
    step: async (event, run) => {
      const started = now();
      try {
        return await run();
      } catch (error) {
        metrics.record('StepsFailed', 1, { Module: event.module });
        if (HTTP_COMMANDS.test(event.module)) metrics.record('HttpStepErrors', 1, { Kind: error instanceof StepFailedError && error.kind !== undefined ? error.kind : 'other' });
        throw error;
      } finally {
        metrics.record('StepDuration', now() - started, { Module: event.module });
      }
    },
  };
}
