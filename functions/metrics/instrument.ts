import type { Clock, ScheduleFiring } from '../ports.js';
import type { Metrics } from './metrics.js';

export type FireScheduleFn = (firing: ScheduleFiring) => Promise<string | undefined>;

/**
 * Measures every schedule firing where the worker receives it: the lag from its
 * scheduled time to now, and what it did (started a trial, started nothing, failed
 * and will be retried).
 */
export function measureFirings(fire: FireScheduleFn, deps: { metrics: Metrics; clock: Clock }): FireScheduleFn {
  return async (firing) => {
    const scheduled = Date.parse(firing.scheduled_time);
    if (Number.isFinite(scheduled)) deps.metrics.record('FiringLag', Math.max(0, deps.clock.now().getTime() - scheduled), {});
    try {
      const trialId = await fire(firing);
      deps.metrics.record('Firings', 1, { Outcome: trialId === undefined ? 'nothing' : 'trial' });
      return trialId;
    } catch (error) {
      deps.metrics.record('Firings', 1, { Outcome: 'error' });
      throw error;
    }
  };
}
