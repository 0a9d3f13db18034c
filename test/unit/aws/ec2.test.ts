import { DescribeInstancesCommand, EC2Client, RebootInstancesCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { countInstances } from '../../../functions/modules/aws/ec2/count-instances.js';
import { describeInstances } from '../../../functions/modules/aws/ec2/describe-instances.js';
import { restartInstances } from '../../../functions/modules/aws/ec2/restart-instances.js';
import { startInstances } from '../../../functions/modules/aws/ec2/start-instances.js';
import { stopInstance } from '../../../functions/modules/aws/ec2/stop-instance.js';
import { stopInstances } from '../../../functions/modules/aws/ec2/stop-instances.js';
import { terminateInstance } from '../../../functions/modules/aws/ec2/terminate-instance.js';
import { terminateInstances } from '../../../functions/modules/aws/ec2/terminate-instances.js';
import { ModuleRegistry } from '../../../functions/modules/registry.js';
import { StepFailedError } from '../../../functions/modules/types.js';
import { awsError, inputsOf, resetAws, ROLE, runModule } from '../../support/aws.js';

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);

const reservation = (...ids: string[]) => ({ Instances: ids.map((id) => ({ InstanceId: id, State: { Name: 'running' as const } })) });
const describes = () => inputsOf(ec2, DescribeInstancesCommand);

beforeEach(() => {
  ec2.reset();
  sts.reset();
  resetAws();
});

