import { awsModule } from '../common.js';
import { ASG_ARN, ASG_READS, checkGroups, GROUP_SELECTION, PROCESSES } from './groups.js';
import { changeProcesses } from './processes.js';

/** chaosaws `asg.suspend_processes` (all processes when process_names is absent); records the processes suspended before. */
export const suspendProcesses = awsModule({
  name: 'aws.asg.suspend_processes',
  description: 'Suspends scaling processes of Auto Scaling groups (by asg_names or tags); records what was suspended before.',
  properties: { ...GROUP_SELECTION, process_names: { type: 'array', items: { type: 'string', enum: PROCESSES }, minItems: 1, uniqueItems: true } },
  iam: [ASG_READS, { actions: ['autoscaling:SuspendProcesses'], resources: [ASG_ARN], tagged: true }],
  check: checkGroups,
  run: (where, target, context) => changeProcesses('suspend', where, target, context),
});
