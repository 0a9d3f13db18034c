import type { JsonObject } from '../../../domain/types.js';
import { awsModule } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { FUNCTION_ARN, FUNCTION_NAME, lambda } from './functions.js';

/** chaosaws `awslambda.delete_function_concurrency`; the output adds `previous.ReservedConcurrentExecutions`. */
export const deleteFunctionConcurrency = awsModule({
  name: 'aws.awslambda.delete_function_concurrency',
  description: 'Removes the reserved concurrency of a Lambda function; records the previous value.',
  properties: { function_name: FUNCTION_NAME },
  required: ['function_name'],
  iam: [
    { actions: ['lambda:GetFunctionConcurrency'], resources: [FUNCTION_ARN] },
    { actions: ['lambda:DeleteFunctionConcurrency'], resources: [FUNCTION_ARN], tagged: true },
  ],
  async run(where, target, context) {
    const { sdk, client } = await lambda(target, context);
    const name = String(where['function_name']);
    const before = await callAws(context, 'lambda:GetFunctionConcurrency', target, (abortSignal) => client.send(new sdk.GetFunctionConcurrencyCommand({ FunctionName: name }), { abortSignal }));
    const previous: JsonObject = { ReservedConcurrentExecutions: before.ReservedConcurrentExecutions ?? null };
    const out = await callAws(context, 'lambda:DeleteFunctionConcurrency', target, (abortSignal) => client.send(new sdk.DeleteFunctionConcurrencyCommand({ FunctionName: name }), { abortSignal }));
    return { ...toJsonObject(out), previous };
  },
});