describe('aws.ec2.stop_instances', () => {
  it('by ids: describes exactly those instances (no MaxResults, EC2 refuses it with ids), then stops them', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1', 'i-2')] });
    ec2.on(StopInstancesCommand).resolves({ StoppingInstances: [{ InstanceId: 'i-1', CurrentState: { Name: 'stopping' }, PreviousState: { Name: 'running' } }], $metadata: { httpStatusCode: 200, requestId: 'r-1', attempts: 1 } });
    const { output } = await runModule(stopInstances, { region: 'eu-west-1', instance_ids: ['i-1', 'i-2'] });
    expect(describes()).toEqual([{ InstanceIds: ['i-1', 'i-2'] }]);
    expect(inputsOf(ec2, StopInstancesCommand)).toEqual([{ InstanceIds: ['i-1', 'i-2'], Force: false }]);
    expect(output).toEqual([
      { StoppingInstances: [{ InstanceId: 'i-1', CurrentState: { Name: 'stopping' }, PreviousState: { Name: 'running' } }], ResponseMetadata: { RequestId: 'r-1', HTTPStatusCode: 200, RetryAttempts: 0 } },
    ]);
  });

  it('by AZ: every running instance of the zone, across pages, with force', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [reservation('i-1')], NextToken: 'page-2' }).resolvesOnce({ Reservations: [reservation('i-2', 'i-3')] });
    ec2.on(StopInstancesCommand).resolves({});
    await runModule(stopInstances, { region: 'us-east-1', az: 'us-east-1a', force: true });
    const filters = [
      { Name: 'availability-zone', Values: ['us-east-1a'] },
      { Name: 'instance-state-name', Values: ['running'] },
    ];
    expect(describes()).toEqual([
      { Filters: filters, MaxResults: 1000 },
      { Filters: filters, MaxResults: 1000, NextToken: 'page-2' },
    ]);
    expect(inputsOf(ec2, StopInstancesCommand)).toEqual([{ InstanceIds: ['i-1', 'i-2', 'i-3'], Force: true }]);
  });

  it('by filters with a count: that many of the matches, chosen at random; a state filter of the user is kept', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1', 'i-2', 'i-3', 'i-4')] });
    ec2.on(StopInstancesCommand).resolves({});
    const filters = [
      { Name: 'tag:app', Values: ['shop'] },
      { Name: 'instance-state-name', Values: ['running', 'pending'] },
    ];
    await runModule(stopInstances, { region: 'us-east-1', filters, count: 2 });
    expect(describes()).toEqual([{ Filters: filters, MaxResults: 1000 }]);
    const [stop] = inputsOf(ec2, StopInstancesCommand) as { InstanceIds: string[] }[];
    expect(stop?.InstanceIds).toHaveLength(2);
    expect(new Set(stop?.InstanceIds).size).toBe(2);
    for (const id of stop?.InstanceIds ?? []) expect(['i-1', 'i-2', 'i-3', 'i-4']).toContain(id);
  });

  it('by AZ and filters with a percent: floor(percent × matches)', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1', 'i-2', 'i-3', 'i-4', 'i-5')] });
    ec2.on(StopInstancesCommand).resolves({});
    await runModule(stopInstances, { region: 'us-east-1', az: 'us-east-1b', filters: [{ Name: 'tag:app', Values: ['shop'] }], percent: 50 });
    expect(describes()).toEqual([
      {
        Filters: [
          { Name: 'tag:app', Values: ['shop'] },
          { Name: 'availability-zone', Values: ['us-east-1b'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
        MaxResults: 1000,
      },
    ]);
    expect((inputsOf(ec2, StopInstancesCommand)[0] as { InstanceIds: string[] }).InstanceIds).toHaveLength(2);
  });

  it('refuses a percent that selects nothing, a count above the matches, and an empty selection, stopping nothing', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1', 'i-2')] });
    await expect(runModule(stopInstances, { region: 'us-east-1', az: 'us-east-1a', percent: 10 })).rejects.toThrow('percent 10 of 2 instances selects none.');
    await expect(runModule(stopInstances, { region: 'us-east-1', az: 'us-east-1a', count: 3 })).rejects.toThrow('Not enough instances: count 3 but 2 match.');
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    await expect(runModule(stopInstances, { region: 'us-east-1', az: 'us-east-1a' })).rejects.toThrow(/^No instances in us-east-1 match/);
    expect(inputsOf(ec2, StopInstancesCommand)).toEqual([]);
  });

  it('names instance ids that do not exist', async () => {
    ec2.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound', "The instance ID 'i-9' does not exist"));
    await expect(runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-9'] })).rejects.toThrow(
      "Not found: ec2:DescribeInstances in us-east-1 (InvalidInstanceID.NotFound): The instance ID 'i-9' does not exist.",
    );
  });

  it('explains an AccessDenied with the tag destructive actions need', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1')] });
    ec2.on(StopInstancesCommand).rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403));
    const failure = runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'] });
    await expect(failure).rejects.toBeInstanceOf(StepFailedError);
    await expect(failure).rejects.toThrow(
      'AWS denied ec2:StopInstances in us-east-1 (UnauthorizedOperation): You are not authorized to perform this operation. Destructive actions are allowed only on resources tagged chaos-allowed=true; see "Permissions of AWS steps" in the README.',
    );
  });

  it('retries a throttled call and gives up after the configured attempts', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1')] });
    ec2.on(StopInstancesCommand).rejectsOnce(awsError('RequestLimitExceeded', 'Request limit exceeded.', 503)).resolvesOnce({ StoppingInstances: [] });
    const { logs } = await runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'] });
    expect(inputsOf(ec2, StopInstancesCommand)).toHaveLength(2);
    expect(logs.some((line) => line.startsWith('ec2:StopInstances was throttled (RequestLimitExceeded); retrying in'))).toBe(true);

    ec2.on(StopInstancesCommand).rejects(awsError('RequestLimitExceeded', 'Request limit exceeded.', 503));
    await expect(runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'] })).rejects.toThrow('AWS kept throttling ec2:StopInstances in us-east-1: RequestLimitExceeded after 3 attempt(s).');
  });

  it('does not retry a client error', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1')] });
    ec2.on(StopInstancesCommand).rejects(awsError('IncorrectInstanceState', 'The instance is not in a state from which it can be stopped.'));
    await expect(runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'] })).rejects.toThrow('ec2:StopInstances failed in us-east-1 (IncorrectInstanceState)');
    expect(inputsOf(ec2, StopInstancesCommand)).toHaveLength(1);
  });

  it('stops when the trial is stopped during a back-off, without another call', async () => {
    ec2.on(DescribeInstancesCommand).rejects(awsError('RequestLimitExceeded', 'slow down', 503));
    const controller = new AbortController();
    const running = runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'] }, controller.signal);
    controller.abort(new Error('Trial stop requested'));
    await expect(running).rejects.toThrow('Trial stop requested');
  });

  it('assumes an allowed role with STS first, once per role and region', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) } });
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1')] });
    ec2.on(StopInstancesCommand).resolves({});
    await runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'], role_arn: ROLE });
    await runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'], role: ROLE });
    expect(inputsOf(sts, AssumeRoleCommand)).toEqual([{ RoleArn: ROLE, RoleSessionName: 'kallisti-serverless', DurationSeconds: 3600 }]);
  });

  it('refuses a role outside the configured list, at save time and at run time, without calling AWS', async () => {
    const other = 'arn:aws:iam::111111111111:role/admin';
    const registry = new ModuleRegistry([stopInstances]);
    expect(await registry.validateWhere('aws.ec2.stop_instances', { instance_ids: ['i-1'], role_arn: other }, 'steps[0].where', true)).toEqual([
      { path: 'steps[0].where.role_arn', message: `is not one of the roles this deployment may assume: ${ROLE}` },
    ]);
    expect(await registry.validateWhere('aws.ec2.stop_instances', { instance_ids: ['i-1'], role_arn: '{{ role }}' }, 'steps[0].where', true)).toEqual([]);
    await expect(runModule(stopInstances, { region: 'us-east-1', instance_ids: ['i-1'], role_arn: other })).rejects.toThrow(`role_arn ${other} is not one of the roles this deployment may assume`);
    expect(sts.calls()).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('is rejected at save time without a selection, with both count and percent, or with an unknown argument', async () => {
    const registry = new ModuleRegistry([stopInstances]);
    const check = (where: object) => registry.validateWhere('aws.ec2.stop_instances', where as never, 'steps[0].where', true);
    expect(await check({ region: 'us-east-1' })).toEqual([{ path: 'steps[0].where.instance_ids', message: 'is required unless az or filters select the instances' }]);
    expect(await check({ az: 'us-east-1a', count: 1, percent: 5 })).toEqual([{ path: 'steps[0].where.percent', message: 'cannot be given with count; give one of them' }]);
    expect(await check({ az: 'us-east-1a', instances: ['i-1'] })).toEqual([{ path: 'steps[0].where.instances', message: 'is not an allowed field' }]);
    expect((await check({ az: 'us-east-1a', region: 'Ireland' }))[0]?.path).toBe('steps[0].where.region');
  });

  it('uses the worker region when the step names none, and fails clearly without one', async () => {
    await expect(runModule(stopInstances, { instance_ids: ['i-1'] })).rejects.toThrow('No region: give "region" in where');
  });
});

