import type { JsonObject } from '../../../domain/types.js';
import type { StepContext } from '../../types.js';
import { toJson } from '../json.js';
import { callAws, type AwsTarget } from '../runtime.js';
import { autoscaling, findGroups } from './groups.js';

/**
 * Suspends or resumes processes on every selected group, then returns the groups as
 * they are now (chaosaws returns DescribeAutoScalingGroups) plus, per group, the
 * processes suspended before the step in `previous.SuspendedProcesses`.
 */
export async function changeProcesses(kind: 'suspend' | 'resume', where: JsonObject, target: AwsTarget, context: StepContext): Promise<JsonObject> {
  const { sdk, client } = await autoscaling(target, context);
  const groups = await findGroups(sdk, client, where, target, context);
  const processes = where['process_names'] as string[] | undefined;
  const previous: JsonObject = {};
  for (const group of groups) {
    const name = group.AutoScalingGroupName as string;
    previous[name] = (group.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter((p) => p !== '');
    const input = { AutoScalingGroupName: name, ...(processes && { ScalingProcesses: processes }) };
    if (kind === 'suspend') await callAws(context, 'autoscaling:SuspendProcesses', target, (abortSignal) => client.send(new sdk.SuspendProcessesCommand(input), { abortSignal }));
    else await callAws(context, 'autoscaling:ResumeProcesses', target, (abortSignal) => client.send(new sdk.ResumeProcessesCommand(input), { abortSignal }));
    context.log(`${kind === 'suspend' ? 'Suspended' : 'Resumed'} ${processes ? processes.join(', ') : 'all processes'} on ${name}.`);
  }
  const names = groups.map((g) => g.AutoScalingGroupName as string);
  const after = await callAws(context, 'autoscaling:DescribeAutoScalingGroups', target, (abortSignal) =>
    client.send(new sdk.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names, MaxRecords: 100 }), { abortSignal }),
  );
  return { AutoScalingGroups: toJson(after.AutoScalingGroups ?? []), previous: { SuspendedProcesses: previous } };
}
