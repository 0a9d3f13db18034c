import type { ExecutorObserver } from '../executor/observer.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * Slicing as metrics: `QueueHandOffs` each time a slice parks its trial and hands the
 * message back, `TrialSlices` once per finished trial (the worker invocations it took).
 */
export function executorMetricsObserver(metrics: Metrics): ExecutorObserver {
  return {
    sliceParked: () => metrics.record('QueueHandOffs', 1, {}),
    trialFinished: (event) => metrics.record('TrialSlices', event.invocations, {}),
  };
}
