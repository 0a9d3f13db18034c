import { CancelCommandCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { sendCommand } from '../../../functions/modules/aws/ssm/send-command.js';
import { ModuleRegistry } from '../../../functions/modules/registry.js';
import { inputsOf, resetAws, runModule } from '../../support/aws.js';

const ssm = mockClient(SSMClient);
const command = (Status: 'Pending' | 'InProgress' | 'Success' | 'Failed') => ({ CommandId: 'cmd-1', DocumentName: 'AWS-RunShellScript', Status, TargetCount: 2, CompletedCount: Status === 'Success' ? 2 : 0, ErrorCount: 0 });
const where = {
  region: 'eu-west-1',
  document_name: 'AWS-RunShellScript',
  targets: [{ Key: 'tag:app', Values: ['shop'] }],
  parameters: { commands: ['stress-ng --cpu 2 --timeout 60s'] },
  timeout_seconds: 120,
  max_concurrency: '50%',
  max_errors: '0',
};

beforeEach(() => {
  ssm.reset();
  resetAws();
});

describe('aws.ssm.send_command', () => {
  it('sends the document to the targets and waits until the command ran everywhere, with every invocation', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: command('Pending') });
    ssm.on(ListCommandsCommand).resolvesOnce({ Commands: [command('InProgress')] }).resolves({ Commands: [command('Success')] });
    ssm.on(ListCommandInvocationsCommand)
      .resolvesOnce({ CommandInvocations: [{ InstanceId: 'i-1', Status: 'Success' }], NextToken: 'n' })
      .resolvesOnce({ CommandInvocations: [{ InstanceId: 'i-2', Status: 'Success' }] });
    const { output } = await runModule(sendCommand, where);
    expect(inputsOf(ssm, SendCommandCommand)).toEqual([
      { DocumentName: 'AWS-RunShellScript', Targets: [{ Key: 'tag:app', Values: ['shop'] }], Parameters: { commands: ['stress-ng --cpu 2 --timeout 60s'] }, TimeoutSeconds: 120, MaxConcurrency: '50%', MaxErrors: '0' },
    ]);
    expect(inputsOf(ssm, ListCommandsCommand)).toEqual([{ CommandId: 'cmd-1' }, { CommandId: 'cmd-1' }]);
    expect(inputsOf(ssm, ListCommandInvocationsCommand)).toEqual([
      { CommandId: 'cmd-1', Details: true, MaxResults: 50 },
      { CommandId: 'cmd-1', Details: true, MaxResults: 50, NextToken: 'n' },
    ]);
    expect(output).toEqual({ Command: command('Success'), CommandInvocations: [{ InstanceId: 'i-1', Status: 'Success' }, { InstanceId: 'i-2', Status: 'Success' }] });
  });

  it('fails the step when the command failed somewhere, keeping the invocations as output', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: command('Pending') });
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ ...command('Failed'), StatusDetails: 'Failed' }] });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-1', Status: 'Failed' }] });
    const failure = runModule(sendCommand, { region: 'eu-west-1', document_name: 'AWS-RunShellScript', instance_ids: ['i-1'] });
    await expect(failure).rejects.toThrow('SSM command cmd-1 ended Failed (Failed).');
    await expect(failure).rejects.toMatchObject({ output: { CommandInvocations: [{ InstanceId: 'i-1', Status: 'Failed' }] } });
    expect(inputsOf(ssm, SendCommandCommand)).toEqual([{ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-1'] }]);
  });

  it('cancels the command when the trial is stopped while it runs', async () => {
    const controller = new AbortController();
    ssm.on(SendCommandCommand).resolves({ Command: command('Pending') });
    ssm.on(ListCommandsCommand).callsFake(() => {
      controller.abort(new Error('Trial time budget exhausted'));
      return { Commands: [command('InProgress')] };
    });
    ssm.on(CancelCommandCommand).resolves({});
    await expect(runModule(sendCommand, where, controller.signal)).rejects.toThrow('Trial time budget exhausted');
    expect(inputsOf(ssm, CancelCommandCommand)).toEqual([{ CommandId: 'cmd-1' }]);
  });

  it('is rejected at save time without targets or instance_ids', async () => {
    const registry = new ModuleRegistry([sendCommand]);
    expect(await registry.validateWhere('aws.ssm.send_command', { document_name: 'AWS-RunShellScript' }, 'w', true)).toEqual([{ path: 'w.targets', message: 'is required unless instance_ids names the instances' }]);
  });
});
