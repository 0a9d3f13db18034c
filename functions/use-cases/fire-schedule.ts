import { isDeleted, type DeletionMarker } from '../domain/deletion.js';
import { emptyTrialRecord, snapshotOf, type Trial } from '../domain/trial.js';
import { ConflictError } from '../domain/errors.js';
import { hasFiringsLeft, type FiringRecord, type FiringRecordOutcome, type Schedule } from '../domain/schedule.js';
import type { FiringOutcome, SafetyMetrics, ScheduleFiring } from '../ports.js';
import type { SafetyGate } from './safety-gate.js';
import type { ScheduleDeps } from './schedules.js';

/** The schedule API's collaborators, plus the safety gate (halts, freeze windows) when enforced. */
export type FireScheduleDeps = ScheduleDeps & { gate?: SafetyGate; metrics?: SafetyMetrics };

type Dropped = Exclude<FiringRecordOutcome, 'started'>;

/** How a refused count maps onto the firing record. */
const DROPPED_BY_STORE: Record<Exclude<FiringOutcome, 'applied' | 'already-applied'>, { outcome: Dropped; reason: string }> = {
  missing: { outcome: 'orphaned', reason: 'the schedule was deleted' },
  exhausted: { outcome: 'exhausted', reason: 'the schedule had no firings left' },
  stale: { outcome: 'late', reason: 'a later firing of the schedule was already counted' },
  superseded: { outcome: 'superseded', reason: 'the schedule was changed since this cloud schedule was armed' },
};

/**
 * Turns one firing into exactly one trial, however often the firing is delivered
 * and wherever a previous delivery crashed, and keeps the cloud in line with
 * the store. Returns the trial to run, or undefined when the firing starts nothing.
 *
 * 1. Read the schedule and its experiment. A firing that cannot start a trial
 *    (schedule or experiment gone: orphaned; armed by an older generation:
 *    superseded) is recorded with why, and its cloud
 *    schedule removed (a superseded one also re-arms the current generation,
 *    repairing a change whose cloud call failed). Cloud calls here are best
 *    effort: reconciliation is the net.
 * 2. Record the firing with a fresh trial id: a second delivery finds the
 *    record and reuses its trial id. When a halt (now) or a freeze window (at
 *    the scheduled time) covers the experiment, the record says
 *    `skipped_halted` / `skipped_frozen` instead, naming the rule; the firing
 *    still counts against the schedule and starts nothing. The first
 *    delivery's decision stands for every later one.
 * 3. Count the firing once, only at the firing's generation (conditional write);
 *    refused (exhausted, changed meanwhile, late): the record says why.
 * 4. Create the trial (conditional: a retry after a crash finds it made).
 * 5. When `recurrence_left` reaches 0, remove the cloud schedule, best effort:
 *    the trial is returned (and runs) whatever the scheduler answers.
 */
