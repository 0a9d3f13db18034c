import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeInstancesCommand, EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { setHttpPolicy } from '../../functions/modules/cm/http.js';
import { configuredModules, ModuleRegistry } from '../../functions/modules/registry.js';
import { validateSteps } from '../../functions/use-cases/validate-experiment.js';
import { systemClock } from '../../functions/wiring.js';
import { startApiHarness } from '../support/api-harness.js';
import { inputsOf, resetAws } from '../support/aws.js';

/**
 * An experiment written for Kallisti, its steps as Kallisti's module documentation shows
 * them (docs/modules.md: `aws.<service>.<action>` with `region`; `prom.query` with
 * `base_url`, `query`, `when`), plus the expectations a Kallisti user would write.
 */
const kallistiExperiment = {
  name: 'Stop an EC2 instance and watch CPU',
  description: 'Stops the instance behind the service and checks Prometheus still answers.',
  steps: [
    {
      step: 'Stop EC2 instances in us-east-1a',
      do: 'aws.ec2.stop_instances',
      where: { region: 'us-east-1', instance_ids: ['i-0abc1234567890def'], az: 'us-east-1a' },
      expect: [{ operator: 'eq', '0.StoppingInstances.0.CurrentState.Name': 'stopping' }],
    },
    {
      step: 'Query CPU Percentage',
      do: 'prom.query',
      where: { base_url: 'https://your.prometheus.net', query: 'firehose_container_metric_cpu_percentage', when: '5 minutes ago' },
      expect: [{ operator: 'eq', status: 'success' }],
    },
  ],
};

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
let api: Harness;
const ec2 = mockClient(EC2Client);
let prometheus: Server;
let prometheusUrl: string;

beforeAll(async () => {
  setHttpPolicy({ allowLinkLocal: false, blockLoopback: false });
  prometheus = createServer((req, res) => {
    const ok = req.url?.startsWith('/api/v1/query?');
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1767322800, '37.5'] }] } }));
  });
  await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
  prometheusUrl = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => prometheus.close(resolve));
});
beforeEach(async () => {
  ec2.reset();
  resetAws();
  api = await startApiHarness();
});
afterEach(() => api.close());

describe('a Kallisti experiment with aws.ec2.stop_instances and prom.query', () => {
  it('is accepted unchanged', async () => {
    const res = await api.call('POST', '/experiment', kallistiExperiment);
    expect(res.body).toMatchObject({ id: expect.any(String) });
    expect(res.status).toBe(201);
    const id = (res.body as { id: string }).id;
    const stored = await api.call('GET', `/experiment/${id}`);
    expect((stored.body as { steps: unknown }).steps).toEqual(kallistiExperiment.steps);
  });

  it('runs: the instance is stopped through EC2 and Prometheus is queried, both expectations met', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0abc1234567890def' }] }] });
    ec2.on(StopInstancesCommand).resolves({ StoppingInstances: [{ InstanceId: 'i-0abc1234567890def', CurrentState: { Code: 64, Name: 'stopping' }, PreviousState: { Code: 16, Name: 'running' } }] });
    const local = structuredClone(kallistiExperiment) as { steps: { where: Record<string, unknown> }[] };
    (local.steps[1] as { where: Record<string, unknown> }).where['base_url'] = prometheusUrl;
    const created = await api.call('POST', '/experiment', local);
    const trial = await api.call('POST', '/trial', { experiment: (created.body as { id: string }).id });
    expect(trial.status).toBe(201);
    const runTrial = makeRunTrial({ trials: api.trials, experiments: api.experiments, registry: api.useCases.registry, clock: systemClock, logger: { debug() {}, info() {}, warn() {}, error() {} } as never });
    const result = await runTrial((trial.body as { id: string }).id);
    expect(result).toEqual({ outcome: 'ran', status: 'Succeeded' });
    expect(inputsOf(ec2, StopInstancesCommand)).toEqual([{ InstanceIds: ['i-0abc1234567890def'], Force: false }]);
    const record = (await api.call('GET', `/trial/${(trial.body as { id: string }).id}`)).body as { trial_record: { steps: { logs: string[] }[] } };
    expect(record.trial_record.steps[0]?.logs.join('\n')).toContain('Expectation passed: 0.StoppingInstances.0.CurrentState.Name eq "stopping"');
    expect(record.trial_record.steps[1]?.logs.join('\n')).toContain('Expectation passed: status eq "success"');
  });

  it('is rejected as an unknown command when the aws namespace is off', async () => {
    const registry = new ModuleRegistry(configuredModules({ KALLISTI_AWS_MODULES: 'off' }));
    expect(await validateSteps(kallistiExperiment as never, registry)).toEqual([{ path: 'steps[0].do', message: expect.stringContaining('unknown step command "aws.ec2.stop_instances"') }]);
  });
});
