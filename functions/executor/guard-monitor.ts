import { GuardSchedule, GuardTracker, intervalMs, toleranceOf, type Guard, type GuardCheck, type GuardPhase, type GuardState, type GuardTrip } from '../domain/guards.js';
import type { Clock } from '../ports.js';

/** Runs one check of guard `index`; never throws (a failure to check is a failed check). */
export type CheckGuard = (guard: Guard, index: number, phase: GuardPhase) => Promise<GuardCheck>;

export interface GuardTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: GuardTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface GuardMonitorDeps {
  guards: readonly Guard[];
  check: CheckGuard;
  clock: Clock;
  timers?: GuardTimers;
  /** What the trial's previous slice left: due times and failure streaks, so a slice boundary loses neither. */
  saved?: GuardState;
}

/**
 * Evaluates a trial's guards. `gate(phase)` runs the `before` or `after`
 * guards once each, retrying a failing one every interval until it passes or
 * fails `tolerance` times in a row. `watch(onTrip)` checks the `during` guards
 * on their intervals until `stop()`; the first trip is reported once and ends
 * the watch. Checks never overlap: a check that runs long delays the next.
 */
export class GuardMonitor {
  private readonly tracker: GuardTracker;
  private readonly timers: GuardTimers;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  private schedule: GuardSchedule | undefined;
  trip: GuardTrip | undefined;

  constructor(private readonly deps: GuardMonitorDeps) {
    this.tracker = new GuardTracker(deps.guards, deps.saved?.failing);
    this.timers = deps.timers ?? realTimers;
  }

  private scheduleOf(): GuardSchedule {
    this.schedule ??= new GuardSchedule(this.deps.guards, this.now(), this.deps.saved?.next);
    return this.schedule;
  }

  /** Due times and streaks to carry into the next slice. */
  saved(): GuardState {
    return { next: this.scheduleOf().saved(), failing: this.tracker.saved() };
  }

  /** When the next `during` check is due (epoch ms); undefined without `during` guards. */
  nextCheckAt(): number | undefined {
    return this.scheduleOf().nextAt();
  }

  /** Runs the `during` checks due now (a slice resumed for them), before anything else; `onTrip` as in `watch`. */
  async checkDue(onTrip: (trip: GuardTrip) => Promise<void>): Promise<void> {
    this.scheduleOf();
    await this.tick(onTrip);
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }

  /** The `before` or `after` gate: the first guard to trip, or undefined when all pass. */
  async gate(phase: 'before' | 'after'): Promise<GuardTrip | undefined> {
    for (const [index, guard] of this.deps.guards.entries()) {
      if (!guard.when.includes(phase)) continue;
      for (let attempt = 1; ; attempt += 1) {
        const trip = this.tracker.record(index, phase, await this.deps.check(guard, index, phase));
        if (trip) return (this.trip = trip);
        if (this.tracker.consecutiveFailures(index) === 0) break;
        if (attempt >= toleranceOf(guard)) break;
        await this.sleep(intervalMs(guard));
      }
    }
    return undefined;
  }

  /** Starts checking `during` guards; `onTrip` is awaited once, for the first trip. */
  watch(onTrip: (trip: GuardTrip) => Promise<void>): void {
    if (this.trip) return;
    this.scheduleOf();
    const arm = (): void => {
      const wait = this.schedule?.msUntilNext(this.now());
      if (this.stopped || wait === undefined) return;
      this.timer = this.timers.setTimeout(() => {
        this.running = this.tick(onTrip).finally(() => {
          this.running = undefined;
          if (!this.trip) arm();
        });
      }, wait);
    };
    arm();
  }

  private async tick(onTrip: (trip: GuardTrip) => Promise<void>): Promise<void> {
    const schedule = this.schedule;
    if (!schedule) return;
    for (const index of schedule.due(this.now())) {
      if (this.stopped) return;
      const guard = this.deps.guards[index] as Guard;
      const check = await this.deps.check(guard, index, 'during');
      // A check that ends after the watch did is dropped and stays due: the next slice makes it first.
      if (this.stopped) return;
      schedule.checked(index, this.now());
      const trip = this.tracker.record(index, 'during', check);
      if (trip) {
        this.trip = trip;
        await onTrip(trip);
        return;
      }
    }
  }

  /** Ends the watch; waits for a check in flight (its result is dropped). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    await this.running;
  }
}
