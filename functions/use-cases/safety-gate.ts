import type { AppLogger } from '../app-logger.js';
import { haltRefusal } from '../domain/safety/halt-refusal.js';
import type { SafetyRefusal, SafetyTarget } from '../domain/safety/refusal.js';
import type { Clock, SafetyMetrics, SafetyStore } from '../ports.js';

export type RefusalSource = 'api' | 'schedule' | 'worker';

export interface SafetyGateDeps {
  safety: SafetyStore;
  clock: Clock;
  logger?: AppLogger;
  metrics?: SafetyMetrics;
}

/**
 * The one place halts and freeze windows are enforced: reads the standing rules
 * (one consistent Query) and says why a trial may not start. Every refusal is
 * logged and counted, by kind and by where it was asked.
 */
export function makeSafetyGate(deps: SafetyGateDeps) {
  const { safety, clock, logger, metrics } = deps;
  return {
    async refusal(target: SafetyTarget, source: RefusalSource, freezeAt?: Date): Promise<SafetyRefusal | undefined> {
      const rules = await safety.standingRules();
      // Freeze windows (their recurrences need the cron parser and time zones) load only when one stands.
      const refusal = rules.freezes.length === 0 ? haltRefusal(rules.halts, target, clock.now()) : (await import('../domain/safety/refusal.js')).safetyRefusal(rules, target, clock.now(), freezeAt);
      if (refusal) {
        const rule = refusal.kind === 'halt' ? { haltId: refusal.halt.id } : { freezeId: refusal.window.id };
        logger?.warn('Trial refused by a safety rule', { source, kind: refusal.kind, experimentId: target.experimentId, ...rule, reason: refusal.message });
        metrics?.increment('TrialRefused', { kind: refusal.kind, source });
      }
      return refusal;
    },
  };
}

export type SafetyGate = ReturnType<typeof makeSafetyGate>;
