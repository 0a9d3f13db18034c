import type { Dimensions, MetricContext, MetricName } from './catalog.js';

export type { MetricName } from './catalog.js';

/**
 * The port every use case, the executor and the worker publish metrics through. It
 * knows nothing of CloudWatch or Prometheus: adapters map the catalog's metrics to
 * EMF log lines (AWS) or a Prometheus registry (local mode).
 */
export interface Metrics {
  /** One value of a metric: 1 (or n) for a Count, a duration in milliseconds for a Milliseconds metric. */
  record<N extends MetricName>(name: N, value: number, dimensions: Dimensions<N>, context?: MetricContext<N>): void;
  /**
   * Publishes what was recorded since the last flush. EMF writes one log line per
   * dimension set; Prometheus publishes as it records, so this does nothing there.
   * Called at the end of each unit of work (a request, a trial, a message).
   */
  flush(): void;
}

/** For components built without metrics (tests, tools): records nothing. */
export const noMetrics: Metrics = {
  record: () => undefined,
  flush: () => undefined,
};
