import type { StepModule } from './types.js';

/**
 * The step commands by namespace, without their code: what a process needs to know
 * before it runs or checks a step (which names exist, which namespace holds each).
 * Each namespace's definitions (schemas, IAM grants, implementations) load on the
 * first use of one of its commands, so a Lambda's cold start loads none of them and
 * a trial loads only the namespaces it uses. test/unit/module-catalog.test.ts keeps
 * these names equal to the namespaces' own lists.
 */
export interface LazyNamespace {
  readonly namespace: string;
  /** The commands it defines, `namespace.command`. */
  readonly names: readonly string[];
  load(): Promise<readonly StepModule[]>;
}

export const MODULE_CATALOG: readonly LazyNamespace[] = [
  {
    namespace: 'cm',
    names: ['cm.http_probe', 'cm.http_request', 'cm.wait'],
    load: async () => (await import('./cm/index.js')).CM_MODULES,
  },
  {
    namespace: 'prom',
    names: ['prom.query', 'prom.query_interval'],
    load: async () => (await import('./prom/index.js')).PROM_MODULES,
  },
  {
    namespace: 'aws',
    names: [
      'aws.fis.start_experiment',
      'aws.fis.stop_experiment',
      'aws.fis.get_experiment',
      'aws.ec2.stop_instances',
      'aws.ec2.stop_instance',
      'aws.ec2.start_instances',
      'aws.ec2.terminate_instances',
      'aws.ec2.terminate_instance',
      'aws.ec2.restart_instances',
      'aws.ec2.describe_instances',
      'aws.ec2.count_instances',
      'aws.ecs.stop_task',
      'aws.ecs.stop_random_tasks',
      'aws.awslambda.put_function_concurrency',
      'aws.awslambda.delete_function_concurrency',
      'aws.awslambda.put_function_timeout',
      'aws.awslambda.put_function_memory_size',
      'aws.awslambda.invoke_function',
      'aws.rds.reboot_db_instance',
      'aws.rds.failover_db_cluster',
      'aws.asg.suspend_processes',
      'aws.asg.resume_processes',
      'aws.asg.terminate_random_instances',
      'aws.ssm.send_command',
      'aws.cloudwatch.get_alarm_state_value',
      'aws.cloudwatch.get_metric_statistics',
      'aws.cloudwatch.get_metric_data',
    ],
    load: async () => (await import('./aws/index.js')).AWS_MODULES,
  },
];

/**
 * The namespaces a deployment offers: all of them, except `aws` when
 * KALLISTI_AWS_MODULES=off (the CDK context flag awsModules=false sets it, and then
 * grants the worker no AWS permission for them either).
 */
export function configuredCatalog(env: NodeJS.ProcessEnv, catalog: readonly LazyNamespace[] = MODULE_CATALOG): LazyNamespace[] {
  const aws = env['KALLISTI_AWS_MODULES'];
  if (aws !== undefined && aws !== '' && aws !== 'on' && aws !== 'off') throw new Error(`KALLISTI_AWS_MODULES must be "on" or "off", got "${aws}"`);
  return catalog.filter((ns) => !(aws === 'off' && ns.namespace === 'aws'));
}

/** The same namespaces with `wrap` applied to each command once it has loaded (e.g. to observe its runs). */
export function wrapNamespaces(catalog: readonly LazyNamespace[], wrap: (modules: readonly StepModule[]) => readonly StepModule[]): LazyNamespace[] {
  return catalog.map((ns) => ({ ...ns, load: async () => wrap(await ns.load()) }));
}
