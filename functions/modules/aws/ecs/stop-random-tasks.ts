import type { Json } from '../../../domain/types.js';
import { awsModule, COUNT, PERCENT } from '../common.js';
import { howMany, sample } from '../ec2/instances.js';
import { callAws } from '../runtime.js';
import { assertExists, CLUSTER, ecs, ECS_READS, listTasks, TASK_ARN } from './tasks.js';

/**
 * chaosaws `ecs.stop_random_tasks`: `task_count` or `task_percent` (rounded down) of the
 * running tasks of the cluster or of `service`; returns `[{ Task_Id, Desired_Status }]`.
 */
export const stopRandomTasks = awsModule({
  name: 'aws.ecs.stop_random_tasks',
  description: 'Stops a count or percent of the running tasks of an ECS cluster or service, chosen at random.',
  properties: { cluster: CLUSTER, task_count: COUNT, task_percent: PERCENT, service: CLUSTER, reason: { type: 'string', maxLength: 255 } },
  required: ['cluster'],
  iam: [ECS_READS, { actions: ['ecs:StopTask'], resources: [TASK_ARN], tagged: true }],
  check: (where) =>
    (where['task_count'] === undefined) === (where['task_percent'] === undefined) ? [{ path: 'task_count', message: 'give exactly one of task_count and task_percent' }] : [],
  async run(where, target, context) {
    const { sdk, client } = await ecs(target, context);
    const cluster = String(where['cluster']);
    const service = typeof where['service'] === 'string' ? where['service'] : undefined;
    await assertExists(sdk, client, cluster, service, target, context);
    const tasks = await listTasks(sdk, client, { cluster, ...(service && { serviceName: service }), desiredStatus: 'RUNNING' }, target, context);
    const n = howMany({ count: where['task_count'] ?? null, percent: where['task_percent'] ?? null }, tasks.length, `running tasks in ${cluster}`);
    const chosen = sample(tasks, n);
    const reason = typeof where['reason'] === 'string' ? where['reason'] : 'Chaos Testing';
    const results: Json[] = [];
    for (const task of chosen) {
      const out = await callAws(context, 'ecs:StopTask', target, (abortSignal) => client.send(new sdk.StopTaskCommand({ cluster, task, reason }), { abortSignal }));
      results.push({ Task_Id: out.task?.taskArn ?? task, Desired_Status: out.task?.desiredStatus ?? null });
    }
    context.log(`Stopped ${results.length} of ${tasks.length} running task(s) in ${cluster}${service ? `/${service}` : ''}.`);
    return results;
  },
});
