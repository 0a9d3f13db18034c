import { StepFailedError } from '../../types.js';
import { awsModule } from '../common.js';
import { callAws } from '../runtime.js';
import { checkDimensions, cloudwatch, dimensionsOf, METRIC } from './cloudwatch.js';

const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;

/**
 * chaosaws `cloudwatch.get_metric_statistics`: one statistic over the window that ends
 * `offset` seconds ago and lasts `duration` seconds (one period); a number, 0 when there
 * is no datapoint, as chaosaws returns.
 */
export const getMetricStatistics = awsModule({
  name: 'aws.cloudwatch.get_metric_statistics',
  probe: true,
  description: 'A statistic (or extended statistic such as p99) of a CloudWatch metric over the last `duration` seconds.',
  properties: { ...METRIC, statistic: { type: 'string', enum: STATISTICS }, extended_statistic: { type: 'string', pattern: '^(p|tm|tc|ts|wm|PR|TM|TC|TS)[0-9.:()%]*$', maxLength: 32 } },
  required: ['namespace', 'metric_name'],
  iam: [{ actions: ['cloudwatch:GetMetricStatistics'] }],
  check: (where) => [
    ...checkDimensions(where),
    ...(where['statistic'] === undefined && where['extended_statistic'] === undefined ? [{ path: 'statistic', message: 'is required unless extended_statistic is given' }] : []),
  ],
  async run(where, target, context) {
    const { sdk, client } = await cloudwatch(target, context);
    const duration = typeof where['duration'] === 'number' ? where['duration'] : 60;
    const offset = typeof where['offset'] === 'number' ? where['offset'] : 0;
    const endTime = new Date(Date.now() - offset * 1000);
    const input = {
      Namespace: String(where['namespace']),
      MetricName: String(where['metric_name']),
      StartTime: new Date(endTime.getTime() - duration * 1000),
      EndTime: endTime,
      Period: duration,
      Dimensions: dimensionsOf(where),
      ...(typeof where['statistic'] === 'string' && { Statistics: [where['statistic'] as (typeof STATISTICS)[number]] }),
      ...(typeof where['extended_statistic'] === 'string' && { ExtendedStatistics: [where['extended_statistic']] }),
      ...(typeof where['unit'] === 'string' && { Unit: where['unit'] as never }),
    };
    const out = await callAws(context, 'cloudwatch:GetMetricStatistics', target, (abortSignal) => client.send(new sdk.GetMetricStatisticsCommand(input), { abortSignal }));
    const point = out.Datapoints?.[0];
    if (!point) return 0;
    const value = typeof where['statistic'] === 'string' ? point[where['statistic'] as (typeof STATISTICS)[number]] : point.ExtendedStatistics?.[String(where['extended_statistic'])];
    if (typeof value !== 'number') throw new StepFailedError(`CloudWatch returned a datapoint without ${String(where['statistic'] ?? where['extended_statistic'])}.`);
    return value;
  },
});
