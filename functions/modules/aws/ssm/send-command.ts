import type { Command, CommandInvocation, SSMClient } from '@aws-sdk/client-ssm';
import type { Json, JsonObject } from '../../../domain/types.js';
import { StepFailedError, StepSuspension, suspend, type StepContext } from '../../types.js';
import { arn, awsModule, STRING, STRING_LIST } from '../common.js';
import { INSTANCE_ARN } from '../ec2/instances.js';
import { toJson, toJsonObject } from '../json.js';
import { awsClient, callAws, type AwsTarget } from '../runtime.js';
import { clockOf, pollAcrossSlices, timeoutAt, tooLateToStart, WAIT_TIMEOUT_SECONDS, WAITING_STEP_MAX_RUN_MS } from '../waiting.js';

type SsmSdk = typeof import('@aws-sdk/client-ssm');

const ENDED = new Set(['Success', 'Cancelled', 'Failed', 'TimedOut']);
/** SSM's own limit on TimeoutSeconds is 30–2592000; a step waits at most its trial's budget anyway. */
const TARGETS = {
  type: 'array',
  minItems: 1,
  maxItems: 5,
  items: { type: 'object', required: ['Key', 'Values'], additionalProperties: false, properties: { Key: { ...STRING, maxLength: 163 }, Values: { type: 'array', items: STRING, minItems: 1, maxItems: 50 } } },
} as const;

/** What a waiting send_command step keeps between slices. */
interface SsmWait {
  command_id: string;
  /** Epoch ms of the send: `wait_timeout_seconds` counts from it. */
  started_at: number;
  status: string;
  /** The SendCommand response's ResponseMetadata, for the final output. */
  response_metadata?: JsonObject;
}

function ssmWaitOf(state: JsonObject | undefined): SsmWait | undefined {
  return state && typeof state['command_id'] === 'string' ? (state as unknown as SsmWait) : undefined;
}

async function ssm(target: AwsTarget, context: StepContext): Promise<{ sdk: SsmSdk; client: SSMClient }> {
  const sdk = await import('@aws-sdk/client-ssm');
  return { sdk, client: await awsClient('ssm', target, context, (config) => new sdk.SSMClient(config)) };
}

