import { awsModule } from '../common.js';
import { FUNCTION_ARN, FUNCTION_NAME, updateConfiguration } from './functions.js';

/** chaosaws `awslambda.put_function_timeout` (seconds); the output is the new configuration plus `previous.Timeout`. */
export const putFunctionTimeout = awsModule({
  name: 'aws.awslambda.put_function_timeout',
  description: 'Sets the timeout (s) of a Lambda function and waits until it applies; records the previous value.',
  properties: { function_name: FUNCTION_NAME, timeout: { type: 'integer', minimum: 1, maximum: 900 } },
  required: ['function_name', 'timeout'],
  iam: [
    { actions: ['lambda:GetFunctionConfiguration'], resources: [FUNCTION_ARN] },
    { actions: ['lambda:UpdateFunctionConfiguration'], resources: [FUNCTION_ARN], tagged: true },
  ],
  run: (where, target, context) => updateConfiguration(where, { Timeout: Number(where['timeout']) }, target, context),
});
