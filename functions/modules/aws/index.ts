import type { StepModule } from '../types.js';
import { resumeProcesses } from './asg/resume-processes.js';
import { suspendProcesses } from './asg/suspend-processes.js';
import { terminateRandomInstances } from './asg/terminate-random-instances.js';
import { deleteFunctionConcurrency } from './awslambda/delete-function-concurrency.js';
import { invokeFunction } from './awslambda/invoke-function.js';
import { putFunctionConcurrency } from './awslambda/put-function-concurrency.js';
import { putFunctionMemorySize } from './awslambda/put-function-memory-size.js';
import { putFunctionTimeout } from './awslambda/put-function-timeout.js';
import { getAlarmStateValue } from './cloudwatch/get-alarm-state-value.js';
import { getMetricData } from './cloudwatch/get-metric-data.js';
import { getMetricStatistics } from './cloudwatch/get-metric-statistics.js';
import { countInstances } from './ec2/count-instances.js';
import { describeInstances } from './ec2/describe-instances.js';
import { restartInstances } from './ec2/restart-instances.js';
import { startInstances } from './ec2/start-instances.js';
import { stopInstance } from './ec2/stop-instance.js';
import { stopInstances } from './ec2/stop-instances.js';
import { terminateInstance } from './ec2/terminate-instance.js';
import { terminateInstances } from './ec2/terminate-instances.js';
import { stopRandomTasks } from './ecs/stop-random-tasks.js';
import { stopTask } from './ecs/stop-task.js';
import { getExperiment } from './fis/get-experiment.js';
import { startExperiment } from './fis/start-experiment.js';
import { stopExperiment } from './fis/stop-experiment.js';
import { failoverDbCluster } from './rds/failover-db-cluster.js';
import { rebootDbInstance } from './rds/reboot-db-instance.js';
import { sendCommand } from './ssm/send-command.js';

/**
 * The `aws` namespace: chaosaws activities by their names (`aws.<service>.<function>`).
 * Each file imports its SDK client only when a step runs it; each declares the IAM
 * actions it needs, from which the deployment builds the worker's policy.
 */
export const AWS_MODULES: readonly StepModule[] = [
  startExperiment,
  stopExperiment,
  getExperiment,
  stopInstances,
  stopInstance,
  startInstances,
  terminateInstances,
  terminateInstance,
  restartInstances,
  describeInstances,
  countInstances,
  stopTask,
  stopRandomTasks,
  putFunctionConcurrency,
  deleteFunctionConcurrency,
  putFunctionTimeout,
  putFunctionMemorySize,
  invokeFunction,
  rebootDbInstance,
  failoverDbCluster,
  suspendProcesses,
  resumeProcesses,
  terminateRandomInstances,
  sendCommand,
  getAlarmStateValue,
  getMetricStatistics,
  getMetricData,
];
