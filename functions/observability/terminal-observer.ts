import type { AppLogger } from '../app-logger.js';
import type { TrialObserver } from './trial-observer.js';

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Local mode's terminal lines: a trial starting, each step ending (command, outcome,
 * time; never its output or error text, which may hold credentials), a trial ending.
 */
export function terminalObserver(logger: AppLogger, now: () => number = () => performance.now()): TrialObserver {
  return {
    trialStarted: (event) => logger.info('Trial started', { trial: event.trialId, experiment: event.experimentId }),
    trialFinished: (event) => logger.info(`Trial ${event.status}${event.durationMs === null ? '' : ` in ${duration(event.durationMs)}`}`, { trial: event.trialId, experiment: event.experimentId }),
    step: async (event, run) => {
      const started = now();
      let outcome = 'failed';
      try {
        const result = await run();
        outcome = 'done';
        return result;
      } finally {
        logger.info(`  Step ${event.module} ${outcome} in ${duration(now() - started)}`, { trial: event.trialId });
      }
    },
  };
}
