import { DependencyError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { emptyTrialRecord, type Trial } from '../domain/trial.js';
import type { JsonObject, StringMap } from '../domain/types.js';
import type { Caller, Clock, ExperimentStore, IdGenerator, Page, PageRequest, TrialQueue, TrialStore } from '../ports.js';

export interface TrialInput {
  experiment: string;
  parameters?: JsonObject;
  ticket?: JsonObject;
  metadata?: StringMap;
}

export interface TrialDeps {
  trials: TrialStore;
  experiments: ExperimentStore;
  queue: TrialQueue;
  clock: Clock;
  ids: IdGenerator;
}

export function makeTrialUseCases(deps: TrialDeps) {
  const { trials, experiments, queue, clock, ids } = deps;

  return {
    /**
     * 1. The experiment must exist and be live.
     * 2. Store the trial `Scheduled`, metadata merged (trial keys win).
     * 3. Hand it to the sequential worker. If the queue refuses, the trial is
     *    ended `Aborted` with the reason, so an accepted trial is never lost
     *    silently, and the caller gets a 503.
     */
    async create(input: TrialInput, caller: Caller): Promise<Trial> {
      const experiment = await experiments.get(input.experiment);
      if (!experiment) {
        throw new ValidationError('Unknown experiment', [{ path: 'experiment', message: `no experiment with id ${input.experiment}` }]);
      }
      const now = clock.now().toISOString();
      const trial: Trial = {
        id: ids.newId(),
        experiment: experiment.id,
        parameters: input.parameters ?? {},
        metadata: { ...experiment.metadata, ...(input.metadata ?? {}) },
        ticket: input.ticket ?? {},
        status: 'Scheduled',
        trial_record: emptyTrialRecord(),
        created_at: now,
        executed_at: null,
        completed_at: null,
        initiated_by: caller.id,
        initiated_from: 'api',
        schedule_id: null,
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
        await trials.transition(trial.id, ['Scheduled'], 'Aborted', { trial_record: record, completed_at: clock.now().toISOString() });
        throw new DependencyError('The trial could not be queued; it was recorded as Aborted. Try again.', { cause: error });
      }
      return trial;
    },

    async get(id: string): Promise<Trial> {
      const trial = await trials.get(id);
      if (!trial) throw new NotFoundError(`Trial ${id} not found`);
      return trial;
    },

    list(filter: { experiment?: string }, page: PageRequest): Promise<Page<Trial>> {
      return trials.list(filter, page);
    },

    /**
     * 1. A Scheduled or In Progress trial moves to `Stop Initiated` (the worker
     *    finishes it as `Stopped`).
     * 2. Asking again while `Stop Initiated` answers the same trial.
     * 3. Anything else is 403, as Kallisti answers.
     */
    async stop(id: string): Promise<Trial> {
      const stopped = await trials.transition(id, ['Scheduled', 'In Progress'], 'Stop Initiated');
      if (stopped) return stopped;
      const trial = await trials.get(id);
      if (!trial) throw new NotFoundError(`Trial ${id} not found`);
      if (trial.status === 'Stop Initiated') return trial;
      throw new ForbiddenError(`Trial ${id} is ${trial.status}; only a Scheduled or In Progress trial can be stopped.`);
    },
  };
}

export type TrialUseCases = ReturnType<typeof makeTrialUseCases>;
