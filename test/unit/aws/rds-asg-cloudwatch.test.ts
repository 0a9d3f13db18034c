import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeTagsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { resumeProcesses } from '../../../functions/modules/aws/asg/resume-processes.js';
import { suspendProcesses } from '../../../functions/modules/aws/asg/suspend-processes.js';
import { terminateRandomInstances } from '../../../functions/modules/aws/asg/terminate-random-instances.js';
import { getAlarmStateValue } from '../../../functions/modules/aws/cloudwatch/get-alarm-state-value.js';
import { getMetricData } from '../../../functions/modules/aws/cloudwatch/get-metric-data.js';
import { getMetricStatistics } from '../../../functions/modules/aws/cloudwatch/get-metric-statistics.js';
import { failoverDbCluster } from '../../../functions/modules/aws/rds/failover-db-cluster.js';
import { rebootDbInstance } from '../../../functions/modules/aws/rds/reboot-db-instance.js';
import { ModuleRegistry } from '../../../functions/modules/registry.js';
import { awsError, inputsOf, resetAws, runModule } from '../../support/aws.js';

const rds = mockClient(RDSClient);
const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);

beforeEach(() => {
  for (const mock of [rds, asg, ec2, cw]) mock.reset();
  resetAws();
});

describe('RDS', () => {
  it('aws.rds.reboot_db_instance reboots, with failover when asked', async () => {
    rds.on(RebootDBInstanceCommand).resolves({ DBInstance: { DBInstanceIdentifier: 'shop-db', DBInstanceStatus: 'rebooting' } });
    const { output } = await runModule(rebootDbInstance, { region: 'eu-west-1', db_instance_identifier: 'shop-db', force_failover: true });
    await runModule(rebootDbInstance, { region: 'eu-west-1', db_instance_identifier: 'shop-db' });
    expect(inputsOf(rds, RebootDBInstanceCommand)).toEqual([
      { DBInstanceIdentifier: 'shop-db', ForceFailover: true },
      { DBInstanceIdentifier: 'shop-db', ForceFailover: false },
    ]);
    expect(output).toEqual({ DBInstance: { DBInstanceIdentifier: 'shop-db', DBInstanceStatus: 'rebooting' } });
  });

  it('aws.rds.failover_db_cluster fails over, to the target instance when given; a missing cluster is named', async () => {
    rds.on(FailoverDBClusterCommand).resolves({ DBCluster: { DBClusterIdentifier: 'shop', Status: 'failing-over' } });
    await runModule(failoverDbCluster, { region: 'eu-west-1', db_cluster_identifier: 'shop', target_db_instance_identifier: 'shop-2' });
    await runModule(failoverDbCluster, { region: 'eu-west-1', db_cluster_identifier: 'shop' });
    expect(inputsOf(rds, FailoverDBClusterCommand)).toEqual([{ DBClusterIdentifier: 'shop', TargetDBInstanceIdentifier: 'shop-2' }, { DBClusterIdentifier: 'shop' }]);
    rds.on(FailoverDBClusterCommand).rejects(awsError('DBClusterNotFoundFault', 'DBCluster nope not found.', 404));
    await expect(runModule(failoverDbCluster, { region: 'eu-west-1', db_cluster_identifier: 'nope' })).rejects.toThrow('Not found: rds:FailoverDBCluster in eu-west-1 (DBClusterNotFoundFault): DBCluster nope not found.');
  });
});

