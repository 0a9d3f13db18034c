/**
 * `npm run reconcile -- --stage <stage> [--dry-run] [--region <region>]`: runs the
 * deployed schedule reconciler of a stage now, with this shell's AWS credentials
 * (lambda:InvokeFunction on it), and prints its report. Exit code 1 when the
 * function failed or a repair failed, 2 for bad arguments.
 */
import { invokeReconciler } from '../functions/adapters/reconciler/invoke-reconciler.js';
import { reconcilerFunctionName } from '../functions/reconciler/name.js';

function usage(message: string): never {
  console.error(`${message}\nUsage: npm run reconcile -- --stage <stage> [--dry-run] [--region <region>]`);
  process.exit(2);
}

function valueOf(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  if (index >= 0) return argv[index + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const argv = process.argv.slice(2);
const stage = valueOf(argv, 'stage');
if (!stage || !/^[a-z][a-z0-9-]{0,23}$/.test(stage)) usage('--stage is required: the stage as deployed (-c stage=…), lower case, starting with a letter.');
const region = valueOf(argv, 'region');
const dryRun = argv.includes('--dry-run');

const functionName = reconcilerFunctionName(stage);
console.error(`Reconciling schedules of stage ${stage} (${functionName})${dryRun ? ', dry run' : ''}…`);
const result = await invokeReconciler(functionName, { dryRun, ...(region !== undefined && { region }) });
console.log(JSON.stringify(result.payload, null, 2));
const failures = typeof result.payload === 'object' && result.payload !== null ? Number((result.payload as { failures?: unknown }).failures ?? 0) : 0;
if (result.functionError !== undefined) {
  console.error(`The reconciler failed (${result.functionError}); see its log group.`);
  process.exitCode = 1;
} else if (failures > 0) {
  console.error(`${failures} repair(s) failed; see the reconciler's log group.`);
  process.exitCode = 1;
}
