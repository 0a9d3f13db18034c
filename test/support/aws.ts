import type { Json, JsonObject } from '../../functions/domain/types.js';
import { resetAwsClients } from '../../functions/modules/aws/runtime.js';
import { awsSettingsFromEnv, setAwsSettings } from '../../functions/modules/aws/settings.js';
import { StepSuspension, type StepModule } from '../../functions/modules/types.js';

export const ROLE = 'arn:aws:iam::210987654321:role/chaos-target';

/** Settings the AWS module tests share: quick retries, one allowed role, the default chaos tag. */
export function resetAws(): void {
  resetAwsClients();
  setAwsSettings({ ...awsSettingsFromEnv({}), allowedRoleArns: [ROLE], chaosTag: 'chaos-allowed=true', defaultRegion: undefined, retryBaseMs: 1, maxAttempts: 3, pollIntervalMs: 1, lambdaUpdateTimeoutMs: 120_000 });
}

/** Runs a step module as the executor does, collecting its log lines. */
export async function runModule(module: StepModule, where: JsonObject, signal: AbortSignal = new AbortController().signal): Promise<{ output: Json; logs: string[] }> {
  const logs: string[] = [];
  const output = await module.run(where, { signal, log: (line) => logs.push(line) });
  if (output instanceof StepSuspension) throw new Error(`${module.name} suspended; runModule expects it to finish`);
  return { output, logs };
}

/** An error shaped as the SDK throws it for a service error response. */
export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

/** The inputs of every call of one command, in order. */
export function inputsOf(mock: { commandCalls: (command: never) => { args: [{ input: unknown }] }[] }, command: unknown): unknown[] {
  return mock.commandCalls(command as never).map((call) => call.args[0].input);
}
