import type { AppLogger } from '../app-logger.js';
import { ValidationError } from '../domain/errors.js';
import type { FreezeWindow } from '../domain/safety/freeze.js';
import { haltView, isHaltActive, type Halt, type HaltView } from '../domain/safety/halt.js';
import { freezeInputErrors, haltInputErrors, normaliseInstant, scopeOf, type FreezeInput, type HaltInput } from '../domain/safety/inputs.js';
import { inScope } from '../domain/safety/scope.js';
import type { JsonObject } from '../domain/types.js';
import type { Caller, Clock, ExperimentStore, IdGenerator, Page, PageRequest, SafetyMetrics, SafetyStore, TrialQueue, TrialStore } from '../ports.js';

export interface SafetyDeps {
  safety: SafetyStore;
  trials: TrialStore;
  experiments: ExperimentStore;
  clock: Clock;
  ids: IdGenerator;
  logger?: AppLogger;
  metrics?: SafetyMetrics;
  /** Wakes a stopped trial parked in the queue (a long wait), so its post steps run within seconds. */
  queue?: Pick<TrialQueue, 'wake'>;
}

const SWEEP_PAGE = 100;

export function makeSafetyUseCases(deps: SafetyDeps) {
  const { safety, trials, experiments, clock, ids, logger, metrics } = deps;

  /**
   * Asks every unfinished trial in the halt's scope to stop, through the same
   * `Stop Initiated` a user's stop request sets: the worker ends the main steps,
   * runs the post steps and ends the trial `Stopped`. Returns the trials asked.
   */
  /** Best effort: a trial not woken stops when its parked message comes back (by its next guard check or wait end). */
  async function wake(trialId: string, receipt: string | undefined): Promise<void> {
    try {
      await deps.queue?.wake(trialId, receipt);
    } catch (error) {
      logger?.warn('Could not wake a parked trial stopped by a halt; it stops when its message comes back', { trialId, error: String(error) });
    }
  }

  async function stopTrialsUnder(halt: Halt): Promise<string[]> {
    const stopped: string[] = [];
    const labelsOf = new Map<string, JsonObject | undefined>();
    let nextToken: string | undefined;
    do {
      const page = await trials.listUnfinished({ limit: SWEEP_PAGE, nextToken });
      for (const trial of page.items) {
        if (!labelsOf.has(trial.experiment)) labelsOf.set(trial.experiment, (await experiments.get(trial.experiment, { includeDeleted: true }))?.metadata);
        if (!inScope(halt.scope, { experiment: labelsOf.get(trial.experiment), trial: trial.metadata })) continue;
        try {
          const moved = await trials.transition(trial.id, ['Scheduled', 'In Progress'], 'Stop Initiated');
          if (moved) {
            stopped.push(trial.id);
            metrics?.increment('TrialStoppedByHalt');
            logger?.warn('Trial stopped by a halt', { haltId: halt.id, trialId: trial.id, previousStatus: trial.status });
            if (moved.runtime?.slice === 'parked') await wake(moved.id, moved.runtime.receipt);
          }
        } catch (error) {
          // One trial's failure must not leave the others running; the worker's own check still refuses to start a halted trial.
          logger?.error('Could not ask a trial to stop for a halt', { haltId: halt.id, trialId: trial.id, error: String(error) });
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return stopped;
  }

  return {
    /**
     * 1. Check the input (an expiry must be in the future).
     * 2. Store the halt: from now on the gate refuses trials in its scope.
     * 3. Ask running and queued trials in scope to stop; record which.
     */
    async engageHalt(input: HaltInput, caller: Caller): Promise<HaltView> {
      const now = clock.now();
      const errors = haltInputErrors(input, now);
      if (errors.length > 0) throw new ValidationError('Invalid halt', errors);
      const halt: Halt = {
        id: ids.newId(),
        reason: input.reason,
        scope: scopeOf(input.scope),
        expires_at: input.expires_at === undefined ? null : normaliseInstant(input.expires_at),
        created_by: caller.id,
        created_at: now.toISOString(),
        lifted_by: null,
        lifted_at: null,
        stopped_trials: [],
      };
      await safety.createHalt(halt);
      metrics?.increment('HaltEngaged');
      logger?.warn('Halt engaged', { haltId: halt.id, by: caller.id, reason: halt.reason, labels: halt.scope.labels, expiresAt: halt.expires_at });
      halt.stopped_trials = await stopTrialsUnder(halt);
      if (halt.stopped_trials.length > 0) await safety.recordStoppedTrials(halt.id, halt.stopped_trials);
      return haltView(halt, clock.now());
    },

    /** Lifting is recorded (who, when); a halt that already expired cannot be lifted again. */
    async liftHalt(id: string, caller: Caller): Promise<HaltView> {
      const lifted = await safety.liftHalt(id, caller.id, clock.now().toISOString());
      metrics?.increment('HaltLifted');
      logger?.warn('Halt lifted', { haltId: id, by: caller.id, wasActive: isHaltActive({ ...lifted, lifted_at: null }, clock.now()) });
      return haltView(lifted, clock.now());
    },

    async listHalts(page: PageRequest): Promise<Page<HaltView>> {
      const result = await safety.listHalts(page);
      const now = clock.now();
      return { ...result, items: result.items.map((halt) => haltView(halt, now)) };
    },

    async createFreeze(input: FreezeInput, caller: Caller): Promise<FreezeWindow> {
      const now = clock.now();
      const errors = freezeInputErrors(input, now);
      if (errors.length > 0) throw new ValidationError('Invalid freeze window', errors);
      const window: FreezeWindow = {
        id: ids.newId(),
        reason: input.reason,
        scope: scopeOf(input.scope),
        recurrence: input.recurrence ? { ...input.recurrence } : null,
        starts_at: input.starts_at === undefined ? null : normaliseInstant(input.starts_at),
        ends_at: input.ends_at === undefined ? null : normaliseInstant(input.ends_at),
        created_by: caller.id,
        created_at: now.toISOString(),
      };
      await safety.createFreeze(window);
      metrics?.increment('FreezeCreated');
      logger?.info('Freeze window created', { freezeId: window.id, by: caller.id, reason: window.reason, labels: window.scope.labels });
      return window;
    },

    listFreezes(page: PageRequest): Promise<Page<FreezeWindow>> {
      return safety.listFreezes(page);
    },

    async deleteFreeze(id: string, caller: Caller): Promise<FreezeWindow> {
      const deleted = await safety.deleteFreeze(id, caller.id, clock.now().toISOString());
      logger?.info('Freeze window deleted', { freezeId: id, by: caller.id });
      return deleted;
    },
  };
}

export type SafetyUseCases = ReturnType<typeof makeSafetyUseCases>;
