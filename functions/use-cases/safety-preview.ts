import { isHaltActive } from '../domain/safety/halt.js';
import { safetyRefusal, type SafetyRules } from '../domain/safety/refusal.js';
import type { FireTimePreview } from '../domain/schedule-preview.js';
import type { Clock, ExperimentStore, SafetyStore } from '../ports.js';
import type { ScheduleUseCases } from './schedules.js';

/** Why a previewed firing will start no trial: the halt or freeze window that will skip it. */
export interface Suppression {
  outcome: 'skipped_halted' | 'skipped_frozen';
  rule_id: string;
  reason: string;
}

export type MarkedFireTime = FireTimePreview & { suppressed_by?: Suppression };

/**
 * Halts still engaged at `at` (lifted ones are gone; one expiring before `at` no
 * longer applies), and freeze windows, judged at the fire time itself.
 */
function suppression(rules: SafetyRules, target: Parameters<typeof safetyRefusal>[1], now: Date, at: Date): Suppression | undefined {
  const halts = rules.halts.filter((halt) => isHaltActive(halt, now) && isHaltActive(halt, at));
  const refusal = safetyRefusal({ halts, freezes: rules.freezes }, target, at, at);
  if (!refusal) return undefined;
  return refusal.kind === 'halt'
    ? { outcome: 'skipped_halted', rule_id: refusal.halt.id, reason: refusal.message }
    : { outcome: 'skipped_frozen', rule_id: refusal.window.id, reason: refusal.message };
}

/**
 * A stored schedule's next fire times (GET …/schedule/{id}/next) say which ones a
 * halt or a freeze window will skip, as the worker will judge them: the halt
 * as it stands (until it is lifted or expires), the window at the fire time.
 */
export function withSuppressedFireTimes(schedules: ScheduleUseCases, deps: { safety: SafetyStore; experiments: ExperimentStore; clock: Clock }): ScheduleUseCases {
  return {
    ...schedules,
    async next(experimentId, scheduleId, count) {
      const preview = await schedules.next(experimentId, scheduleId, count);
      if (preview.fire_times.length === 0) return preview;
      const [rules, experiment, schedule] = await Promise.all([
        deps.safety.standingRules(),
        deps.experiments.get(experimentId),
        schedules.get(experimentId, scheduleId, { limit: 1 }),
      ]);
      const target = {
        experimentId,
        experimentMetadata: experiment?.metadata,
        trialMetadata: { ...(experiment?.metadata ?? {}), ...schedule.view.metadata },
      };
      const now = deps.clock.now();
      const fire_times: MarkedFireTime[] = preview.fire_times.map((fire) => {
        const suppressed = suppression(rules, target, now, new Date(fire.time));
        return suppressed ? { ...fire, suppressed_by: suppressed } : fire;
      });
      return { ...preview, fire_times };
    },
  };
}
