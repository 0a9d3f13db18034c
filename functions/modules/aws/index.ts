import type { StepModule } from '../types.js';
import { countInstances } from './ec2/count-instances.js';
import { describeInstances } from './ec2/describe-instances.js';
import { restartInstances } from './ec2/restart-instances.js';
import { startInstances } from './ec2/start-instances.js';
import { stopInstance } from './ec2/stop-instance.js';
import { stopInstances } from './ec2/stop-instances.js';
import { terminateInstance } from './ec2/terminate-instance.js';
import { terminateInstances } from './ec2/terminate-instances.js';

/**
 * The `aws` namespace: chaosaws activities by their names (`aws.<service>.<function>`).
 * Each file imports its SDK client only when a step runs it.
 */
export const AWS_MODULES: readonly StepModule[] = [
  stopInstances,
  stopInstance,
  startInstances,
  terminateInstances,
  terminateInstance,
  restartInstances,
  describeInstances,
  countInstances,
];
