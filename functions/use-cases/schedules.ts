import type { AppLogger } from '../app-logger.js';
import { InvalidCronError, parseUnixCron } from '../domain/cron.js';
import { deletedError, isDeleted, type DeletionMarker } from '../domain/deletion.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { Experiment } from '../domain/experiment.js';
import { keepMasked, maskParametersFor } from '../domain/redaction.js';
import { hasFiringsLeft, SCHEDULE_DEFAULTS, SCHEDULE_OPTION_NAMES, type FiringRecord, type Schedule, type ScheduleDefinition, type ScheduleOptions, type ScheduleView } from '../domain/schedule.js';
import { resolveScheduleOptions } from '../domain/schedule-options.js';
import { MAX_PREVIEW_COUNT, nextFireTime, previewSchedule, type SchedulePreview } from '../domain/schedule-preview.js';
import type { Json, JsonObject } from '../domain/types.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import type { Caller, Clock, CloudScheduler, ExperimentStore, IdGenerator, Page, PageRequest, ScheduleStore, TrialStore } from '../ports.js';
import { validateGuards } from './validate-experiment.js';
import { collect, type ListRequest } from './list-all.js';

export interface ScheduleDeps {
  schedules: ScheduleStore;
  experiments: ExperimentStore;
  trials: TrialStore;
  cloud: CloudScheduler;
  clock: Clock;
  ids: IdGenerator;
  logger?: AppLogger;
  /** Checks a schedule's guards; absent = taken as given (tests of other concerns). */
  registry?: ModuleRegistry;
}

/** How many of a schedule's newest trials a list of schedules shows for each. */
export const TRIALS_IN_LIST = 20;

function assertPattern(pattern: string): void {
  try {
    parseUnixCron(pattern);
  } catch (error) {
    if (error instanceof InvalidCronError) {
      throw new ValidationError('Invalid recurrence_pattern', [{ path: 'recurrence_pattern', message: error.message }], { cause: error });
    }
    throw error;
  }
}

/** Kallisti re-merges a schedule's metadata on every save: the experiment's labels, then the schedule's own. */
function inherited(experiment: JsonObject, own: JsonObject): JsonObject {
  return { ...experiment, ...own };
}

/** The options a request names, for resolveScheduleOptions. */
function optionsOf(input: Partial<ScheduleDefinition>): Partial<Record<keyof ScheduleOptions, unknown>> {
  const given: Partial<Record<keyof ScheduleOptions, unknown>> = {};
  for (const name of SCHEDULE_OPTION_NAMES) if (Object.prototype.hasOwnProperty.call(input, name)) given[name] = input[name];
  return given;
}

/** Body of POST /schedule/preview: a schedule's definition and how many fire times to show. */
export interface PreviewRequest extends Partial<ScheduleOptions> {
  recurrence_pattern: string;
  recurrence_count?: number | null;
  count?: number;
}

function assertCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW_COUNT) {
    throw new ValidationError('Invalid count', [{ path: 'count', message: `must be a whole number from 1 to ${MAX_PREVIEW_COUNT}` }]);
  }
}

/**
 * Schedule changes write the store first (the truth, with the next generation,
 * conditionally on the generation read), then bring the cloud in line. A cloud
 * failure after the store write is not undone (an undo could overwrite a newer
 * change): it is logged, and repaired by the schedule's next firing (which
 * drops a firing of an older generation and re-arms the current one, or
 * removes the cloud schedule of a deleted schedule) or by reconciliation.
 */
