import { CancelCommandCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { sendCommand } from '../../../functions/modules/aws/ssm/send-command.js';
import { StepFailedError, StepSuspension, type StepContext } from '../../../functions/modules/types.js';
import { inputsOf, resetAws } from '../../support/aws.js';
import { stepContext } from '../../support/step-context.js';

const ssm = mockClient(SSMClient);
type Status = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'Cancelled';
const command = (Status: Status) => ({ CommandId: 'cmd-1', DocumentName: 'AWS-RunShellScript', Status, TargetCount: 1, CompletedCount: Status === 'Success' ? 1 : 0, ErrorCount: 0 });
const where = { region: 'eu-west-1', document_name: 'AWS-RunShellScript', instance_ids: ['i-1'], parameters: { commands: ['stress-ng --cpu 2 --timeout 1200s'] } };
const T0 = Date.parse('2026-03-01T10:00:00Z');
let clock = T0;
const sliced = (overrides: Partial<StepContext> = {}): StepContext => stepContext({ now: () => clock, sliceDeadline: clock + 14 * 60_000, ...overrides });

beforeEach(() => {
  ssm.reset();
  resetAws();
  clock = T0;
});

describe('aws.ssm.send_command across slices', () => {
  it('sends once, suspends with the command id, and ends in a later slice with every invocation', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: command('Pending'), $metadata: { httpStatusCode: 200, requestId: 'req' } });
    ssm.on(ListCommandsCommand).callsFake(() => {
      clock += 40_000;
      return { Commands: [command(clock - T0 >= 280_000 ? 'Success' : 'InProgress')] };
    });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-1', Status: 'Success' }] });

    const first = await sendCommand.run(where, sliced());
    expect(first).toEqual(new StepSuspension(T0 + 80_001, { command_id: 'cmd-1', started_at: T0, status: 'InProgress', response_metadata: { RequestId: 'req', HTTPStatusCode: 200, RetryAttempts: 0 } }));
    expect(inputsOf(ssm, SendCommandCommand)).toEqual([{ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-1'], Parameters: { commands: ['stress-ng --cpu 2 --timeout 1200s'] } }]);

    clock += 1;
    const second = await sendCommand.run(where, sliced({ resumed: (first as StepSuspension).state }));
    expect(second).toBeInstanceOf(StepSuspension);
    clock += 1;
    const third = await sendCommand.run(where, sliced({ resumed: (second as StepSuspension).state }));
    expect(third).toEqual({
      ResponseMetadata: { RequestId: 'req', HTTPStatusCode: 200, RetryAttempts: 0 },
      Command: command('Success'),
      CommandInvocations: [{ InstanceId: 'i-1', Status: 'Success' }],
    });
    expect(inputsOf(ssm, SendCommandCommand)).toHaveLength(1);
    expect(inputsOf(ssm, ListCommandsCommand)).toEqual(Array(7).fill({ CommandId: 'cmd-1' }));
    expect(inputsOf(ssm, ListCommandInvocationsCommand)).toEqual([{ CommandId: 'cmd-1', Details: true, MaxResults: 50 }]);
    expect(inputsOf(ssm, CancelCommandCommand)).toEqual([]);
  });

  it('leaves the send to the next slice when too little of this one is left', async () => {
    await expect(sendCommand.run(where, sliced({ sliceDeadline: clock + 5000 }))).resolves.toEqual(new StepSuspension(clock, {}));
    expect(ssm.calls()).toHaveLength(0);
  });

  it('cancels the command and fails once wait_timeout_seconds has passed', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [command('InProgress')] });
    ssm.on(CancelCommandCommand).resolves({});
    clock = T0 + 120_000;
    const run = sendCommand.run({ ...where, wait_timeout_seconds: 120 }, sliced({ resumed: { command_id: 'cmd-1', started_at: T0, status: 'InProgress' } }));
    await expect(run).rejects.toThrow(new StepFailedError('SSM command cmd-1 had not ended after wait_timeout_seconds (120 s); it was cancelled.'));
    expect(inputsOf(ssm, CancelCommandCommand)).toEqual([{ CommandId: 'cmd-1' }]);
  });

  it('fails a resumed step whose command was cancelled elsewhere, with its invocations', async () => {
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ ...command('Cancelled'), StatusDetails: 'Cancelled' }] });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: 'i-1', Status: 'Cancelled' }] });
    const run = sendCommand.run(where, sliced({ resumed: { command_id: 'cmd-1', started_at: T0, status: 'InProgress' } }));
    await expect(run).rejects.toThrow('SSM command cmd-1 ended Cancelled (Cancelled).');
    await expect(run).rejects.toMatchObject({ output: { CommandInvocations: [{ InstanceId: 'i-1', Status: 'Cancelled' }] } });
  });

  it('cleanup cancels the command of a suspended step (a trial stopped while parked)', async () => {
    ssm.on(CancelCommandCommand).resolves({});
    const logs: string[] = [];
    await sendCommand.cleanup?.(where, { command_id: 'cmd-1', started_at: T0, status: 'InProgress' }, stepContext({ log: (line) => logs.push(line) }));
    expect(inputsOf(ssm, CancelCommandCommand)).toEqual([{ CommandId: 'cmd-1' }]);
    expect(logs).toEqual(['Cancelled SSM command cmd-1.']);
  });

  it('cleanup of a step that had sent nothing calls nothing', async () => {
    await sendCommand.cleanup?.(where, {}, stepContext());
    expect(ssm.calls()).toHaveLength(0);
  });

  it('declares exactly the IAM actions its calls need: send, poll, list invocations, cancel', async () => {
    ssm.on(SendCommandCommand).resolves({ Command: command('Pending') });
    ssm.on(ListCommandsCommand).resolvesOnce({ Commands: [command('InProgress')] }).resolves({ Commands: [command('Success')] });
    ssm.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [] });
    ssm.on(CancelCommandCommand).resolves({});
    await sendCommand.run(where, stepContext());
    await sendCommand.cleanup?.(where, { command_id: 'cmd-1', started_at: T0, status: 'InProgress' }, stepContext());
    const used = new Set(ssm.calls().map((call) => `ssm:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`));
    const declared = new Set((sendCommand.iam ?? []).flatMap((grant) => grant.actions));
    expect([...used].sort()).toEqual([...declared].sort());
  });
});
