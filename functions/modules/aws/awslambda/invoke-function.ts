import type { Json } from '../../../domain/types.js';
import { awsModule, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { FUNCTION_ARN, FUNCTION_NAME, lambda } from './functions.js';

/** Lambda's synchronous payload limit; a larger answer is cut in the record. */
const MAX_PAYLOAD_CHARS = 256 * 1024;

function decodePayload(bytes: Uint8Array | undefined): Json {
  if (!bytes || bytes.length === 0) return null;
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text.length > MAX_PAYLOAD_CHARS ? `${text.slice(0, MAX_PAYLOAD_CHARS)}…` : text;
  }
}

/**
 * chaosaws `awslambda.invoke_function`: the Invoke response with `Payload` parsed as
 * JSON (or kept as text). A function error does not fail the step: judge
 * `FunctionError` / `StatusCode` with `expect`, as chaosaws leaves it to tolerances.
 */
export const invokeFunction = awsModule({
  name: 'aws.awslambda.invoke_function',
  description: 'Invokes a Lambda function with function_arguments as its JSON payload.',
  properties: {
    function_name: FUNCTION_NAME,
    function_arguments: {},
    invocation_type: { type: 'string', enum: ['RequestResponse', 'Event', 'DryRun'] },
    client_context: { type: 'object' },
    qualifier: STRING,
  },
  required: ['function_name'],
  iam: [{ actions: ['lambda:InvokeFunction'], resources: [FUNCTION_ARN], tagged: true }],
  async run(where, target, context) {
    const { sdk, client } = await lambda(target, context);
    const input = {
      FunctionName: String(where['function_name']),
      InvocationType: (where['invocation_type'] as 'RequestResponse' | 'Event' | 'DryRun' | undefined) ?? 'RequestResponse',
      LogType: 'None' as const,
      ...(where['function_arguments'] !== undefined && { Payload: Buffer.from(JSON.stringify(where['function_arguments'])) }),
      ...(where['client_context'] !== undefined && { ClientContext: Buffer.from(JSON.stringify(where['client_context'])).toString('base64') }),
      ...(typeof where['qualifier'] === 'string' && { Qualifier: where['qualifier'] }),
    };
    const out = await callAws(context, 'lambda:InvokeFunction', target, (abortSignal) => client.send(new sdk.InvokeCommand(input), { abortSignal }));
    const { Payload, ...rest } = out;
    return { ...toJsonObject(rest), Payload: decodePayload(Payload) };
  },
});