describe('the other EC2 commands', () => {
  it('aws.ec2.stop_instance stops one random running instance of the AZ', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1', 'i-2', 'i-3')] });
    ec2.on(StopInstancesCommand).resolves({});
    await runModule(stopInstance, { region: 'us-east-1', az: 'us-east-1c' });
    const [stop] = inputsOf(ec2, StopInstancesCommand) as { InstanceIds: string[] }[];
    expect(stop?.InstanceIds).toHaveLength(1);
  });

  it('aws.ec2.start_instances starts the stopped instances matching filters and returns StartingInstances', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1')] });
    ec2.on(StartInstancesCommand).resolves({ StartingInstances: [{ InstanceId: 'i-1', CurrentState: { Code: 0, Name: 'pending' } }] });
    const { output } = await runModule(startInstances, { region: 'us-east-1', filters: [{ Name: 'tag:app', Values: ['shop'] }] });
    expect(describes()).toEqual([{ Filters: [{ Name: 'tag:app', Values: ['shop'] }, { Name: 'instance-state-name', Values: ['stopped'] }], MaxResults: 1000 }]);
    expect(inputsOf(ec2, StartInstancesCommand)).toEqual([{ InstanceIds: ['i-1'] }]);
    expect(output).toEqual([{ InstanceId: 'i-1', CurrentState: { Code: 0, Name: 'pending' } }]);
  });

  it('aws.ec2.terminate_instances terminates every instance not already ended in the AZ', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1')] });
    ec2.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [{ InstanceId: 'i-1' }] });
    const { output } = await runModule(terminateInstances, { region: 'us-east-1', az: 'us-east-1a' });
    expect(describes()[0]).toEqual({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1a'] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }], MaxResults: 1000 });
    expect(inputsOf(ec2, TerminateInstancesCommand)).toEqual([{ InstanceIds: ['i-1'] }]);
    expect(output).toEqual([{ TerminatingInstances: [{ InstanceId: 'i-1' }] }]);
  });

  it('aws.ec2.terminate_instance terminates the instance named, or one random match of the filters', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [reservation('i-9')] }).resolves({ Reservations: [reservation('i-1', 'i-2', 'i-3')] });
    ec2.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [{ InstanceId: 'i-9', CurrentState: { Code: 32, Name: 'shutting-down' } }] });
    const { output } = await runModule(terminateInstance, { region: 'us-east-1', instance_id: 'i-9' });
    expect(describes()).toEqual([{ InstanceIds: ['i-9'] }]);
    expect(inputsOf(ec2, TerminateInstancesCommand)).toEqual([{ InstanceIds: ['i-9'] }]);
    expect(output).toEqual([{ TerminatingInstances: [{ InstanceId: 'i-9', CurrentState: { Code: 32, Name: 'shutting-down' } }] }]);

    await runModule(terminateInstance, { region: 'us-east-1', filters: [{ Name: 'tag:app', Values: ['shop'] }] });
    expect(describes()[1]).toEqual({ Filters: [{ Name: 'tag:app', Values: ['shop'] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }], MaxResults: 1000 });
    const second = inputsOf(ec2, TerminateInstancesCommand)[1] as { InstanceIds: string[] };
    expect(second.InstanceIds).toHaveLength(1);
    expect(['i-1', 'i-2', 'i-3']).toContain(second.InstanceIds[0]);
  });

  it('aws.ec2.restart_instances reboots and lists the instances rebooted', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [reservation('i-1', 'i-2')] });
    ec2.on(RebootInstancesCommand).resolves({});
    const { output } = await runModule(restartInstances, { region: 'us-east-1', instance_ids: ['i-1', 'i-2'] });
    expect(inputsOf(ec2, RebootInstancesCommand)).toEqual([{ InstanceIds: ['i-1', 'i-2'] }]);
    expect(output).toEqual([{ InstanceIds: ['i-1', 'i-2'] }]);
  });

  it('aws.ec2.describe_instances returns the reservations of every page, dates as ISO strings', async () => {
    const launched = new Date('2026-01-02T03:04:05.000Z');
    ec2.on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [{ ReservationId: 'r-1', Instances: [{ InstanceId: 'i-1', LaunchTime: launched }] }], NextToken: 't' })
      .resolvesOnce({ Reservations: [{ ReservationId: 'r-2', Instances: [{ InstanceId: 'i-2' }] }] });
    const { output } = await runModule(describeInstances, { region: 'us-east-1', filters: [{ Name: 'tag:app', Values: ['shop'] }] });
    expect(output).toEqual({ Reservations: [{ ReservationId: 'r-1', Instances: [{ InstanceId: 'i-1', LaunchTime: '2026-01-02T03:04:05.000Z' }] }, { ReservationId: 'r-2', Instances: [{ InstanceId: 'i-2' }] }] });
    expect(describes()).toEqual([
      { Filters: [{ Name: 'tag:app', Values: ['shop'] }], MaxResults: 1000 },
      { Filters: [{ Name: 'tag:app', Values: ['shop'] }], MaxResults: 1000, NextToken: 't' },
    ]);
  });

  it('aws.ec2.count_instances counts instances (not reservations) across pages', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [reservation('i-1', 'i-2')], NextToken: 't' }).resolvesOnce({ Reservations: [reservation('i-3')] });
    const { output } = await runModule(countInstances, { region: 'us-east-1', filters: [] });
    expect(output).toBe(3);
  });
});
