import type { SafetyMetricName, SafetyMetrics } from '../ports.js';
import type { Metrics } from './metrics.js';

/** Safety event → published metric (catalog.ts) and how its dimensions are named there. */
function publish(sink: Metrics, name: SafetyMetricName, dimensions: Record<string, string>): void {
  switch (name) {
    case 'TrialRefused':
      return sink.record('SafetyRefusals', 1, { Kind: dimensions['kind'] ?? '', Source: dimensions['source'] ?? '' });
    case 'HaltEngaged':
      return sink.record('HaltsEngaged', 1, {});
    case 'HaltLifted':
      return sink.record('HaltsLifted', 1, {});
    case 'TrialStoppedByHalt':
      return sink.record('TrialsStoppedByHalt', 1, {});
    case 'FiringSkipped':
      return sink.record('FiringsSkipped', 1, { Outcome: dimensions['outcome'] ?? '' });
    case 'GuardTripped':
      return sink.record('GuardTrips', 1, { Phase: dimensions['phase'] ?? '' });
    case 'FreezeCreated':
      return sink.record('FreezeWindowsCreated', 1, {});
  }
}

/**
 * Safety counters kept in memory, keyed by name and dimensions
 * (`TrialRefused{kind=halt,source=api}`), and forwarded to the metrics port
 * (CloudWatch EMF on AWS, Prometheus locally) when one is given.
 */
export class SafetyCounters implements SafetyMetrics {
  private readonly counts = new Map<string, number>();

  constructor(private readonly sink?: Metrics) {}

  static key(name: SafetyMetricName, dimensions: Record<string, string> = {}): string {
    const labels = Object.entries(dimensions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return labels ? `${name}{${labels}}` : name;
  }

  increment(name: SafetyMetricName, dimensions: Record<string, string> = {}): void {
    const key = SafetyCounters.key(name, dimensions);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.sink) publish(this.sink, name, dimensions);
  }

  count(name: SafetyMetricName, dimensions?: Record<string, string>): number {
    return this.counts.get(SafetyCounters.key(name, dimensions)) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
