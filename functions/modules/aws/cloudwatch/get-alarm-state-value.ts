import { StepFailedError } from '../../types.js';
import { arn, awsModule, STRING } from '../common.js';
import { callAws } from '../runtime.js';
import { cloudwatch } from './cloudwatch.js';

/** chaosaws `cloudwatch.get_alarm_state_value`: the alarm's state, `OK`, `ALARM` or `INSUFFICIENT_DATA` (a string; `expect` path `value`). */
export const getAlarmStateValue = awsModule({
  name: 'aws.cloudwatch.get_alarm_state_value',
  probe: true,
  description: 'The state value of a CloudWatch metric alarm (OK, ALARM, INSUFFICIENT_DATA).',
  properties: { alarm_name: { ...STRING, maxLength: 255 } },
  required: ['alarm_name'],
  iam: [{ actions: ['cloudwatch:DescribeAlarms'], resources: [arn('cloudwatch', 'alarm:*')] }],
  async run(where, target, context) {
    const { sdk, client } = await cloudwatch(target, context);
    const name = String(where['alarm_name']);
    const out = await callAws(context, 'cloudwatch:DescribeAlarms', target, (abortSignal) => client.send(new sdk.DescribeAlarmsCommand({ AlarmNames: [name] }), { abortSignal }));
    const alarm = out.MetricAlarms?.[0] ?? out.CompositeAlarms?.[0];
    if (!alarm) throw new StepFailedError(`CloudWatch alarm name ${name} not found in ${target.region}.`);
    return alarm.StateValue ?? null;
  },
});
