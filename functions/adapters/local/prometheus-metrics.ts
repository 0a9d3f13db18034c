import { Counter, Histogram, Registry } from 'prom-client';
import { definitionOf, METRIC_NAMES, prometheusLabel, prometheusName, type Dimensions, type MetricContext, type MetricName } from '../../metrics/catalog.js';
import type { Metrics } from '../../metrics/metrics.js';

/**
 * Local mode's metrics: the same catalog as CloudWatch, in a prom-client registry that
 * `GET /metrics` serves as Prometheus text. Counts are counters (`…_total`), durations
 * histograms in seconds (`…_seconds`); dimensions and context become labels.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<MetricName, Counter>();
  private readonly histograms = new Map<MetricName, Histogram>();

  constructor() {
    for (const name of METRIC_NAMES) {
      const definition = definitionOf(name);
      const labelNames = [...definition.dimensions, ...definition.context].map(prometheusLabel);
      const common = { name: prometheusName(name), help: definition.help, labelNames, registers: [this.registry] };
      if (definition.unit === 'Count') this.counters.set(name, new Counter(common));
      else this.histograms.set(name, new Histogram({ ...common, buckets: [...(definition.buckets ?? [])] }));
    }
  }

  record<N extends MetricName>(name: N, value: number, dimensions: Dimensions<N>, context?: MetricContext<N>): void {
    if (!Number.isFinite(value)) return;
    const definition = definitionOf(name);
    const labels: Record<string, string> = {};
    for (const key of definition.dimensions) labels[prometheusLabel(key)] = (dimensions as Record<string, string>)[key] ?? '';
    for (const key of definition.context) labels[prometheusLabel(key)] = (context as Record<string, string | undefined> | undefined)?.[key] ?? '';
    const counter = this.counters.get(name);
    if (counter) return counter.inc(labels, value);
    this.histograms.get(name)?.observe(labels, value / 1000);
  }

  flush(): void {
    // Prometheus is pulled: every value is visible to the next scrape as soon as it is recorded.
  }

  /** The scrape answer: Prometheus text exposition format. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