describe('Auto Scaling', () => {
  const group = (name: string, suspended: string[] = [], instances: { InstanceId: string; AvailabilityZone: string; LifecycleState: 'InService' | 'Pending' }[] = []) => ({
    AutoScalingGroupName: name,
    SuspendedProcesses: suspended.map((ProcessName) => ({ ProcessName })),
    Instances: instances.map((i) => ({ ...i, HealthStatus: 'Healthy', ProtectedFromScaleIn: false })),
    MinSize: 0,
    MaxSize: 4,
    DesiredCapacity: 2,
    DefaultCooldown: 300,
    AvailabilityZones: ['eu-west-1a'],
    HealthCheckType: 'EC2',
    CreatedTime: new Date('2026-01-01T00:00:00Z'),
  });

  it('aws.asg.suspend_processes suspends on the groups named and records what was suspended before', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [group('web', ['AZRebalance'])] }).resolves({ AutoScalingGroups: [group('web', ['AZRebalance', 'Launch'])] });
    asg.on(SuspendProcessesCommand).resolves({});
    const { output } = await runModule(suspendProcesses, { region: 'eu-west-1', asg_names: ['web'], process_names: ['Launch'] });
    expect(inputsOf(asg, DescribeAutoScalingGroupsCommand)).toEqual([
      { AutoScalingGroupNames: ['web'], MaxRecords: 100 },
      { AutoScalingGroupNames: ['web'], MaxRecords: 100 },
    ]);
    expect(inputsOf(asg, SuspendProcessesCommand)).toEqual([{ AutoScalingGroupName: 'web', ScalingProcesses: ['Launch'] }]);
    expect(output).toMatchObject({ AutoScalingGroups: [{ AutoScalingGroupName: 'web', SuspendedProcesses: [{ ProcessName: 'AZRebalance' }, { ProcessName: 'Launch' }], CreatedTime: '2026-01-01T00:00:00.000Z' }], previous: { SuspendedProcesses: { web: ['AZRebalance'] } } });
  });

  it('aws.asg.resume_processes finds groups by tags (every page) and resumes all processes', async () => {
    asg.on(DescribeTagsCommand)
      .resolvesOnce({ Tags: [{ ResourceId: 'web', ResourceType: 'auto-scaling-group', Key: 'app', Value: 'shop' }], NextToken: 'n' })
      .resolvesOnce({ Tags: [{ ResourceId: 'worker', ResourceType: 'auto-scaling-group', Key: 'app', Value: 'shop' }] });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('web', ['Launch']), group('worker')] });
    asg.on(ResumeProcessesCommand).resolves({});
    await runModule(resumeProcesses, { region: 'eu-west-1', tags: [{ Key: 'app', Value: 'shop' }] });
    const filters = [
      { Name: 'key', Values: ['app'] },
      { Name: 'value', Values: ['shop'] },
    ];
    expect(inputsOf(asg, DescribeTagsCommand)).toEqual([
      { Filters: filters, MaxRecords: 100 },
      { Filters: filters, MaxRecords: 100, NextToken: 'n' },
    ]);
    expect(inputsOf(asg, ResumeProcessesCommand)).toEqual([{ AutoScalingGroupName: 'web' }, { AutoScalingGroupName: 'worker' }]);
  });

  it('names groups that do not exist, and needs exactly one of asg_names and tags', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(runModule(suspendProcesses, { region: 'eu-west-1', asg_names: ['ghost'] })).rejects.toThrow('No ASG(s) found with name(s): ghost in eu-west-1.');
    const registry = new ModuleRegistry([suspendProcesses]);
    expect(await registry.validateWhere('aws.asg.suspend_processes', {}, 'w', true)).toEqual([{ path: 'w.asg_names', message: 'give exactly one of asg_names and tags' }]);
    expect((await registry.validateWhere('aws.asg.suspend_processes', { asg_names: ['web'], process_names: ['Reboot'] }, 'w', true))[0]?.path).toBe('w.process_names[0]');
  });

  it('aws.asg.terminate_random_instances terminates instance_count InService instances of each group through EC2', async () => {
    const instances = [
      { InstanceId: 'i-1', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService' as const },
      { InstanceId: 'i-2', AvailabilityZone: 'eu-west-1b', LifecycleState: 'InService' as const },
      { InstanceId: 'i-3', AvailabilityZone: 'eu-west-1a', LifecycleState: 'Pending' as const },
    ];
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('web', [], instances)] });
    ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({ TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId })) }));
    const { output } = await runModule(terminateRandomInstances, { region: 'eu-west-1', asg_names: ['web'], instance_count: 2 });
    expect(inputsOf(ec2, TerminateInstancesCommand)).toEqual([{ InstanceIds: ['i-1', 'i-2'] }]);
    expect(output).toEqual([{ AutoScalingGroupName: 'web', TerminatingInstances: [{ InstanceId: 'i-1' }, { InstanceId: 'i-2' }] }]);

    await runModule(terminateRandomInstances, { region: 'eu-west-1', asg_names: ['web'], az: 'eu-west-1b' });
    expect(inputsOf(ec2, TerminateInstancesCommand)[1]).toEqual({ InstanceIds: ['i-2'] });
    await expect(runModule(terminateRandomInstances, { region: 'eu-west-1', asg_names: ['web'], instance_count: 3 })).rejects.toThrow('Not enough healthy instances in web: count 3 but 2 match.');
  });
});

