import type { JsonObject } from '../../../domain/types.js';
import { awsModule } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { FUNCTION_ARN, FUNCTION_NAME, lambda } from './functions.js';

/**
 * chaosaws `awslambda.put_function_concurrency` (throttles a function; 0 stops every
 * invocation). The output adds `previous.ReservedConcurrentExecutions` (null when none
 * was reserved) so a post step can put it back: given null, this command removes the
 * reservation instead, so one revert step fits both cases.
 */
export const putFunctionConcurrency = awsModule({
  name: 'aws.awslambda.put_function_concurrency',
  description: 'Sets the reserved concurrency of a Lambda function (null removes it); records the previous value.',
  properties: { function_name: FUNCTION_NAME, concurrent_executions: { type: ['integer', 'null'], minimum: 0 } },
  required: ['function_name', 'concurrent_executions'],
  iam: [
    { actions: ['lambda:GetFunctionConcurrency'], resources: [FUNCTION_ARN] },
    { actions: ['lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency'], resources: [FUNCTION_ARN], tagged: true },
  ],
  async run(where, target, context) {
    const { sdk, client } = await lambda(target, context);
    const name = String(where['function_name']);
    const before = await callAws(context, 'lambda:GetFunctionConcurrency', target, (abortSignal) => client.send(new sdk.GetFunctionConcurrencyCommand({ FunctionName: name }), { abortSignal }));
    const previous: JsonObject = { ReservedConcurrentExecutions: before.ReservedConcurrentExecutions ?? null };
    const wanted = where['concurrent_executions'];
    if (wanted === null) {
      const out = await callAws(context, 'lambda:DeleteFunctionConcurrency', target, (abortSignal) => client.send(new sdk.DeleteFunctionConcurrencyCommand({ FunctionName: name }), { abortSignal }));
      context.log(`Removed the reserved concurrency of ${name} (was ${JSON.stringify(previous['ReservedConcurrentExecutions'])}).`);
      return { ...toJsonObject(out), ReservedConcurrentExecutions: null, previous };
    }
    const out = await callAws(context, 'lambda:PutFunctionConcurrency', target, (abortSignal) =>
      client.send(new sdk.PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: Number(wanted) }), { abortSignal }),
    );
    context.log(`Set the reserved concurrency of ${name} to ${String(wanted)} (was ${JSON.stringify(previous['ReservedConcurrentExecutions'])}).`);
    return { ...toJsonObject(out), previous };
  },
});
