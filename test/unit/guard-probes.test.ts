import type { Guard } from '../../functions/domain/guards.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { validateGuards } from '../../functions/use-cases/validate-experiment.js';

const registry = new ModuleRegistry(DEFAULT_MODULES);
const guard = (step: Partial<Guard>): Guard => ({ step: 'g', do: 'cm.http_probe', where: {}, when: ['during'], ...step });

describe('which commands may guard a trial', () => {
  it('accepts the commands that only observe: HTTP, CloudWatch alarms and metrics, Prometheus queries, EC2 counts', async () => {
    const probes = registry.names().filter((name) => registry.get(name)?.probe === true);
    expect(probes).toEqual(
      expect.arrayContaining([
        'cm.http_probe',
        'cm.http_request',
        'aws.cloudwatch.get_alarm_state_value',
        'aws.cloudwatch.get_metric_data',
        'aws.cloudwatch.get_metric_statistics',
        'prom.query',
        'prom.query_interval',
        'aws.ec2.count_instances',
        'aws.ec2.describe_instances',
      ]),
    );
    expect(await validateGuards([guard({ do: 'aws.cloudwatch.get_alarm_state_value', where: { alarm_name: 'checkout-5xx' }, expect: [{ operator: 'eq', value: 'OK' }] })], registry)).toEqual([]);
    expect(await validateGuards([guard({ do: 'prom.query', where: { base_url: 'http://prometheus:9090', query: 'up' } })], registry)).toEqual([]);
  });

  it('refuses commands that change the system', async () => {
    for (const name of ['cm.wait', 'aws.ec2.stop_instances', 'aws.ec2.terminate_instances']) {
      expect(await validateGuards([guard({ do: name, where: {} })], registry)).toEqual([expect.objectContaining({ path: 'guards[0].do', message: expect.stringContaining('must use a probe command') })]);
    }
  });
});
