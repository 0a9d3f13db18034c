import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { deleteFunctionConcurrency } from '../../../functions/modules/aws/awslambda/delete-function-concurrency.js';
import { invokeFunction } from '../../../functions/modules/aws/awslambda/invoke-function.js';
import { putFunctionConcurrency } from '../../../functions/modules/aws/awslambda/put-function-concurrency.js';
import { putFunctionMemorySize } from '../../../functions/modules/aws/awslambda/put-function-memory-size.js';
import { putFunctionTimeout } from '../../../functions/modules/aws/awslambda/put-function-timeout.js';
import { setAwsSettings } from '../../../functions/modules/aws/settings.js';
import { awsError, inputsOf, resetAws, runModule } from '../../support/aws.js';

const lambda = mockClient(LambdaClient);

beforeEach(() => {
  lambda.reset();
  resetAws();
});

describe('aws.awslambda.put_function_concurrency', () => {
  it('reads the reserved concurrency first and returns it as previous', async () => {
    lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 25 });
    lambda.on(PutFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 0 });
    const { output } = await runModule(putFunctionConcurrency, { region: 'eu-west-1', function_name: 'checkout', concurrent_executions: 0 });
    expect(inputsOf(lambda, GetFunctionConcurrencyCommand)).toEqual([{ FunctionName: 'checkout' }]);
    expect(inputsOf(lambda, PutFunctionConcurrencyCommand)).toEqual([{ FunctionName: 'checkout', ReservedConcurrentExecutions: 0 }]);
    expect(output).toEqual({ ReservedConcurrentExecutions: 0, previous: { ReservedConcurrentExecutions: 25 } });
  });

  it('records null when nothing was reserved, and given null (the revert of that) removes the reservation', async () => {
    lambda.on(GetFunctionConcurrencyCommand).resolves({});
    lambda.on(PutFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 1 });
    lambda.on(DeleteFunctionConcurrencyCommand).resolves({});
    expect((await runModule(putFunctionConcurrency, { region: 'eu-west-1', function_name: 'checkout', concurrent_executions: 1 })).output).toEqual({
      ReservedConcurrentExecutions: 1,
      previous: { ReservedConcurrentExecutions: null },
    });
    const { output } = await runModule(putFunctionConcurrency, { region: 'eu-west-1', function_name: 'checkout', concurrent_executions: null });
    expect(inputsOf(lambda, DeleteFunctionConcurrencyCommand)).toEqual([{ FunctionName: 'checkout' }]);
    expect(output).toEqual({ ReservedConcurrentExecutions: null, previous: { ReservedConcurrentExecutions: null } });
  });

  it('names a function that does not exist', async () => {
    lambda.on(GetFunctionConcurrencyCommand).rejects(awsError('ResourceNotFoundException', 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nope', 404));
    await expect(runModule(putFunctionConcurrency, { region: 'eu-west-1', function_name: 'nope', concurrent_executions: 0 })).rejects.toThrow(
      'Not found: lambda:GetFunctionConcurrency in eu-west-1 (ResourceNotFoundException): Function not found',
    );
    expect(inputsOf(lambda, PutFunctionConcurrencyCommand)).toEqual([]);
  });

  it('retries TooManyRequestsException', async () => {
    lambda.on(GetFunctionConcurrencyCommand).resolves({});
    lambda.on(PutFunctionConcurrencyCommand).rejectsOnce(awsError('TooManyRequestsException', 'Rate exceeded', 429)).resolves({ ReservedConcurrentExecutions: 5 });
    await runModule(putFunctionConcurrency, { region: 'eu-west-1', function_name: 'checkout', concurrent_executions: 5 });
    expect(inputsOf(lambda, PutFunctionConcurrencyCommand)).toHaveLength(2);
  });
});

describe('aws.awslambda.delete_function_concurrency', () => {
  it('removes the reservation and returns the previous one', async () => {
    lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 10 });
    lambda.on(DeleteFunctionConcurrencyCommand).resolves({});
    const { output } = await runModule(deleteFunctionConcurrency, { region: 'eu-west-1', function_name: 'checkout' });
    expect(inputsOf(lambda, DeleteFunctionConcurrencyCommand)).toEqual([{ FunctionName: 'checkout' }]);
    expect(output).toEqual({ previous: { ReservedConcurrentExecutions: 10 } });
  });
});

