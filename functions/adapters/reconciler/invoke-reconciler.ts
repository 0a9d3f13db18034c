import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

export interface InvokeResult {
  /** The function's answer: the reconciliation report, or Lambda's error document. */
  payload: unknown;
  /** Set when the function failed (Lambda's FunctionError: `Unhandled`). */
  functionError?: string;
}

/** Runs the deployed reconciler once, synchronously, and returns what it answered. */
export async function invokeReconciler(functionName: string, options: { dryRun: boolean; region?: string }): Promise<InvokeResult> {
  const client = new LambdaClient(options.region ? { region: options.region } : {});
  try {
    const response = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify({ source: 'manual', dryRun: options.dryRun })) }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : 'null';
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
    return { payload, ...(response.FunctionError !== undefined && { functionError: response.FunctionError }) };
  } finally {
    client.destroy();
  }
}
