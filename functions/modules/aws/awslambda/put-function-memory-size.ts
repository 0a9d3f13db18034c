import { awsModule } from '../common.js';
import { FUNCTION_ARN, FUNCTION_NAME, updateConfiguration } from './functions.js';

/** chaosaws `awslambda.put_function_memory_size` (MB); the output is the new configuration plus `previous.MemorySize`. */
export const putFunctionMemorySize = awsModule({
  name: 'aws.awslambda.put_function_memory_size',
  description: 'Sets the memory size (MB) of a Lambda function and waits until it applies; records the previous value.',
  properties: { function_name: FUNCTION_NAME, memory_size: { type: 'integer', minimum: 128, maximum: 10240 } },
  required: ['function_name', 'memory_size'],
  iam: [
    { actions: ['lambda:GetFunctionConfiguration'], resources: [FUNCTION_ARN] },
    { actions: ['lambda:UpdateFunctionConfiguration'], resources: [FUNCTION_ARN], tagged: true },
  ],
  run: (where, target, context) => updateConfiguration(where, { MemorySize: Number(where['memory_size']) }, target, context),
});
