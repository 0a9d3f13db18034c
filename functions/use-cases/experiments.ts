import { deletedError, isDeleted } from '../domain/deletion.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { normaliseDefinition, STEP_LISTS, type Experiment, type ExperimentDefinition } from '../domain/experiment.js';
import { keepMasked, maskExperiment } from '../domain/redaction.js';
import type { Json } from '../domain/types.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import type { Caller, Clock, ExperimentStore, IdGenerator, Page, PageRequest } from '../ports.js';
import { validateSteps } from './validate-experiment.js';
import { AWS_TIMING_LIMITS, validateTiming, type TimingLimits } from './validate-timing.js';
import { collect, type ListRequest } from './list-all.js';

export interface ExperimentDeps {
  experiments: ExperimentStore;
  registry: ModuleRegistry;
  clock: Clock;
  ids: IdGenerator;
  /** Removes what hangs off an experiment (its schedules) before it is marked deleted, on behalf of `caller`. */
  beforeDelete?: (experimentId: string, caller: Caller) => Promise<void>;
  /** What one worker slice and one trial can give (default: the Lambda worker's and the queue's). */
  timing?: TimingLimits;
}

async function assertValidSteps(definition: Partial<ExperimentDefinition>, registry: ModuleRegistry): Promise<void> {
  const errors = await validateSteps(definition, registry);
  if (errors.length > 0) throw new ValidationError('The experiment has invalid steps', errors);
}

/** The whole definition (a PATCH merged with what is stored) must fit what the worker and the queue allow. */
async function assertRunnable(definition: Partial<ExperimentDefinition>, registry: ModuleRegistry, timing: TimingLimits): Promise<void> {
  await registry.load(STEP_LISTS.flatMap((list) => (definition[list] ?? []).map((step) => step.do)));
  const errors = validateTiming(definition, registry, timing);
  if (errors.length > 0) throw new ValidationError('The experiment cannot run as defined', errors);
}

export function makeExperimentUseCases(deps: ExperimentDeps) {
  const { experiments, registry, clock, ids } = deps;
  const timing = deps.timing ?? AWS_TIMING_LIMITS;

  /** A live experiment; the 404 for a deleted one says who deleted it and when. */
  async function load(id: string): Promise<Experiment> {
    const experiment = await experiments.get(id, { includeDeleted: true });
    if (!experiment) throw new NotFoundError(`Experiment ${id} not found`);
    if (isDeleted(experiment)) throw deletedError('Experiment', id, experiment);
    return experiment;
  }

  /** What a client sent, with the secrets it sent back masked (`***`, as it read them) restored from `current`. */
  function restoreMasked<T>(input: T, current: Experiment): T {
    return keepMasked(input as unknown as Json, current as unknown as Json, maskExperiment(current) as unknown as Json) as unknown as T;
  }

  return {
    /**
     * 1. Check every step against the module registry.
     * 2. Stamp id, creator and times.
     * 3. Store it (conditional: never overwrites).
     */
    async create(definition: ExperimentDefinition, caller: Caller): Promise<Experiment> {
      await assertValidSteps(definition, registry);
      await assertRunnable(definition, registry, timing);
      const now = clock.now().toISOString();
      const experiment: Experiment = {
        id: ids.newId(),
        ...normaliseDefinition(definition),
        created_by: caller.id,
        created_at: now,
        updated_by: caller.id,
        updated_at: now,
      };
      await experiments.create(experiment);
      return maskExperiment(experiment);
    },

    /**
     * By id a deleted experiment still answers, with `deleted_at` and `deleted_by`, as Kallisti's views do.
     * Views mask secrets (parameters by name and by use, literal credentials in steps); the worker reads the store.
     */
    async get(id: string): Promise<Experiment> {
      const experiment = await experiments.get(id, { includeDeleted: true });
      if (!experiment) throw new NotFoundError(`Experiment ${id} not found`);
      return maskExperiment(experiment);
    },

    /** Live experiments, newest first; without a limit, all of them up to the list caps. */
    async list(request: ListRequest): Promise<Page<Experiment>> {
      const result = await collect(request, (page: PageRequest) => experiments.list(page));
      return { ...result, items: result.items.map(maskExperiment) };
    },

    /** PUT: the body replaces every writable field; omitted optional fields are emptied. */
    async replace(id: string, given: ExperimentDefinition, caller: Caller): Promise<Experiment> {
      await assertValidSteps(given, registry);
      await assertRunnable(given, registry, timing);
      const current = await load(id);
      const definition = restoreMasked(given, current);
      const next: Experiment = {
        ...normaliseDefinition(definition),
        id,
        created_by: current.created_by,
        created_at: current.created_at,
        updated_by: caller.id,
        updated_at: clock.now().toISOString(),
      };
      await experiments.replace(next, current.updated_at);
      return maskExperiment(next);
    },

    /** PATCH: only the fields given change. */
    async patch(id: string, given: Partial<ExperimentDefinition>, caller: Caller): Promise<Experiment> {
      await assertValidSteps(given, registry);
      const current = await load(id);
      const changes = restoreMasked(given, current);
      const merged: ExperimentDefinition = { ...current, ...changes };
      await assertRunnable(merged, registry, timing);
      const next: Experiment = {
        ...current,
        ...normaliseDefinition(merged),
        updated_by: caller.id,
        updated_at: clock.now().toISOString(),
      };
      await experiments.replace(next, current.updated_at);
      return maskExperiment(next);
    },

    /**
     * Soft delete: gone from the API, kept in the store for the trials that reference it.
     * 1. The experiment must be live.
     * 2. Its schedules go first (store and cloud), so a failure there leaves a
     *    live experiment the caller can delete again, never orphans that fire.
     * 3. Mark it deleted.
     */
    async delete(id: string, caller: Caller): Promise<void> {
      await load(id);
      await deps.beforeDelete?.(id, caller);
      await experiments.markDeleted(id, caller.id, clock.now().toISOString());
    },
  };
}

export type ExperimentUseCases = ReturnType<typeof makeExperimentUseCases>;
