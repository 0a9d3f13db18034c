import { randomInt } from 'node:crypto';
import { StepFailedError } from '../../types.js';
import { awsModule, STRING } from '../common.js';
import { toJsonObject } from '../json.js';
import { callAws } from '../runtime.js';
import { CLUSTER, ecs, ECS_READS, listTasks, safeTask, TASK_ARN } from './tasks.js';

/** chaosaws `ecs.stop_task`: a task by id, or a random task of `service`; the StopTask response. */
export const stopTask = awsModule({
  name: 'aws.ecs.stop_task',
  description: 'Stops an ECS task: task_id, or a random task of service.',
  properties: { cluster: CLUSTER, task_id: { ...STRING, maxLength: 2048 }, service: { ...STRING, maxLength: 2048 }, reason: { type: 'string', maxLength: 255 } },
  iam: [ECS_READS, { actions: ['ecs:StopTask'], resources: [TASK_ARN], tagged: true }],
  check: (where) => (where['task_id'] === undefined && where['service'] === undefined ? [{ path: 'task_id', message: 'is required unless service names the tasks to pick from' }] : []),
  async run(where, target, context) {
    const { sdk, client } = await ecs(target, context);
    const cluster = typeof where['cluster'] === 'string' ? where['cluster'] : undefined;
    let task = typeof where['task_id'] === 'string' ? where['task_id'] : undefined;
    if (task === undefined) {
      const service = String(where['service']);
      const tasks = await listTasks(sdk, client, { ...(cluster && { cluster }), serviceName: service }, target, context);
      if (tasks.length === 0) throw new StepFailedError(`No ECS tasks found for service: ${service}.`);
      task = tasks[randomInt(tasks.length)] as string;
    }
    const input = { ...(cluster && { cluster }), task, reason: typeof where['reason'] === 'string' ? where['reason'] : 'Chaos Testing' };
    const out = await callAws(context, 'ecs:StopTask', target, (abortSignal) => client.send(new sdk.StopTaskCommand(input), { abortSignal }));
    context.log(`Stopped ECS task ${out.task?.taskArn ?? task}.`);
    return { ...toJsonObject({ ...out, task: undefined }), task: safeTask(out.task) };
  },
});