export function makeFireSchedule(deps: FireScheduleDeps) {
  const { schedules, experiments, trials, cloud, clock, ids, logger } = deps;

  async function bestEffort(what: string, context: Record<string, unknown>, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      logger?.warn(`Could not ${what}; reconciliation will`, { ...context, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  }

  /** Brings the cloud in line after a dropped firing. */
  async function repair(firing: ScheduleFiring, outcome: Dropped, schedule: (Schedule & Partial<DeletionMarker>) | undefined, context: Record<string, unknown>): Promise<void> {
    if (outcome === 'late') return;
    await bestEffort('remove the cloud schedule that fired', context, () => cloud.remove(firing.schedule_arn));
    if (!schedule) return;
    if (outcome === 'superseded' && hasFiringsLeft(schedule) && !isDeleted(schedule)) {
      await bestEffort('arm the current generation', context, () => cloud.arm(schedule));
    } else if (outcome !== 'superseded') {
      await bestEffort('remove the cloud schedules', context, () => cloud.disarm(schedule));
    }
  }

  /** A previous delivery may have started a trial before the firing was found droppable: that trial stands. */
  async function drop(firing: ScheduleFiring, outcome: Dropped, reason: string, schedule: (Schedule & Partial<DeletionMarker>) | undefined, context: Record<string, unknown>): Promise<string | undefined> {
    const record = await schedules.recordFiring(firingRecord(firing, { outcome, reason }));
    if (record.outcome === 'started' && record.trial_id !== undefined) {
      if (await trials.get(record.trial_id)) return record.trial_id;
      await schedules.settleFiring(firing, outcome, reason);
    }
    logger?.info(`Firing dropped: ${reason}`, { ...context, outcome });
    await repair(firing, outcome, schedule, context);
    return undefined;
  }

  function firingRecord(firing: ScheduleFiring, fields: Pick<FiringRecord, 'outcome'> & Partial<FiringRecord>): FiringRecord {
    return {
      schedule_id: firing.schedule_id,
      experiment_id: firing.experiment_id,
      scheduled_time: firing.scheduled_time,
      schedule_arn: firing.schedule_arn,
      generation: firing.generation ?? 0,
      received_at: clock.now().toISOString(),
      ...fields,
    };
  }

  return async function fireSchedule(firing: ScheduleFiring): Promise<string | undefined> {
    const generation = firing.generation ?? 0;
    const context = { scheduleId: firing.schedule_id, scheduledTime: firing.scheduled_time, generation };
    const schedule = await schedules.get(firing.experiment_id, firing.schedule_id, { includeDeleted: true });
    const experiment = schedule && !isDeleted(schedule) ? await experiments.get(firing.experiment_id) : undefined;
    if (!schedule || isDeleted(schedule)) return drop(firing, 'orphaned', 'the schedule no longer exists', schedule, context);
    if (!experiment) return drop(firing, 'orphaned', 'the experiment no longer exists', schedule, context);
    if (schedule.generation !== generation) {
      return drop(firing, 'superseded', `armed by generation ${generation}; the schedule is at generation ${schedule.generation}`, schedule, context);
    }
    // An exhausted schedule is left to the count below: a redelivery of the firing that counted the last one must still make its trial.

    const refusal = await deps.gate?.refusal(
      { experimentId: experiment.id, experimentMetadata: experiment.metadata, trialMetadata: { ...experiment.metadata, ...schedule.metadata } },
      'schedule',
      new Date(firing.scheduled_time),
    );
    if (refusal) {
      const skip = firingRecord(firing, {
        outcome: refusal.kind === 'halt' ? 'skipped_halted' : 'skipped_frozen',
        reason: refusal.message,
        rule_id: refusal.kind === 'halt' ? refusal.halt.id : refusal.window.id,
      });
      const recorded = await schedules.recordFiring(skip);
      // An earlier delivery started a trial before the rule applied: that trial stands (the worker's own check still applies to it).
      if (!(recorded.outcome === 'started' && recorded.trial_id !== undefined)) {
        const first = recorded.outcome === skip.outcome && recorded.received_at === skip.received_at && recorded.reason === skip.reason;
        // A skipped firing still counts: a counted schedule ends as planned.
        const applied = await schedules.applyFiring(firing, { counted: schedule.recurrence_left !== null });
        if (first) deps.metrics?.increment('FiringSkipped', { outcome: skip.outcome });
        logger?.warn('Firing skipped by a safety rule; no trial started', { ...context, outcome: recorded.outcome, reason: recorded.reason });
        if (applied.schedule?.recurrence_left === 0) await bestEffort('remove the exhausted cloud schedule', context, () => cloud.disarm(applied.schedule as Schedule));
        return undefined;
      }
    }

    const record = await schedules.recordFiring(firingRecord(firing, { outcome: 'started', trial_id: ids.newId() }));
    if (record.outcome !== 'started' || record.trial_id === undefined) {
      logger?.info('Firing delivered again; it was dropped before', { ...context, outcome: record.outcome });
      return undefined;
    }
    const trialId = record.trial_id;
    const applied = await schedules.applyFiring(firing, { counted: schedule.recurrence_left !== null });
    if (applied.outcome !== 'applied' && applied.outcome !== 'already-applied') {
      // Changed between the read and the count. An earlier delivery may have made the trial; then it stands.
      if (await trials.get(trialId)) return trialId;
      const dropped = DROPPED_BY_STORE[applied.outcome];
      await schedules.settleFiring(firing, dropped.outcome, dropped.reason);
      logger?.info(`Firing dropped: ${dropped.reason}`, { ...context, outcome: dropped.outcome });
      await repair(firing, dropped.outcome, applied.schedule, context);
      return undefined;
    }
    const counted = applied.schedule ?? schedule;

    const trialRecord = emptyTrialRecord();
    const trial: Trial = {
      id: trialId,
      experiment: experiment.id,
      // A scheduled trial carries its schedule's parameters as its own: trial > schedule > experiment.
      parameters: counted.parameters,
      metadata: { ...experiment.metadata, ...counted.metadata },
      ticket: counted.ticket,
      status: 'Scheduled',
      trial_record: trialRecord,
      created_at: clock.now().toISOString(),
      executed_at: null,
      completed_at: null,
      initiated_by: counted.created_by,
      initiated_from: 'schedule',
      schedule_id: counted.id,
      ...(counted.guards && counted.guards.length > 0 ? { guards: counted.guards } : {}),
      experiment_snapshot: snapshotOf(experiment),
      invocations: 0,
    };
    try {
      await trials.create(trial);
      logger?.info('Scheduled trial created', { ...context, trialId, recurrenceLeft: counted.recurrence_left });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      logger?.warn('Firing delivered again; its trial already exists', { ...context, trialId });
    }

    if (counted.recurrence_left === 0) await bestEffort('remove the exhausted cloud schedule', context, () => cloud.disarm(counted));
    return trialId;
  };
}

export type FireSchedule = ReturnType<typeof makeFireSchedule>;