describe('CloudWatch probes', () => {
  it('aws.cloudwatch.get_alarm_state_value returns the state; an unknown alarm fails', async () => {
    cw.on(DescribeAlarmsCommand).resolvesOnce({ MetricAlarms: [{ AlarmName: 'p99', StateValue: 'ALARM' }] }).resolvesOnce({ MetricAlarms: [] });
    expect((await runModule(getAlarmStateValue, { region: 'eu-west-1', alarm_name: 'p99' })).output).toBe('ALARM');
    expect(inputsOf(cw, DescribeAlarmsCommand)).toEqual([{ AlarmNames: ['p99'] }]);
    await expect(runModule(getAlarmStateValue, { region: 'eu-west-1', alarm_name: 'nope' })).rejects.toThrow('CloudWatch alarm name nope not found in eu-west-1.');
  });

  it('aws.cloudwatch.get_metric_statistics asks for one period ending offset seconds ago and returns the statistic (0 without data)', async () => {
    cw.on(GetMetricStatisticsCommand).resolvesOnce({ Datapoints: [{ Average: 41.5 }] }).resolvesOnce({ Datapoints: [{ ExtendedStatistics: { p99: 812 } }] }).resolves({ Datapoints: [] });
    const before = Date.now();
    const { output } = await runModule(getMetricStatistics, { region: 'eu-west-1', namespace: 'AWS/EC2', metric_name: 'CPUUtilization', dimension_name: 'InstanceId', dimension_value: 'i-1', statistic: 'Average', duration: 120, offset: 30 });
    expect(output).toBe(41.5);
    const [input] = inputsOf(cw, GetMetricStatisticsCommand) as { StartTime: Date; EndTime: Date }[];
    expect(input).toEqual({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', StartTime: expect.any(Date), EndTime: expect.any(Date), Period: 120, Dimensions: [{ Name: 'InstanceId', Value: 'i-1' }], Statistics: ['Average'] });
    expect((input?.EndTime.getTime() ?? 0) - (input?.StartTime.getTime() ?? 0)).toBe(120_000);
    expect(Math.abs((input?.EndTime.getTime() ?? 0) - (before - 30_000))).toBeLessThan(5_000);
    expect((await runModule(getMetricStatistics, { region: 'eu-west-1', namespace: 'AWS/ApplicationELB', metric_name: 'TargetResponseTime', dimensions: [{ Name: 'LoadBalancer', Value: 'app/shop/1' }], extended_statistic: 'p99' })).output).toBe(812);
    expect((inputsOf(cw, GetMetricStatisticsCommand)[1] as { ExtendedStatistics: string[]; Period: number }).ExtendedStatistics).toEqual(['p99']);
    expect((await runModule(getMetricStatistics, { region: 'eu-west-1', namespace: 'AWS/EC2', metric_name: 'CPUUtilization', dimensions: [], statistic: 'Maximum' })).output).toBe(0);
  });

  it('aws.cloudwatch.get_metric_data reads every page and reduces the values as chaosaws does', async () => {
    cw.on(GetMetricDataCommand).resolvesOnce({ MetricDataResults: [{ Id: 'm1', Label: 'Errors', Values: [1, 2] }], NextToken: 'n' }).resolvesOnce({ MetricDataResults: [{ Id: 'm1', Label: 'Errors', Values: [4] }] });
    const { output } = await runModule(getMetricData, { region: 'eu-west-1', namespace: 'AWS/Lambda', metric_name: 'Errors', dimension_name: 'FunctionName', dimension_value: 'checkout', statistic: 'Sum', period: 60 });
    expect(output).toBe(7);
    const inputs = inputsOf(cw, GetMetricDataCommand) as { NextToken?: string; MetricDataQueries: unknown }[];
    expect(inputs[0]?.MetricDataQueries).toEqual([
      { Id: 'm1', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'checkout' }] }, Period: 60, Stat: 'Sum' }, Label: 'Errors' },
    ]);
    expect(inputs[1]?.NextToken).toBe('n');
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm1', Values: [1, 2, 2] }] });
    expect((await runModule(getMetricData, { region: 'eu-west-1', namespace: 'AWS/Lambda', metric_name: 'Duration', dimensions: [], statistic: 'Average' })).output).toBe(1.67);
  });

  it('need dimensions when saved', async () => {
    const registry = new ModuleRegistry([getMetricData]);
    expect(await registry.validateWhere('aws.cloudwatch.get_metric_data', { namespace: 'AWS/Lambda', metric_name: 'Errors', statistic: 'Sum' }, 'w', true)).toEqual([
      { path: 'w.dimensions', message: 'is required unless dimension_name and dimension_value name one dimension' },
    ]);
  });
});