describe('aws.awslambda.put_function_timeout and put_function_memory_size', () => {
  const config = { FunctionName: 'checkout', Timeout: 30, MemorySize: 512, Environment: { Variables: { DB_URL: 'postgres://u:hunter2@db/shop', STAGE: 'prod' } } };

  it('changes the timeout, waits while the update is InProgress, returns the new configuration with previous.Timeout and hidden environment values', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolvesOnce({ ...config, LastUpdateStatus: 'Successful' })
      .resolvesOnce({ ...config, Timeout: 3, LastUpdateStatus: 'InProgress' })
      .resolves({ ...config, Timeout: 3, LastUpdateStatus: 'Successful' });
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ ...config, Timeout: 3, LastUpdateStatus: 'InProgress' });
    const { output } = await runModule(putFunctionTimeout, { region: 'eu-west-1', function_name: 'checkout', timeout: 3 });
    expect(inputsOf(lambda, UpdateFunctionConfigurationCommand)).toEqual([{ FunctionName: 'checkout', Timeout: 3 }]);
    expect(inputsOf(lambda, GetFunctionConfigurationCommand)).toEqual([{ FunctionName: 'checkout' }, { FunctionName: 'checkout' }, { FunctionName: 'checkout' }]);
    expect(output).toMatchObject({ FunctionName: 'checkout', Timeout: 3, previous: { Timeout: 30 }, Environment: { Variables: { DB_URL: '***', STAGE: '***' } } });
    expect(JSON.stringify(output)).not.toContain('hunter2');
  });

  it('fails when Lambda reports the update Failed', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolvesOnce(config).resolves({ ...config, LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'KMS key is disabled' });
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ ...config, MemorySize: 2048, LastUpdateStatus: 'InProgress' });
    await expect(runModule(putFunctionMemorySize, { region: 'eu-west-1', function_name: 'checkout', memory_size: 2048 })).rejects.toThrow('Lambda could not apply the update to checkout: KMS key is disabled.');
    expect(inputsOf(lambda, UpdateFunctionConfigurationCommand)).toEqual([{ FunctionName: 'checkout', MemorySize: 2048 }]);
  });

  it('gives up when the update stays InProgress past the time allowed', async () => {
    setAwsSettings({ lambdaUpdateTimeoutMs: 30 });
    lambda.on(GetFunctionConfigurationCommand).resolvesOnce(config).resolves({ ...config, LastUpdateStatus: 'InProgress' });
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ ...config, Timeout: 5, LastUpdateStatus: 'InProgress' });
    await expect(runModule(putFunctionTimeout, { region: 'eu-west-1', function_name: 'checkout', timeout: 5 })).rejects.toThrow('The update of checkout was still in progress after 0.03 s.');
    expect(lambda.commandCalls(GetFunctionConfigurationCommand).length).toBeGreaterThan(2);
  });

  it('does not poll when the update is already applied', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(config);
    lambda.on(UpdateFunctionConfigurationCommand).resolves({ ...config, MemorySize: 1024, LastUpdateStatus: 'Successful' });
    const { output } = await runModule(putFunctionMemorySize, { region: 'eu-west-1', function_name: 'checkout', memory_size: 1024 });
    expect(inputsOf(lambda, GetFunctionConfigurationCommand)).toHaveLength(1);
    expect(output).toMatchObject({ MemorySize: 1024, previous: { MemorySize: 512 } });
  });
});

describe('aws.awslambda.invoke_function', () => {
  it('sends the arguments as JSON and returns the parsed Payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, ExecutedVersion: '$LATEST', Payload: Buffer.from('{"ok":true}') as never });
    const { output } = await runModule(invokeFunction, { region: 'eu-west-1', function_name: 'checkout', function_arguments: { order: 1 }, client_context: { who: 'kallisti' }, qualifier: 'live' });
    expect(inputsOf(lambda, InvokeCommand)).toEqual([
      {
        FunctionName: 'checkout',
        InvocationType: 'RequestResponse',
        LogType: 'None',
        Payload: Buffer.from('{"order":1}'),
        ClientContext: Buffer.from('{"who":"kallisti"}').toString('base64'),
        Qualifier: 'live',
      },
    ]);
    expect(output).toEqual({ StatusCode: 200, ExecutedVersion: '$LATEST', Payload: { ok: true } });
  });

  it('keeps a text payload and a function error for expect to judge', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('boom') as never });
    const { output } = await runModule(invokeFunction, { region: 'eu-west-1', function_name: 'checkout', invocation_type: 'Event' });
    expect(inputsOf(lambda, InvokeCommand)).toEqual([{ FunctionName: 'checkout', InvocationType: 'Event', LogType: 'None' }]);
    expect(output).toEqual({ StatusCode: 200, FunctionError: 'Unhandled', Payload: 'boom' });
  });

  it('explains AccessDeniedException for a function without the chaos tag', async () => {
    lambda.on(InvokeCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: lambda:InvokeFunction', 403));
    await expect(runModule(invokeFunction, { region: 'eu-west-1', function_name: 'billing' })).rejects.toThrow(/^AWS denied lambda:InvokeFunction in eu-west-1 \(AccessDeniedException\).*tagged chaos-allowed=true/);
  });
});