export function makeScheduleUseCases(deps: ScheduleDeps) {
  const { schedules, experiments, trials, cloud, clock, ids, logger } = deps;

  async function assertGuards(guards: ScheduleDefinition['guards']): Promise<void> {
    const errors = deps.registry ? await validateGuards(guards, deps.registry) : [];
    if (errors.length > 0) throw new ValidationError('The schedule has invalid guards', errors);
  }

  async function liveExperiment(experimentId: string) {
    const experiment = await experiments.get(experimentId, { includeDeleted: true });
    if (!experiment) throw new NotFoundError(`Experiment ${experimentId} not found`);
    if (isDeleted(experiment)) throw deletedError('Experiment', experimentId, experiment);
    return experiment;
  }

  /** A live schedule of a live experiment; the 404 for a deleted one says who deleted it and when. */
  async function load(experimentId: string, scheduleId: string): Promise<Schedule> {
    return (await loadWith(experimentId, scheduleId)).schedule;
  }

  async function loadWith(experimentId: string, scheduleId: string): Promise<{ schedule: Schedule; experiment: Experiment }> {
    const experiment = await liveExperiment(experimentId);
    const schedule = await schedules.get(experimentId, scheduleId, { includeDeleted: true });
    if (!schedule) throw new NotFoundError(`Schedule ${scheduleId} not found`);
    if (isDeleted(schedule)) throw deletedError('Schedule', scheduleId, schedule);
    return { schedule, experiment };
  }

  /** A schedule as views show it: its parameters masked by the one redaction rule (its experiment's steps say which are secrets). */
  function masked(schedule: Schedule, experiment: Experiment): Schedule {
    return { ...schedule, parameters: maskParametersFor(schedule.parameters, experiment) };
  }

  /** The cloud side, after the store: best effort, never undone. */
  async function bringCloudInLine(schedule: Schedule, what: 'create' | 'update' | 'delete'): Promise<void> {
    try {
      if (what !== 'delete' && hasFiringsLeft(schedule)) await cloud.arm(schedule, what === 'update');
      else await cloud.disarm(schedule);
    } catch (error) {
      logger?.error('The scheduler refused a change the store already holds; the next firing or reconciliation repairs it', {
        scheduleId: schedule.id,
        generation: schedule.generation,
        change: what,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }

  async function withTrials(schedule: Schedule, experiment: Experiment, request: ListRequest): Promise<{ view: ScheduleView; nextToken?: string }> {
    const result = await collect(request, (page) => trials.listBySchedule(schedule.id, page));
    const fires = hasFiringsLeft(schedule) && !isDeleted(schedule as Schedule & Partial<DeletionMarker>);
    return { view: { ...masked(schedule, experiment), next_fire_time: fires ? nextFireTime(schedule, clock.now()) : null, trials: result.items }, nextToken: result.nextToken };
  }

  /** Soft delete (kept for audit with who and when, next generation), then the cloud schedule(s). */
  async function remove(schedule: Pick<Schedule, 'id' | 'experiment_id'>, caller: Caller): Promise<void> {
    const deleted = await schedules.markDeleted(schedule.experiment_id, schedule.id, caller.id, clock.now().toISOString());
    await bringCloudInLine(deleted, 'delete');
  }

  return {
    /**
     * 1. The experiment must be live; the pattern must be valid Unix cron.
     * 2. Store the schedule (generation 1; metadata merged over the experiment's; recurrence_left = count).
     * 3. If the experiment was deleted meanwhile (its cascade may have missed
     *    this schedule), delete the schedule again and answer 404.
     * 4. Arm it in the cloud (best effort: reconciliation arms it otherwise).
     */
    async create(experimentId: string, input: ScheduleDefinition, caller: Caller): Promise<ScheduleView> {
      assertPattern(input.recurrence_pattern);
      await assertGuards(input.guards);
      const options = resolveScheduleOptions(optionsOf(input), SCHEDULE_DEFAULTS, clock.now());
      const experiment = await liveExperiment(experimentId);
      const now = clock.now().toISOString();
      const count = input.recurrence_count ?? null;
      const schedule: Schedule = {
        id: ids.newId(),
        experiment_id: experimentId,
        metadata: inherited(experiment.metadata, input.metadata ?? {}),
        parameters: input.parameters ?? {},
        ticket: input.ticket ?? {},
        recurrence_pattern: input.recurrence_pattern.trim(),
        recurrence_count: count,
        recurrence_left: count,
        ...(input.guards && input.guards.length > 0 ? { guards: input.guards } : {}),
        ...options,
        generation: 1,
        created_by: caller.id,
        created_at: now,
        updated_by: caller.id,
        updated_at: now,
      };
      await schedules.create(schedule);
      const still = await experiments.get(experimentId, { includeDeleted: true });
      if (!still || isDeleted(still)) {
        await schedules.markDeleted(experimentId, schedule.id, caller.id, clock.now().toISOString());
        throw still ? deletedError('Experiment', experimentId, still) : new NotFoundError(`Experiment ${experimentId} not found`);
      }
      await bringCloudInLine(schedule, 'create');
      return { ...masked(schedule, experiment), firing_counts: {}, next_fire_time: nextFireTime(schedule, clock.now()), trials: [] };
    },

    /**
     * By id a schedule answers even when it, or its experiment, was deleted
     * (with `deleted_at` and `deleted_by`), as Kallisti's views do.
     */
    async get(experimentId: string, scheduleId: string, request: ListRequest): Promise<{ view: ScheduleView; nextToken?: string }> {
      const experiment = await experiments.get(experimentId, { includeDeleted: true });
      if (!experiment) throw new NotFoundError(`Experiment ${experimentId} not found`);
      const schedule = await schedules.get(experimentId, scheduleId, { includeDeleted: true });
      if (!schedule) throw new NotFoundError(`Schedule ${scheduleId} not found`);
      return withTrials(schedule, experiment, request);
    },

    /** Live schedules of an experiment; a deleted experiment has none (200 `[]`, as in Kallisti). */
    async list(experimentId: string, request: ListRequest): Promise<Page<ScheduleView>> {
      const experiment = await experiments.get(experimentId, { includeDeleted: true });
      if (!experiment) throw new NotFoundError(`Experiment ${experimentId} not found`);
      if (isDeleted(experiment)) return { items: [] };
      return collect(request, async (page) => {
        const result = await schedules.listByExperiment(experimentId, page);
        const items = await Promise.all(result.items.map(async (s) => (await withTrials(s, experiment, { limit: TRIALS_IN_LIST })).view));
        return { items, nextToken: result.nextToken };
      });
    },

    /**
     * PUT replaces every field (an omitted count means forever); PATCH changes
     * the given ones. Giving recurrence_count resets recurrence_left to it.
     * The store takes the next generation only if nobody changed the schedule
     * since it was read (409 otherwise); then that generation is armed (or,
     * with nothing left to fire, the cloud schedule removed).
     */
    async update(experimentId: string, scheduleId: string, input: Partial<ScheduleDefinition>, caller: Caller, mode: 'replace' | 'patch'): Promise<ScheduleView> {
      if (input.recurrence_pattern !== undefined) assertPattern(input.recurrence_pattern);
      await assertGuards(input.guards);
      const { schedule: current, experiment } = await loadWith(experimentId, scheduleId);
      // PUT starts again from the defaults; PATCH from what is stored.
      const options = resolveScheduleOptions(optionsOf(input), mode === 'replace' ? SCHEDULE_DEFAULTS : current, clock.now());
      // Parameters sent back as read (`***` where masked) keep their stored values.
      const parameters = input.parameters && (keepMasked(input.parameters, current.parameters, masked(current, experiment).parameters as Json) as JsonObject);
      const given = (field: keyof ScheduleDefinition) => mode === 'replace' || Object.prototype.hasOwnProperty.call(input, field);
      const resetLeft = given('recurrence_count');
      const count = resetLeft ? (input.recurrence_count ?? null) : current.recurrence_count;
      const next: Schedule = {
        ...current,
        recurrence_pattern: (input.recurrence_pattern ?? current.recurrence_pattern).trim(),
        recurrence_count: count,
        recurrence_left: resetLeft ? count : current.recurrence_left,
        metadata: inherited(experiment.metadata, given('metadata') ? (input.metadata ?? {}) : current.metadata),
        parameters: given('parameters') ? (parameters ?? {}) : current.parameters,
        ticket: given('ticket') ? (input.ticket ?? {}) : current.ticket,
        guards: given('guards') ? input.guards : current.guards,
        ...options,
        generation: current.generation + 1,
        updated_by: caller.id,
        updated_at: clock.now().toISOString(),
      };
      const stored = await schedules.update(next, resetLeft);
      await bringCloudInLine(stored, 'update');
      return (await withTrials(stored, experiment, { limit: TRIALS_IN_LIST })).view;
    },

    /** The next `count` fire times of a stored schedule (GET …/next). */
    async next(experimentId: string, scheduleId: string, count: number): Promise<SchedulePreview & { schedule_id: string; recurrence_left: number | null }> {
      assertCount(count);
      const schedule = await load(experimentId, scheduleId);
      return { schedule_id: schedule.id, recurrence_left: schedule.recurrence_left, ...previewSchedule(schedule, clock.now(), count) };
    },

    /** What each firing of the schedule made, newest first (GET …/firings). */
    async firings(experimentId: string, scheduleId: string, page: PageRequest): Promise<Page<FiringRecord>> {
      const schedule = await load(experimentId, scheduleId);
      return schedules.listFirings(schedule.experiment_id, schedule.id, page);
    },

    /** The next fire times of a schedule not stored (POST /schedule/preview): the same checks as creating one. */
    preview(input: PreviewRequest): SchedulePreview & { recurrence_left: number | null } {
      assertPattern(input.recurrence_pattern);
      const count = input.count ?? 10;
      assertCount(count);
      const options = resolveScheduleOptions(optionsOf(input), SCHEDULE_DEFAULTS, clock.now());
      const left = input.recurrence_count ?? null;
      return { recurrence_left: left, ...previewSchedule({ recurrence_pattern: input.recurrence_pattern.trim(), recurrence_left: left, ...options }, clock.now(), count) };
    },

    /** Deletes the schedule (soft: kept for audit, gone from the API) and its cloud schedule(s); trials it started stay. */
    async delete(experimentId: string, scheduleId: string, caller: Caller): Promise<void> {
      await remove(await load(experimentId, scheduleId), caller);
    },

    /** Cascade for a deleted experiment: every schedule goes, store first, then cloud. */
    async deleteAllOf(experimentId: string, caller: Caller): Promise<void> {
      let nextToken: string | undefined;
      do {
        // Deleted schedules keep their place in the partition, so a token stays valid while we delete.
        const page = await schedules.listByExperiment(experimentId, { limit: 100, nextToken });
        for (const schedule of page.items) {
          try {
            await remove(schedule, caller);
          } catch (error) {
            // Deleted meanwhile by another request: that is what we wanted.
            if (!(error instanceof NotFoundError)) throw error;
          }
        }
        nextToken = page.nextToken;
      } while (nextToken);
    },
  };
}

export type ScheduleUseCases = ReturnType<typeof makeScheduleUseCases>;
