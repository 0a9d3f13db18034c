import { awsModule } from '../common.js';
import { ASG_ARN, ASG_READS, checkGroups, GROUP_SELECTION, PROCESSES } from './groups.js';
import { changeProcesses } from './processes.js';

/** chaosaws `asg.resume_processes` (all suspended processes when process_names is absent). */
export const resumeProcesses = awsModule({
  name: 'aws.asg.resume_processes',
  description: 'Resumes suspended scaling processes of Auto Scaling groups (by asg_names or tags).',
  properties: { ...GROUP_SELECTION, process_names: { type: 'array', items: { type: 'string', enum: PROCESSES }, minItems: 1, uniqueItems: true } },
  iam: [ASG_READS, { actions: ['autoscaling:ResumeProcesses'], resources: [ASG_ARN], tagged: true }],
  check: checkGroups,
  run: (where, target, context) => changeProcesses('resume', where, target, context),
});