async function cancelQuietly(sdk: SsmSdk, client: SSMClient, commandId: string, target: AwsTarget, context: StepContext): Promise<void> {
  const own: StepContext = { signal: AbortSignal.timeout(15_000), log: context.log };
  try {
    await callAws(own, 'ssm:CancelCommand', target, (abortSignal) => client.send(new sdk.CancelCommandCommand({ CommandId: commandId }), { abortSignal }));
    context.log(`Cancelled SSM command ${commandId}.`);
  } catch (error) {
    context.log(`Could not cancel SSM command ${commandId}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Every invocation of the command (one per instance), with plugin output, following NextToken. */
async function invocations(sdk: SsmSdk, client: SSMClient, commandId: string, target: AwsTarget, context: StepContext): Promise<CommandInvocation[]> {
  const all: CommandInvocation[] = [];
  let nextToken: string | undefined;
  do {
    const input = { CommandId: commandId, Details: true, MaxResults: 50, ...(nextToken !== undefined && { NextToken: nextToken }) };
    const page = await callAws(context, 'ssm:ListCommandInvocations', target, (abortSignal) => client.send(new sdk.ListCommandInvocationsCommand(input), { abortSignal }));
    all.push(...(page.CommandInvocations ?? []));
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  return all;
}

/**
 * chaosaws `ssm.send_command`, which then waits until the command has run everywhere
 * (ListCommands until its status is final, across slices: the trial parks between polls): the output is the SendCommand response
 * with `Command` in its final state, plus `CommandInvocations` (per instance status and
 * output). The step fails unless the command ended `Success`; a trial stop cancels it.
 */
export const sendCommand = awsModule({
  name: 'aws.ssm.send_command',
  description: 'Runs an SSM document on instances (targets or instance_ids) and waits until it has run.',
  properties: {
    document_name: { ...STRING, maxLength: 128 },
    targets: TARGETS,
    instance_ids: { ...STRING_LIST, maxItems: 50 },
    document_version: { ...STRING, maxLength: 16 },
    parameters: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    timeout_seconds: { type: 'integer', minimum: 30, maximum: 2592000 },
    max_concurrency: { type: 'string', pattern: '^([1-9][0-9]*|[1-9][0-9]?%|100%)$' },
    max_errors: { type: 'string', pattern: '^([1-9][0-9]*|[0]|[1-9][0-9]?%|0%|100%)$' },
    wait: { type: 'boolean' },
    wait_timeout_seconds: WAIT_TIMEOUT_SECONDS,
  },
  required: ['document_name'],
  iam: [
    { actions: ['ssm:SendCommand'], resources: ['arn:{partition}:ssm:*:*:document/*'] },
    { actions: ['ssm:SendCommand'], resources: [INSTANCE_ARN, arn('ssm', 'managed-instance/*')], tagged: true },
    { actions: ['ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:CancelCommand'] },
  ],
  check: (where) => (where['targets'] === undefined && where['instance_ids'] === undefined ? [{ path: 'targets', message: 'is required unless instance_ids names the instances' }] : []),
  resumable: {
    maxRunMs: WAITING_STEP_MAX_RUN_MS,
    async cleanup(_where, state, target, context) {
      const waiting = ssmWaitOf(state);
      if (!waiting) return;
      const { sdk, client } = await ssm(target, context);
      await cancelQuietly(sdk, client, waiting.command_id, target, context);
    },
  },
  async run(where, target, context) {
    const { sdk, client } = await ssm(target, context);
    const resumed = ssmWaitOf(context.resumed);
    if (resumed) return waitForCommand(sdk, client, resumed, undefined, where, target, context);
    // Nothing sent yet: a send too close to the slice's end could be cut off before its id is known.
    if (tooLateToStart(context)) return suspend(clockOf(context)(), {});
    const input = {
      DocumentName: String(where['document_name']),
      ...(where['targets'] !== undefined && { Targets: where['targets'] as { Key: string; Values: string[] }[] }),
      ...(where['instance_ids'] !== undefined && { InstanceIds: where['instance_ids'] as string[] }),
      ...(typeof where['document_version'] === 'string' && { DocumentVersion: where['document_version'] }),
      ...(where['parameters'] !== undefined && { Parameters: where['parameters'] as Record<string, string[]> }),
      ...(typeof where['timeout_seconds'] === 'number' && { TimeoutSeconds: where['timeout_seconds'] }),
      ...(typeof where['max_concurrency'] === 'string' && { MaxConcurrency: where['max_concurrency'] }),
      ...(typeof where['max_errors'] === 'string' && { MaxErrors: where['max_errors'] }),
    };
    const sent = await callAws(context, 'ssm:SendCommand', target, (abortSignal) => client.send(new sdk.SendCommandCommand(input), { abortSignal }));
    const commandId = sent.Command?.CommandId;
    if (!commandId) throw new StepFailedError('SSM SendCommand returned no command id.');
    context.log(`Sent SSM command ${commandId} (${input.DocumentName}).`);
    if (where['wait'] === false) return toJsonObject(sent);
    const { ResponseMetadata } = toJsonObject(sent);
    const waiting: SsmWait = {
      command_id: commandId,
      started_at: clockOf(context)(),
      status: sent.Command?.Status ?? 'Pending',
      ...(ResponseMetadata !== undefined && { response_metadata: ResponseMetadata as JsonObject }),
    };
    // Saved before the first poll: a worker that dies while polling leaves the id for the recovery to cancel the command.
    if (!ENDED.has(waiting.status)) await context.saveState?.({ ...waiting } as unknown as JsonObject);
    return waitForCommand(sdk, client, waiting, sent.Command as Command, where, target, context);
  },
});

/** Polls ListCommands across slices until the command's status is final; cancels it when the step is stopped or times out. */
async function waitForCommand(sdk: SsmSdk, client: SSMClient, state: SsmWait, first: Command | undefined, where: JsonObject, target: AwsTarget, context: StepContext): Promise<Json | StepSuspension> {
  const poll = async (): Promise<Command | undefined> => {
    const listed = await callAws(context, 'ssm:ListCommands', target, (abortSignal) => client.send(new sdk.ListCommandsCommand({ CommandId: state.command_id }), { abortSignal }));
    const command = listed.Commands?.[0];
    if (!command) return undefined;
    if (command.Status !== state.status) context.log(`SSM command ${state.command_id} is ${command.Status}.`);
    state.status = command.Status ?? state.status;
    return ENDED.has(state.status) ? command : undefined;
  };
  let command: Command | StepSuspension | undefined;
  try {
    command = first && ENDED.has(first.Status ?? '') ? first : first ? undefined : await poll();
    command ??= await pollAcrossSlices(context, {
      state: () => ({ ...state }) as unknown as JsonObject,
      timeoutAt: timeoutAt(where, state.started_at),
      poll,
      timedOut: async () => {
        await cancelQuietly(sdk, client, state.command_id, target, context);
        throw new StepFailedError(`SSM command ${state.command_id} had not ended after wait_timeout_seconds (${String(where['wait_timeout_seconds'])} s); it was cancelled.`, { Command: { CommandId: state.command_id, Status: state.status } });
      },
    });
  } catch (error) {
    if (context.signal.aborted) await cancelQuietly(sdk, client, state.command_id, target, context);
    throw error;
  }
  if (command instanceof StepSuspension) return command;
  const output: JsonObject = {
    ...(state.response_metadata && { ResponseMetadata: state.response_metadata }),
    Command: toJsonObject(command),
    CommandInvocations: (await invocations(sdk, client, state.command_id, target, context)).map(toJson) as Json[],
  };
  context.log(`SSM command ${state.command_id} ended ${command.Status} (${command.CompletedCount ?? 0} of ${command.TargetCount ?? 0} target(s) done, ${command.ErrorCount ?? 0} error(s)).`);
  if (command.Status !== 'Success') throw new StepFailedError(`SSM command ${state.command_id} ended ${command.Status}${command.StatusDetails ? ` (${command.StatusDetails})` : ''}.`, output);
  return output;
}
