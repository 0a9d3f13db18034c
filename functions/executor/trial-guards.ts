import type { AppLogger } from '../app-logger.js';
import { evaluateExpectations } from '../domain/expectations.js';
import { describeTrip, intervalMs, type Guard, type GuardCheck, type GuardPhase, type GuardState, type GuardTrip } from '../domain/guards.js';
import { collectSecrets, redact, scrubText } from '../domain/redaction.js';
import { interpolate } from '../domain/templating.js';
import type { Experiment } from '../domain/experiment.js';
import type { Trial } from '../domain/trial.js';
import type { Json, JsonObject } from '../domain/types.js';
import type { ModuleRegistry } from '../modules/module-registry.js';
import { StepFailedError, StepSuspension } from '../modules/types.js';
import type { Clock, SafetyMetrics, TrialStore } from '../ports.js';
import { GuardMonitor, type GuardTimers } from './guard-monitor.js';

/** A check is abandoned (and counts as failed) after its interval, at least 5 s and at most 60 s. */
const MIN_CHECK_TIMEOUT_MS = 5_000;
const MAX_CHECK_TIMEOUT_MS = 60_000;
const MAX_SUMMARY_LENGTH = 300;

export interface TrialGuardsDeps {
  trialId: string;
  guards: readonly Guard[];
  registry: ModuleRegistry;
  trials: TrialStore;
  clock: Clock;
  params: JsonObject;
  /** Credential values to scrub from what a check records. */
  paramSecrets: readonly string[];
  logger: AppLogger;
  metrics?: SafetyMetrics;
  timers?: GuardTimers;
  /** The guard state the trial's previous slice saved in its checkpoint. */
  saved?: GuardState;
}

