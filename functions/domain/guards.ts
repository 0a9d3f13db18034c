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
  /** The consecutive failed checks that tripped it, oldest first (the last MAX_KEPT_FAILURES of them). */
  failures: GuardCheck[];
  /** How many consecutive failed checks tripped it, when more than `failures` holds. */
  consecutive?: number;
}

/** Failed checks of a guard kept in detail (a long streak is counted, only its last checks are kept). */
export const MAX_KEPT_FAILURES = 10;

/**
 * What guards carry from one slice of a trial to the next (saved in its checkpoint):
 * when each `during` guard is next due, and each guard's streak of failed checks.
 */
export interface GuardState {
  /** Guard index → epoch ms of its next `during` check. */
  next: { [index: string]: number };
  /** Guard index → its consecutive failed checks: how many, and the last ones. */
  failing: { [index: string]: { count: number; recent: { at: string; summary: string }[] } };
}

/** Hysteresis: counts consecutive failures per guard; a pass resets the count; `tolerance` failures in a row trip it. */
export class GuardTracker {
  private readonly failures = new Map<number, { count: number; recent: GuardCheck[] }>();

  constructor(
    private readonly guards: readonly Guard[],
    saved?: GuardState['failing'],
  ) {
    for (const [index, streak] of Object.entries(saved ?? {})) {
      if (!guards[Number(index)]) continue;
      this.failures.set(Number(index), { count: streak.count, recent: streak.recent.map((c) => ({ passed: false, at: new Date(c.at), summary: c.summary })) });
    }
  }

  record(index: number, phase: GuardPhase, check: GuardCheck): GuardTrip | undefined {
    const guard = this.guards[index];
    if (!guard) throw new RangeError(`No guard at index ${index}`);
    if (check.passed) {
      this.failures.delete(index);
      return undefined;
    }
    const before = this.failures.get(index);
    const streak = { count: (before?.count ?? 0) + 1, recent: [...(before?.recent ?? []), check].slice(-MAX_KEPT_FAILURES) };
    this.failures.set(index, streak);
    if (streak.count < toleranceOf(guard)) return undefined;
    return { guard, index, phase, failures: streak.recent, ...(streak.count > streak.recent.length && { consecutive: streak.count }) };
  }

  consecutiveFailures(index: number): number {
    return this.failures.get(index)?.count ?? 0;
  }

  /** The streaks, as JSON for the checkpoint. */
  saved(): GuardState['failing'] {
    const out: GuardState['failing'] = {};
    for (const [index, streak] of this.failures) out[String(index)] = { count: streak.count, recent: streak.recent.map((c) => ({ at: c.at.toISOString(), summary: c.summary })) };
    return out;
  }
}

/**
 * When each `during` guard is next due: first one interval after the main
 * steps start, then on every interval mark after that (a check that overran
 * its interval skips the marks it missed: no burst of catch-up checks).
 */
export class GuardSchedule {
  private readonly next = new Map<number, number>();

  /** `saved`: the due times a previous slice left (a guard missing from it is due one interval after `startMs`). */
  constructor(
    private readonly guards: readonly Guard[],
    startMs: number,
    saved?: GuardState['next'],
  ) {
    guards.forEach((guard, index) => {
      if (!guard.when.includes('during')) return;
      const kept = saved?.[String(index)];
      this.next.set(index, typeof kept === 'number' ? kept : startMs + intervalMs(guard));
    });
  }

  /** The due times, as JSON for the checkpoint. */
  saved(): GuardState['next'] {
    return Object.fromEntries([...this.next.entries()].map(([index, at]) => [String(index), at]));
  }

  /** Epoch ms of the next check of any `during` guard; undefined when there are none. */
  nextAt(): number | undefined {
    return this.next.size === 0 ? undefined : Math.min(...this.next.values());
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
  const total = Math.max(trip.consecutive ?? 0, failures.length);
  const first = total - failures.length;
  const every = trip.phase === 'during' ? `, checked every ${intervalMs(guard) / 1000} s` : '';
  const headline = `guard ${trip.index + 1} ("${guard.step}", ${guard.do}${every}) tripped ${PHASE_TEXT[trip.phase]} after ${total} consecutive failed check(s) (tolerance ${toleranceOf(guard)})`;
  return [headline, ...failures.map((check, n) => `Guard "${guard.step}" check ${first + n + 1} of ${total} at ${check.at.toISOString()} failed: ${check.summary}`)];
}
