import { DescribeClustersCommand, DescribeServicesCommand, ECSClient, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { stopRandomTasks } from '../../../functions/modules/aws/ecs/stop-random-tasks.js';
import { stopTask } from '../../../functions/modules/aws/ecs/stop-task.js';
import { ModuleRegistry } from '../../../functions/modules/registry.js';
import { inputsOf, resetAws, runModule } from '../../support/aws.js';

const ecs = mockClient(ECSClient);
const arns = (...ids: string[]) => ids.map((id) => `arn:aws:ecs:eu-west-1:123456789012:task/shop/${id}`);

beforeEach(() => {
  ecs.reset();
  resetAws();
});

describe('aws.ecs.stop_random_tasks', () => {
  beforeEach(() => {
    ecs.on(DescribeClustersCommand).resolves({ clusters: [{ clusterName: 'shop' }] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'web' }] });
    ecs.on(StopTaskCommand).callsFake((input: { task: string }) => ({ task: { taskArn: input.task, desiredStatus: 'STOPPED' } }));
  });

  it('checks cluster and service, lists the running tasks across pages, stops task_percent of them (rounded down)', async () => {
    ecs.on(ListTasksCommand).resolvesOnce({ taskArns: arns('t1', 't2', 't3'), nextToken: 'n' }).resolvesOnce({ taskArns: arns('t4', 't5') });
    const { output } = await runModule(stopRandomTasks, { region: 'eu-west-1', cluster: 'shop', service: 'web', task_percent: 50, reason: 'Game day' });
    expect(inputsOf(ecs, DescribeClustersCommand)).toEqual([{ clusters: ['shop'] }]);
    expect(inputsOf(ecs, DescribeServicesCommand)).toEqual([{ cluster: 'shop', services: ['web'] }]);
    expect(inputsOf(ecs, ListTasksCommand)).toEqual([
      { cluster: 'shop', serviceName: 'web', desiredStatus: 'RUNNING', maxResults: 100 },
      { cluster: 'shop', serviceName: 'web', desiredStatus: 'RUNNING', maxResults: 100, nextToken: 'n' },
    ]);
    const stops = inputsOf(ecs, StopTaskCommand) as { cluster: string; task: string; reason: string }[];
    expect(stops).toHaveLength(2);
    for (const stop of stops) expect(stop).toEqual({ cluster: 'shop', task: expect.stringMatching(/task\/shop\/t[1-5]$/), reason: 'Game day' });
    expect(output).toEqual(stops.map((s) => ({ Task_Id: s.task, Desired_Status: 'STOPPED' })));
  });

  it('stops task_count tasks of the whole cluster with the default reason, and refuses more than are running', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: arns('t1', 't2') });
    await runModule(stopRandomTasks, { region: 'eu-west-1', cluster: 'shop', task_count: 1 });
    expect(inputsOf(ecs, ListTasksCommand)).toEqual([{ cluster: 'shop', desiredStatus: 'RUNNING', maxResults: 100 }]);
    expect((inputsOf(ecs, StopTaskCommand)[0] as { reason: string }).reason).toBe('Chaos Testing');
    await expect(runModule(stopRandomTasks, { region: 'eu-west-1', cluster: 'shop', task_count: 3 })).rejects.toThrow('Not enough running tasks in shop: count 3 but 2 match.');
  });

  it('names a cluster that does not exist, before listing anything', async () => {
    ecs.on(DescribeClustersCommand).resolves({ clusters: [], failures: [{ reason: 'MISSING' }] });
    await expect(runModule(stopRandomTasks, { region: 'eu-west-1', cluster: 'nope', task_count: 1 })).rejects.toThrow('Not found: ECS cluster nope in eu-west-1.');
    expect(ecs.commandCalls(ListTasksCommand)).toHaveLength(0);
  });

  it('needs exactly one of task_count and task_percent when saved', async () => {
    const registry = new ModuleRegistry([stopRandomTasks]);
    expect(await registry.validateWhere('aws.ecs.stop_random_tasks', { cluster: 'shop' }, 'w', true)).toEqual([{ path: 'w.task_count', message: 'give exactly one of task_count and task_percent' }]);
    expect(await registry.validateWhere('aws.ecs.stop_random_tasks', { cluster: 'shop', task_count: 1, task_percent: 5 }, 'w', true)).toHaveLength(1);
  });
});

describe('aws.ecs.stop_task', () => {
  it('stops the task given, and hides environment override values in the output', async () => {
    ecs.on(StopTaskCommand).resolves({
      task: { taskArn: arns('t1')[0], desiredStatus: 'STOPPED', overrides: { containerOverrides: [{ name: 'web', environment: [{ name: 'API_KEY', value: 'sk-live-123' }] }] } },
    });
    const { output } = await runModule(stopTask, { region: 'eu-west-1', cluster: 'shop', task_id: 't1' });
    expect(inputsOf(ecs, StopTaskCommand)).toEqual([{ cluster: 'shop', task: 't1', reason: 'Chaos Testing' }]);
    expect(output).toEqual({ task: { taskArn: arns('t1')[0], desiredStatus: 'STOPPED', overrides: { containerOverrides: [{ name: 'web', environment: [{ name: 'API_KEY', value: '***' }] }] } } });
  });

  it('picks a random task of the service when no task_id is given', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: arns('t1', 't2') });
    ecs.on(StopTaskCommand).resolves({ task: { taskArn: arns('t2')[0] } });
    await runModule(stopTask, { region: 'eu-west-1', cluster: 'shop', service: 'web' });
    expect(inputsOf(ecs, ListTasksCommand)).toEqual([{ cluster: 'shop', serviceName: 'web', maxResults: 100 }]);
    expect(arns('t1', 't2')).toContain((inputsOf(ecs, StopTaskCommand)[0] as { task: string }).task);
  });
});
