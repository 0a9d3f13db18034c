import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { definitionOf, METRICS_NAMESPACE, SERVICE_DIMENSION, type MetricName } from '../functions/metrics/catalog.js';

/** The `service` dimension value both functions publish under (POWERTOOLS_SERVICE_NAME). */
export function metricsServiceName(stage: string): string {
  return `kallisti-${stage}`;
}

/**
 * A CloudWatch metric of the catalog (functions/metrics/catalog.ts), as the functions
 * publish it: namespace Kallisti, `service` = kallisti-<stage>, plus the metric's own
 * dimensions. Asking for a dimension the metric does not have is an error.
 */
export function kallistiMetric(
  stage: string,
  name: MetricName,
  options: { dimensions?: Record<string, string>; statistic?: string; period?: Duration; label?: string } = {},
): cloudwatch.Metric {
  const allowed = definitionOf(name).dimensions as readonly string[];
  for (const key of Object.keys(options.dimensions ?? {})) {
    if (!allowed.includes(key)) throw new Error(`Metric ${name} has no dimension ${key} (it has: ${allowed.join(', ') || 'none'})`);
  }
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [SERVICE_DIMENSION]: metricsServiceName(stage), ...options.dimensions },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? Duration.minutes(5),
    ...(options.label !== undefined && { label: options.label }),
  });
}

/**
 * Every value of a metric's dimension that has data, found by a CloudWatch SEARCH
 * (step commands, firing outcomes: open-ended sets), as one graph line each.
 */
export function kallistiSearch(stage: string, name: MetricName, dimension: string, statistic: string, period = Duration.minutes(5)): cloudwatch.MathExpression {
  const allowed = definitionOf(name).dimensions as readonly string[];
  if (!allowed.includes(dimension)) throw new Error(`Metric ${name} has no dimension ${dimension}`);
  const schema = `{${METRICS_NAMESPACE},${SERVICE_DIMENSION},${dimension}}`;
  return new cloudwatch.MathExpression({
    expression: `SEARCH('${schema} MetricName="${name}" ${SERVICE_DIMENSION}="${metricsServiceName(stage)}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });
}
