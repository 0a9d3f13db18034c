import { isDeleted } from '../domain/deletion.js';
import { ConflictError, DependencyError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { hideParameters, maskExperiment, maskParametersFor, secretParameterNames } from '../domain/redaction.js';
import type { Experiment } from '../domain/experiment.js';
import { emptyTrialRecord, snapshotOf, type Trial } from '../domain/trial.js';
import type { JsonObject } from '../domain/types.js';
import type { Guard } from '../domain/guards.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import type { SafetyGate } from './safety-gate.js';
import { validateGuards } from './validate-experiment.js';
import type { AppLogger } from '../app-logger.js';
import type { Caller, Clock, ExperimentStore, IdGenerator, Page, PageRequest, TrialQueue, TrialStore } from '../ports.js';
import { collect, type ListRequest } from './list-all.js';

export interface TrialInput {
  experiment: string;
  parameters?: JsonObject;
  ticket?: JsonObject;
  metadata?: JsonObject;
  /** Guards this trial adds to its experiment's. */
  guards?: Guard[];
  /** Free text naming where the trial was started from (Kallisti's writable `initiated_from`); `api` when absent. */
  initiated_from?: string;
}

export interface TrialListFilter {
  experiment?: string;
  /** Trials of deleted experiments are left out unless this is true, as Kallisti's list does. */
  includeDeleted?: boolean;
}

export interface TrialDeps {
  trials: TrialStore;
  experiments: ExperimentStore;
  queue: TrialQueue;
  clock: Clock;
  ids: IdGenerator;
  /** Halts and freeze windows; absent = not enforced (tests of other concerns). */
  gate?: SafetyGate;
  /** Checks a trial's own guards; absent = guards are taken as given (tests of other concerns). */
  registry?: ModuleRegistry;
  logger?: AppLogger;
}

/**
 * A trial as the API shows it, whatever its status: parameters with
 * credential-looking names (token, password, secret, key...) and those its
 * experiment's steps use as credentials are masked, so read access never hands
 * out what a writer passed in. The worker reads the store, not this view.
 */
export function trialView(trial: Trial, experiment: Experiment | undefined): Trial {
  const { runtime: _runtime, ...shown } = trial;
  const view: Trial = { ...shown, parameters: maskParametersFor(trial.parameters, experiment), invocations: trial.invocations ?? 0 };
  if (trial.experiment_snapshot) view.experiment_snapshot = maskExperiment(trial.experiment_snapshot);
  return view;
}

export function makeTrialUseCases(deps: TrialDeps) {
  const { trials, experiments, queue, clock, ids, logger } = deps;

  /** Views of trials, reading each experiment once. */
  async function views(list: Trial[]): Promise<Trial[]> {
    const cache = new Map<string, Promise<Experiment | undefined>>();
    const experimentOf = (id: string) => {
      let found = cache.get(id);
      if (!found) cache.set(id, (found = experiments.get(id, { includeDeleted: true })));
      return found;
    };
    return Promise.all(list.map(async (trial) => trialView(trial, await experimentOf(trial.experiment))));
  }
  const view = async (trial: Trial): Promise<Trial> => (await views([trial]))[0] as Trial;

  /** A trial's parameters with those its steps use as credentials hidden, for a trial that ends. */
  async function sealedParameters(trial: Trial): Promise<JsonObject> {
    const source = trial.experiment_snapshot ?? (await experiments.get(trial.experiment, { includeDeleted: true }));
    const steps = source ? [...source.pre_steps, ...source.steps, ...source.post_steps] : [];
    return hideParameters(trial.parameters, secretParameterNames(steps, trial.parameters));
  }

  return {
    /**
     * 1. The experiment must exist and be live, and no halt or freeze window
     *    may cover it (409 naming the rule).
     * 2. Store the trial `Scheduled`, metadata merged (trial keys win), with a
     *    snapshot of the experiment: later edits do not change what it runs.
     * 3. Hand it to the sequential worker. If the queue refuses, the trial is
     *    ended `Aborted` with the reason, so an accepted trial is never lost
     *    silently, and the caller gets a 503.
     */
    async create(input: TrialInput, caller: Caller): Promise<Trial> {
      const guardErrors = deps.registry ? await validateGuards(input.guards, deps.registry) : [];
      if (guardErrors.length > 0) throw new ValidationError('The trial has invalid guards', guardErrors);
      const experiment = await experiments.get(input.experiment, { includeDeleted: true });
      if (!experiment) {
        throw new ValidationError('Unknown experiment', [{ path: 'experiment', message: `no experiment with id ${input.experiment}` }]);
      }
      if (isDeleted(experiment)) {
        const message = `experiment ${input.experiment} was deleted by ${experiment.deleted_by} at ${experiment.deleted_at}`;
        throw new ValidationError('Deleted experiment', [{ path: 'experiment', message }]);
      }
      const metadata = { ...experiment.metadata, ...(input.metadata ?? {}) };
      const refusal = await deps.gate?.refusal({ experimentId: experiment.id, experimentMetadata: experiment.metadata, trialMetadata: metadata }, 'api');
      if (refusal) throw new ConflictError(refusal.message);
      const now = clock.now().toISOString();
      const trial: Trial = {
        id: ids.newId(),
        experiment: experiment.id,
        parameters: input.parameters ?? {},
        metadata,
        ticket: input.ticket ?? {},
        status: 'Scheduled',
        trial_record: emptyTrialRecord(),
        created_at: now,
        executed_at: null,
        completed_at: null,
        initiated_by: caller.id,
        initiated_from: input.initiated_from ?? 'api',
        schedule_id: null,
        ...(input.guards && input.guards.length > 0 ? { guards: input.guards } : {}),
        experiment_snapshot: snapshotOf(experiment),
        invocations: 0,
      };
      await trials.create(trial);
      try {
        await queue.enqueue(trial.id);
      } catch (error) {
        const record = emptyTrialRecord();
        record.result.push({
          step_name: 'result',
          step_parameters: {},
          logs: [`[${clock.now().toISOString()} - ERROR] The trial could not be queued for execution; it was not run.`],
        });
        // The record kept forever holds no credential, as for a trial the worker ends.
        const parameters = hideParameters(trial.parameters, secretParameterNames([...experiment.pre_steps, ...experiment.steps, ...experiment.post_steps], trial.parameters));
        await trials.transition(trial.id, ['Scheduled'], 'Aborted', { trial_record: record, completed_at: clock.now().toISOString(), parameters });
        throw new DependencyError('The trial could not be queued; it was recorded as Aborted. Try again.', { cause: error });
      }
      return trialView(trial, experiment);
    },

    async get(id: string): Promise<Trial> {
      const trial = await trials.get(id);
      if (!trial) throw new NotFoundError(`Trial ${id} not found`);
      return view(trial);
    },

    /**
     * Newest first. Without `includeDeleted`, trials of deleted experiments are
     * left out (each distinct experiment of a page is read once, in parallel);
     * reading goes on until the page is full, so a page is never short while
     * there is more.
     */
    async list(filter: TrialListFilter, request: ListRequest): Promise<Page<Trial>> {
      const { experiment, includeDeleted = false } = filter;
      const live = new Map<string, Promise<boolean>>();
      const isLive = (id: string): Promise<boolean> => {
        let known = live.get(id);
        if (!known) {
          known = experiments.get(id, { includeDeleted: true }).then((e) => e === undefined || !isDeleted(e));
          live.set(id, known);
        }
        return known;
      };
      if (experiment && !includeDeleted && !(await isLive(experiment))) return { items: [] };
      const fetchPage = async (page: PageRequest): Promise<Page<Trial>> => {
        const result = await trials.list({ experiment }, page);
        if (includeDeleted || experiment) return result;
        const keep = await Promise.all(result.items.map((trial) => isLive(trial.experiment)));
        return { items: result.items.filter((_, i) => keep[i]), nextToken: result.nextToken };
      };
      const result = await collect(request, fetchPage);
      return { ...result, items: await views(result.items) };
    },

    /**
     * 1. A Scheduled trial ends `Stopped` at once: no step ran, so no post step is
     *    needed, and the worker acknowledges its message when it gets there.
     * 2. An In Progress trial moves to `Stop Initiated`; the worker runs its post
     *    steps and ends it `Stopped`. If it is parked in the queue (a long wait),
     *    its message is made visible now so the worker takes it within seconds.
     * 3. Asking again while `Stop Initiated` answers the same trial.
     * 4. Anything else is 403, as Kallisti answers.
     */
    async stop(id: string): Promise<Trial> {
      const at = clock.now().toISOString();
      const record = emptyTrialRecord();
      record.result.push({ step_name: 'result', step_parameters: {}, logs: [`[${at} - ERROR] Trial Stopped: a stop was requested before the trial started; no step was run.`] });
      const queued = await trials.get(id);
      // The record kept forever holds no credential, as for a trial the worker ends.
      const ended = queued?.status === 'Scheduled' ? await trials.transition(id, ['Scheduled'], 'Stopped', { completed_at: at, trial_record: record, parameters: await sealedParameters(queued) }) : undefined;
      const stopping = ended ? undefined : await trials.transition(id, ['In Progress'], 'Stop Initiated');
      if (stopping?.runtime?.slice === 'parked') {
        try {
          await queue.wake(id, stopping.runtime.receipt);
        } catch (error) {
          // The stop stands: the worker sees it when the parked message comes back on its own.
          logger?.warn('Could not wake the parked trial; it stops when its message comes back', { trialId: id, error: error instanceof Error ? error.message : String(error) });
        }
      }
      const trial = await trials.get(id);
      if (!trial) throw new NotFoundError(`Trial ${id} not found`);
      if (ended || stopping || trial.status === 'Stop Initiated') return view(trial);
      // Kallisti's own words in `message` (its clients compare them); ours in `detail`.
      throw new ForbiddenError('Trial has either not started or already set to stop.', `Trial ${id} is ${trial.status}; only a Scheduled or In Progress trial can be stopped.`);
    },
  };
}

export type TrialUseCases = ReturnType<typeof makeTrialUseCases>;
