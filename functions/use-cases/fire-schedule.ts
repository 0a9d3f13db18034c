import { isDeleted, type DeletionMarker } from '../domain/deletion.js';
import { emptyTrialRecord, snapshotOf, type Trial } from '../domain/trial.js';
import { ConflictError } from '../domain/errors.js';
import { hasFiringsLeft, type FiringRecord, type FiringRecordOutcome, type Schedule } from '../domain/schedule.js';
import { policySkip, type PreviousTrial } from '../domain/firing-policy.js';
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
  superseded: { outcome: 'stale_generation', reason: 'the schedule was changed since this cloud schedule was armed' },
};

/**
 * Turns one firing into exactly one trial, however often the firing is delivered
 * and wherever a previous delivery crashed, and keeps the cloud in line with
 * the store. Returns the trial to run, or undefined when the firing starts nothing.
 *
 * 1. Read the schedule and its experiment. A firing that cannot start a trial
 *    (schedule gone: orphaned; experiment gone: skipped_experiment_deleted;
 *    armed by an older generation: stale_generation) is recorded with why, and
 *    its cloud schedule removed (a stale one also re-arms the current generation,
 *    repairing a change whose cloud call failed). Cloud calls here are best
 *    effort: reconciliation is the net.
 * 1b. The schedule's own rules (domain/firing-policy.ts): paused, past its
 *    starting deadline, or overlapping its previous trial with `overlap: skip`:
 *    recorded as skipped, nothing counted, the cloud schedule left alone.
 *    Another cloud schedule of the same schedule that fired for the same time
 *    (the two halves of a day-of-month OR day-of-week pattern) is recorded as
 *    a duplicate beside the first and starts nothing.
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
    // A paused schedule's firing from an older generation: that cloud schedule should be gone.
    if (outcome === 'skipped_paused' && schedule && (firing.generation ?? 0) !== schedule.generation) {
      await bestEffort('remove the cloud schedule that fired', context, () => cloud.remove(firing.schedule_arn));
      return;
    }
    // Only a firing that should not have happened says something about the cloud schedule.
    if (!['orphaned', 'skipped_experiment_deleted', 'stale_generation', 'exhausted'].includes(outcome)) return;
    await bestEffort('remove the cloud schedule that fired', context, () => cloud.remove(firing.schedule_arn));
    if (!schedule) return;
    if (outcome === 'stale_generation' && hasFiringsLeft(schedule) && !isDeleted(schedule)) {
      await bestEffort('arm the current generation', context, () => cloud.arm(schedule));
    } else if (outcome !== 'stale_generation') {
      await bestEffort('remove the cloud schedules', context, () => cloud.disarm(schedule));
    }
  }

  /** A previous delivery may have started a trial before the firing was found droppable: that trial stands. */
  async function drop(firing: ScheduleFiring, outcome: Dropped, reason: string, schedule: (Schedule & Partial<DeletionMarker>) | undefined, context: Record<string, unknown>): Promise<string | undefined> {
    const record = await schedules.recordFiring(firingRecord(firing, { outcome, reason }));
    if (record.outcome === 'started' && record.trial_id !== undefined) {
      if (record.schedule_arn !== firing.schedule_arn) return duplicate(firing, record, context);
      if (await trials.get(record.trial_id)) return record.trial_id;
      await schedules.settleFiring(firing, outcome, reason);
    }
    logger?.info(`Firing dropped: ${reason}`, { ...context, outcome });
    await repair(firing, outcome, schedule, context);
    return undefined;
  }

  /** Another cloud schedule of this schedule already fired for this time and started its trial: recorded beside it, nothing more. */
  async function duplicate(firing: ScheduleFiring, first: FiringRecord, context: Record<string, unknown>): Promise<undefined> {
    const reason = `${first.schedule_arn} already fired for this time and started trial ${String(first.trial_id)}`;
    await schedules.recordFiring(firingRecord(firing, { outcome: 'duplicate', reason, trial_id: first.trial_id }));
    logger?.info(`Firing dropped: ${reason}`, { ...context, outcome: 'duplicate' });
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
      ...(firing.fired_at ? { fired_at: firing.fired_at } : {}),
      ...fields,
    };
  }

  /** The newest trial the schedule started, with its end time: what `overlap: skip` compares with. */
  async function previousTrial(schedule: Schedule): Promise<PreviousTrial | undefined> {
    const [newest] = (await trials.listBySchedule(schedule.id, { limit: 1 })).items;
    if (!newest) return undefined;
    const trial = await trials.get(newest.id);
    return trial ? { id: trial.id, status: trial.status, completed_at: trial.completed_at } : undefined;
  }

  return async function fireSchedule(firing: ScheduleFiring): Promise<string | undefined> {
    const generation = firing.generation ?? 0;
    const context = { scheduleId: firing.schedule_id, scheduledTime: firing.scheduled_time, generation };
    const schedule = await schedules.get(firing.experiment_id, firing.schedule_id, { includeDeleted: true });
    const experiment = schedule && !isDeleted(schedule) ? await experiments.get(firing.experiment_id) : undefined;
    if (!schedule || isDeleted(schedule)) return drop(firing, 'orphaned', 'the schedule no longer exists', schedule, context);
    if (!experiment) return drop(firing, 'skipped_experiment_deleted', 'the experiment no longer exists', schedule, context);
    if (schedule.state === 'DISABLED') return drop(firing, 'skipped_paused', 'the schedule was paused (state DISABLED) when the firing arrived', schedule, context);
    if (schedule.generation !== generation) {
      return drop(firing, 'stale_generation', `armed by generation ${generation}; the schedule is at generation ${schedule.generation}`, schedule, context);
    }
    // An exhausted schedule is left to the count below: a redelivery of the firing that counted the last one must still make its trial.

    const skip = policySkip(schedule, firing.scheduled_time, clock.now(), schedule.overlap === 'skip' ? await previousTrial(schedule) : undefined);
    if (skip) return drop(firing, skip.outcome, skip.reason, schedule, context);

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
    if (record.outcome === 'started' && record.schedule_arn !== firing.schedule_arn) return duplicate(firing, record, context);
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
