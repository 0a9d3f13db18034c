import type { SafetyScope } from './scope.js';

/**
 * A kill switch: while active it stops running trials in its scope, refuses new
 * ones and skips schedule firings. Halts are never deleted; lifting one records
 * who lifted it and when.
 */
export interface Halt {
  id: string;
  reason: string;
  scope: SafetyScope;
  /** The halt ends by itself at this instant; null = until lifted. */
  expires_at: string | null;
  created_by: string;
  created_at: string;
  lifted_by: string | null;
  lifted_at: string | null;
  /** Trials the halt asked to stop when it was engaged. */
  stopped_trials: string[];
}

export type HaltState = 'active' | 'lifted' | 'expired';

export interface HaltView extends Halt {
  state: HaltState;
}

export function haltState(halt: Halt, now: Date): HaltState {
  if (halt.lifted_at !== null) return 'lifted';
  if (halt.expires_at !== null && Date.parse(halt.expires_at) <= now.getTime()) return 'expired';
  return 'active';
}

export function isHaltActive(halt: Halt, now: Date): boolean {
  return haltState(halt, now) === 'active';
}

export function haltView(halt: Halt, now: Date): HaltView {
  return { ...halt, state: haltState(halt, now) };
}

/** `halt 1f… ("DB failover drill", engaged by alice at …)`: how refusals and records name a halt. */
export function describeHalt(halt: Halt): string {
  return `halt ${halt.id} ("${halt.reason}", engaged by ${halt.created_by} at ${halt.created_at})`;
}