function isObject(value: Json): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function summarize(output: Json, secrets: readonly string[]): string {
  const safe = redact(output);
  let shown: Json = safe;
  if (isObject(safe)) {
    const scalars: JsonObject = {};
    for (const [key, value] of Object.entries(safe)) if (key !== 'response_text' && (value === null || typeof value !== 'object')) scalars[key] = value;
    shown = scalars;
  }
  const text = scrubText(JSON.stringify(shown), secrets);
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH)}…` : text;
}

/**
 * One check of a guard: its probe runs like a step (templated `where`, its
 * `expect` judged), under a time limit; any error is a failed check.
 */
export function makeGuardCheck(deps: Pick<TrialGuardsDeps, 'registry' | 'clock' | 'params' | 'paramSecrets'>) {
  return async (guard: Guard, _index: number, _phase: GuardPhase): Promise<GuardCheck> => {
    const templated = interpolate(guard.where, deps.params);
    const where = isObject(templated) ? templated : {};
    const secrets = [...new Set([...collectSecrets(where), ...deps.paramSecrets])].sort((a, b) => b.length - a.length);
    const failed = (summary: string): GuardCheck => ({ passed: false, at: deps.clock.now(), summary: scrubText(summary, secrets) });
    const module = deps.registry.get(guard.do);
    if (!module) return failed(`unknown step command "${guard.do}"`);
    const errors = await deps.registry.validateWhere(guard.do, where, 'where', false);
    if (errors.length > 0) return failed(`invalid arguments after templating: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
    const controller = new AbortController();
    const limit = Math.min(Math.max(intervalMs(guard), MIN_CHECK_TIMEOUT_MS), MAX_CHECK_TIMEOUT_MS);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${limit / 1000} s`)), limit);
    try {
      const timedOut = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
      const running = module.run(where, { signal: controller.signal, log: () => undefined });
      running.catch(() => undefined);
      const result = await Promise.race([running, timedOut]);
      // A check must answer within its call: a command that would go on in a later slice gives no answer.
      if (result instanceof StepSuspension) return failed('the command did not answer within the check');
      const output = result;
      const outcome = evaluateExpectations(guard.expect, output);
      const unmet = outcome.results.filter((r) => !r.passed).map((r) => r.message);
      const summary = summarize(output, secrets);
      return outcome.passed ? { passed: true, at: deps.clock.now(), summary } : failed(`${unmet.join('; ')}; result ${summary}`);
    } catch (error) {
      if (error instanceof StepFailedError) return failed(`${error.message}${error.output === undefined ? '' : `; result ${summarize(error.output, secrets)}`}`);
      return failed(error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * A trial's guards in the executor. A `during` trip asks the trial to stop
 * through the same `Stop Initiated` a user's stop sets, so the running step
 * ends within the stop poll, the post steps run, and the trial ends `Stopped`.
 */
export class TrialGuards {
  private readonly monitor: GuardMonitor;
  private duringStop: boolean | undefined;

  constructor(private readonly deps: TrialGuardsDeps) {
    this.monitor = new GuardMonitor({ guards: deps.guards, check: makeGuardCheck(deps), clock: deps.clock, timers: deps.timers, saved: deps.saved });
  }

  /** The `during` trip, if one happened, and whether its stop request was recorded. */
  get tripped(): { trip: GuardTrip; stopping: boolean } | undefined {
    const trip = this.monitor.trip;
    return trip && trip.phase === 'during' ? { trip, stopping: this.duringStop === true } : undefined;
  }

  private reported(trip: GuardTrip): void {
    this.deps.metrics?.increment('GuardTripped', { phase: trip.phase });
    this.deps.logger.warn('Guard tripped', {
      trialId: this.deps.trialId,
      guard: trip.guard.step,
      phase: trip.phase,
      failures: trip.failures.length,
      lastFailure: trip.failures.at(-1)?.summary,
    });
  }

  /** Asks the trial to stop (conditional: only while it runs); true when it is now stopping. */
  private async requestStop(): Promise<boolean> {
    try {
      const moved = await this.deps.trials.transition(this.deps.trialId, ['In Progress'], 'Stop Initiated');
      if (moved) return true;
      return (await this.deps.trials.get(this.deps.trialId))?.status === 'Stop Initiated';
    } catch (error) {
      this.deps.logger.error('Could not ask the trial to stop for a tripped guard', { trialId: this.deps.trialId, error: String(error) });
      return false;
    }
  }

  async before(): Promise<GuardTrip | undefined> {
    const trip = await this.monitor.gate('before');
    if (trip) this.reported(trip);
    return trip;
  }

  private readonly onDuringTrip = async (trip: GuardTrip): Promise<void> => {
    this.reported(trip);
    this.duringStop = await this.requestStop();
  };

  /** Starts the `during` checks. */
  watch(): void {
    this.monitor.watch(this.onDuringTrip);
  }

  /** Makes the `during` checks that fell due while the trial was parked; a trip asks the trial to stop. */
  checkDue(): Promise<void> {
    return this.monitor.checkDue(this.onDuringTrip);
  }

  /** What the next slice needs to go on checking: due times and failure streaks. */
  saved(): GuardState {
    return this.monitor.saved();
  }

  /** When the next `during` check is due (epoch ms): a parked trial comes back by then. */
  nextCheckAt(): number | undefined {
    return this.monitor.nextCheckAt();
  }

  /** Ends the `during` checks (before the post steps: they always run to the end). */
  stopWatching(): Promise<void> {
    return this.monitor.stop();
  }

  /** The `after` gate; a trip asks the trial to stop. Returns the trip and whether the stop was recorded. */
  async after(): Promise<{ trip: GuardTrip; stopping: boolean } | undefined> {
    const trip = await this.monitor.gate('after');
    if (!trip) return undefined;
    this.reported(trip);
    return { trip, stopping: await this.requestStop() };
  }

}

/** The experiment's guards, then the trial's own (which a schedule passes on). */
export function guardsOf(experiment: Experiment, trial: Trial): Guard[] {
  return [...(experiment.guards ?? []), ...(trial.guards ?? [])];
}

/** `Trial Stopped: guard 1 ("API healthy", …) tripped during the trial …; the post steps ran.`, then each failed check. */
export function guardVerdictLines(trip: GuardTrip, status: string, tail: string): string[] {
  const [headline, ...checks] = describeTrip(trip);
  return [`Trial ${status}: ${headline ?? 'a guard tripped'}; ${tail}.`, ...checks];
}
