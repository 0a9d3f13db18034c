import type { Step } from './experiment.js';

export const GUARD_PHASES = ['before', 'during', 'after'] as const;
export type GuardPhase = (typeof GUARD_PHASES)[number];

/**
 * A check that can stop a trial: a probe step (`do`, `where`, `expect`) plus
 * when it runs. `before`: a pre-flight gate (failing ends the trial `Aborted`
 * before anything is touched); `during`: every `interval_seconds` while the
 * main steps run; `after`: once the main steps end, before the post steps.
 * `tolerance` consecutive failures trip it (a pass resets the count).
 */
export interface Guard extends Step {
  when: GuardPhase[];
  interval_seconds?: number;
  tolerance?: number;
}

export const DEFAULT_GUARD_INTERVAL_SECONDS = 10;
export const MIN_GUARD_INTERVAL_SECONDS = 1;
export const MAX_GUARD_INTERVAL_SECONDS = 3600;
export const DEFAULT_GUARD_TOLERANCE = 1;
export const MAX_GUARD_TOLERANCE = 100;
export const MAX_GUARDS = 20;

export function intervalMs(guard: Guard): number {
  return (guard.interval_seconds ?? DEFAULT_GUARD_INTERVAL_SECONDS) * 1000;
}

export function toleranceOf(guard: Guard): number {
  return guard.tolerance ?? DEFAULT_GUARD_TOLERANCE;
}

/** One check of a guard: whether it passed, when, and a short secret-free account of its output or error. */
export interface GuardCheck {
  passed: boolean;
  at: Date;
  summary: string;
}

export interface GuardTrip {
  guard: Guard;
  /** Position in the trial's guard list (experiment guards first, then the schedule's or trial's). */
  index: number;
  phase: GuardPhase;
  /** The consecutive failed checks that tripped it, oldest first. */
  failures: GuardCheck[];
}

/** Hysteresis: counts consecutive failures per guard; a pass resets the count; `tolerance` failures in a row trip it. */
export class GuardTracker {
  private readonly failures = new Map<number, GuardCheck[]>();

  constructor(private readonly guards: readonly Guard[]) {}

  record(index: number, phase: GuardPhase, check: GuardCheck): GuardTrip | undefined {
    const guard = this.guards[index];
    if (!guard) throw new RangeError(`No guard at index ${index}`);
    if (check.passed) {
      this.failures.delete(index);
      return undefined;
    }
    const failures = [...(this.failures.get(index) ?? []), check];
    this.failures.set(index, failures);
    return failures.length >= toleranceOf(guard) ? { guard, index, phase, failures } : undefined;
  }

  consecutiveFailures(index: number): number {
    return this.failures.get(index)?.length ?? 0;
  }
}

/**
 * When each `during` guard is next due: first one interval after the main
 * steps start, then on every interval mark after that (a check that overran
 * its interval skips the marks it missed: no burst of catch-up checks).
 */
export class GuardSchedule {
  private readonly next = new Map<number, number>();

  constructor(
    private readonly guards: readonly Guard[],
    startMs: number,
  ) {
    guards.forEach((guard, index) => {
      if (guard.when.includes('during')) this.next.set(index, startMs + intervalMs(guard));
    });
  }

  /** Guards due at `nowMs`, in list order. */
  due(nowMs: number): number[] {
    return [...this.next.entries()].filter(([, at]) => at <= nowMs).map(([index]) => index).sort((a, b) => a - b);
  }

  /** Marks a due guard checked at `nowMs`. */
  checked(index: number, nowMs: number): void {
    const due = this.next.get(index);
    const guard = this.guards[index];
    if (due === undefined || !guard) return;
    let following = due + intervalMs(guard);
    // Checks missed while this one ran are not made up: the next is the first interval mark still ahead.
    while (following <= nowMs) following += intervalMs(guard);
    this.next.set(index, following);
  }

  /** Milliseconds until the next guard is due (0 if one is due now); undefined when there are no `during` guards. */
  msUntilNext(nowMs: number): number | undefined {
    if (this.next.size === 0) return undefined;
    return Math.max(0, Math.min(...this.next.values()) - nowMs);
  }
}

const PHASE_TEXT: Record<GuardPhase, string> = { before: 'before the trial', during: 'during the trial', after: 'after the main steps' };

/** The lines a trial record gets for a tripped guard: which one, when it was checked, each failing check's output. */
export function describeTrip(trip: GuardTrip): string[] {
  const { guard, failures } = trip;
  const every = trip.phase === 'during' ? `, checked every ${intervalMs(guard) / 1000} s` : '';
  const headline = `guard ${trip.index + 1} ("${guard.step}", ${guard.do}${every}) tripped ${PHASE_TEXT[trip.phase]} after ${failures.length} consecutive failed check(s) (tolerance ${toleranceOf(guard)})`;
  return [headline, ...failures.map((check, n) => `Guard "${guard.step}" check ${n + 1} of ${failures.length} at ${check.at.toISOString()} failed: ${check.summary}`)];
}
