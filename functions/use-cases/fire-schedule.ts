import { emptyTrialRecord, type Trial } from '../domain/trial.js';
import { ConflictError } from '../domain/errors.js';
import type { ScheduleFiring } from '../ports.js';
import type { ScheduleDeps } from './schedules.js';

/** The same collaborators as the schedule API's use cases. */
export type FireScheduleDeps = ScheduleDeps;

/**
 * Turns one firing into exactly one trial, however often the firing is delivered
 * and wherever a previous delivery crashed. Returns the trial to run, or
 * undefined when the firing starts nothing.
 *
 * 1. The schedule and its experiment must still exist; otherwise acknowledge.
 * 2. Claim the firing (schedule id + scheduled time) with a fresh trial id: a
 *    second delivery finds the first claim and reuses its trial id.
 * 3. Count the firing against the schedule once (`recurrence_left` - 1 when
 *    counted). Exhausted or stale: nothing more.
 * 4. Create the trial (conditional: a retry after a crash finds it made).
 * 5. When `recurrence_left` reaches 0, remove the cloud schedule.
 */
export function makeFireSchedule(deps: FireScheduleDeps) {
  const { schedules, experiments, trials, cloud, clock, ids, logger } = deps;

  return async function fireSchedule(firing: ScheduleFiring): Promise<string | undefined> {
    const context = { scheduleId: firing.schedule_id, scheduledTime: firing.scheduled_time };
    const schedule = await schedules.get(firing.experiment_id, firing.schedule_id);
    const experiment = schedule ? await experiments.get(firing.experiment_id) : undefined;
    if (!schedule || !experiment) {
      logger?.info('Firing ignored: its schedule or experiment no longer exists', context);
      return undefined;
    }

    const trialId = await schedules.claimFiring(firing, ids.newId());
    const applied = await schedules.applyFiring(firing, { counted: schedule.recurrence_left !== null });
    if (applied.outcome === 'missing' || applied.outcome === 'exhausted' || applied.outcome === 'stale') {
      logger?.info(`Firing ignored: schedule ${applied.outcome}`, context);
      if (applied.outcome === 'exhausted' && applied.schedule) await cloud.disarm(applied.schedule);
      return undefined;
    }
    const counted = applied.schedule ?? schedule;

    const now = clock.now().toISOString();
    const record = emptyTrialRecord();
    const trial: Trial = {
      id: trialId,
      experiment: experiment.id,
      // A scheduled trial carries its schedule's parameters as its own: trial > schedule > experiment.
      parameters: counted.parameters,
      metadata: { ...experiment.metadata, ...counted.metadata },
      ticket: counted.ticket,
      status: 'Scheduled',
      trial_record: record,
      created_at: now,
      executed_at: null,
      completed_at: null,
      initiated_by: counted.created_by,
      initiated_from: 'schedule',
      schedule_id: counted.id,
    };
    try {
      await trials.create(trial);
      logger?.info('Scheduled trial created', { ...context, trialId, recurrenceLeft: counted.recurrence_left });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      logger?.warn('Firing delivered again; its trial already exists', { ...context, trialId });
    }

    if (counted.recurrence_left === 0) await cloud.disarm(counted);
    return trialId;
  };
}

export type FireSchedule = ReturnType<typeof makeFireSchedule>;
