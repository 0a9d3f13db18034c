import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { definitionOf, METRICS_NAMESPACE, type Dimensions, type MetricContext, type MetricName } from '../../metrics/catalog.js';
import type { Metrics } from '../../metrics/metrics.js';

/**
 * CloudWatch accepts at most 100 values per metric in one EMF document, and Powertools
 * publishes on its own (dropping the dimensions set so far) when a metric reaches 100:
 * 99 keeps every document under our control.
 */
const MAX_VALUES_PER_DOCUMENT = 99;

interface Group {
  dimensions: Record<string, string>;
  context: Record<string, string>;
  values: Map<MetricName, number[]>;
}

export interface EmfMetricsOptions {
  /** The `service` dimension of every metric: `kallisti-<stage>` (POWERTOOLS_SERVICE_NAME on Lambda). */
  serviceName: string;
  namespace?: string;
}

/**
 * Metrics as CloudWatch Embedded Metric Format: structured log lines that CloudWatch
 * turns into metrics, with no API call and no latency on the request path. Values are
 * buffered and written on `flush()` as one document per dimension set (and context),
 * each value array capped at CloudWatch's 100 per document.
 */
export class EmfMetrics implements Metrics {
  private readonly emf: PowertoolsMetrics;
  private readonly groups = new Map<string, Group>();

  constructor(options: EmfMetricsOptions) {
    this.emf = new PowertoolsMetrics({ namespace: options.namespace ?? METRICS_NAMESPACE, serviceName: options.serviceName });
  }

  record<N extends MetricName>(name: N, value: number, dimensions: Dimensions<N>, context?: MetricContext<N>): void {
    if (!Number.isFinite(value)) return;
    const dims = { ...(dimensions as Record<string, string>) };
    const ctx: Record<string, string> = {};
    for (const [key, v] of Object.entries((context ?? {}) as Record<string, string | undefined>)) if (v !== undefined) ctx[key] = v;
    const key = JSON.stringify([Object.entries(dims).sort(), Object.entries(ctx).sort()]);
    let group = this.groups.get(key);
    if (!group) {
      group = { dimensions: dims, context: ctx, values: new Map() };
      this.groups.set(key, group);
    }
    const values = group.values.get(name) ?? [];
    values.push(value);
    group.values.set(name, values);
  }

  flush(): void {
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const group of groups) {
      // Every metric of a document shares its dimensions: publish in rounds of at most 100 values each.
      for (let offset = 0; ; offset += MAX_VALUES_PER_DOCUMENT) {
        let any = false;
        for (const [name, values] of group.values) {
          const batch = values.slice(offset, offset + MAX_VALUES_PER_DOCUMENT);
          if (batch.length === 0) continue;
          if (!any) {
            this.emf.addDimensions(group.dimensions);
            for (const [key, value] of Object.entries(group.context)) this.emf.addMetadata(key, value);
            any = true;
          }
          const unit = definitionOf(name).unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds;
          for (const value of batch) this.emf.addMetric(name, unit, value);
        }
        if (!any) break;
        this.emf.publishStoredMetrics();
      }
    }
  }
}
