import type { MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkDimensions, cloudwatch, dimensionsOf, METRIC } from './cloudwatch.js';

/**
 * chaosaws `cloudwatch.get_metric_data`: the values of one metric statistic over the
 * last `duration` seconds (ending `offset` seconds ago) at `period` resolution, reduced
 * to one number as chaosaws does — Sum, Minimum or Maximum of the values, else their
 * mean — rounded to 2 decimals; 0 without data. Every page (NextToken) is read.
 */
export const getMetricData = awsModule({
  name: 'aws.cloudwatch.get_metric_data',
  probe: true,
  description: 'One number from a CloudWatch metric over a window (sum, min, max or mean of its values).',
  properties: { ...METRIC, statistic: { type: 'string', minLength: 1, maxLength: 32 }, period: { type: 'integer', minimum: 1, maximum: 86400 } },
  required: ['namespace', 'metric_name', 'statistic'],
  iam: [{ actions: ['cloudwatch:GetMetricData'] }],
  check: checkDimensions,
  async run(where, target, context) {
    const { sdk, client } = await cloudwatch(target, context);
    const now = Date.now();
    const duration = typeof where['duration'] === 'number' ? where['duration'] : 300;
    const offset = typeof where['offset'] === 'number' ? where['offset'] : 0;
    const statistic = String(where['statistic']);
    const base = {
      MetricDataQueries: [
        {
          Id: 'm1',
          MetricStat: {
            Metric: { Namespace: String(where['namespace']), MetricName: String(where['metric_name']), Dimensions: dimensionsOf(where) },
            Period: typeof where['period'] === 'number' ? where['period'] : 60,
            Stat: statistic,
            ...(typeof where['unit'] === 'string' && { Unit: where['unit'] as never }),
          },
          Label: String(where['metric_name']),
        },
      ],
      StartTime: new Date(now - duration * 1000),
      EndTime: new Date(now - offset * 1000),
    };
    const results: MetricDataResult[] = [];
    let nextToken: string | undefined;
    do {
      const input = { ...base, ...(nextToken !== undefined && { NextToken: nextToken }) };
      const page = await callAws(context, 'cloudwatch:GetMetricData', target, (abortSignal) => client.send(new sdk.GetMetricDataCommand(input), { abortSignal }));
      results.push(...(page.MetricDataResults ?? []));
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
    const values = results.flatMap((r) => r.Values ?? []);
    if (values.length === 0) return 0;
    const reduce: Record<string, (v: number[]) => number> = { Sum: (v) => v.reduce((a, b) => a + b, 0), Minimum: (v) => Math.min(...v), Maximum: (v) => Math.max(...v) };
    const result = (reduce[statistic] ?? ((v: number[]) => v.reduce((a, b) => a + b, 0) / v.length))(values);
    return Math.round(result * 100) / 100;
  },
});
