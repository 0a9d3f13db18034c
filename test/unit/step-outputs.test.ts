import { DeleteFunctionConcurrencyCommand, GetFunctionConcurrencyCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { ExperimentDefinition } from '../../functions/domain/experiment.js';
import { interpolate, missingParameters } from '../../functions/domain/templating.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { validateSteps } from '../../functions/use-cases/validate-experiment.js';
import { inputsOf, resetAws } from '../support/aws.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const lambda = mockClient(LambdaClient);

/** The README's revert pattern: throttle a function, then put back what it had. */
const throttleAndRestore: ExperimentDefinition = {
  name: 'Throttle checkout',
  steps: [{ step: 'throttle', do: 'aws.awslambda.put_function_concurrency', where: { region: 'eu-west-1', function_name: 'checkout', concurrent_executions: 0 } }],
  post_steps: [
    {
      step: 'restore',
      do: 'aws.awslambda.put_function_concurrency',
      where: { region: 'eu-west-1', function_name: 'checkout', concurrent_executions: '{{ steps.throttle.previous.ReservedConcurrentExecutions }}' },
    },
  ],
};

async function run(definition: ExperimentDefinition) {
  const trials = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const experiment = makeExperiment(definition);
  await experiments.create(experiment);
  const trial = makeTrial(experiment.id);
  await trials.create(trial);
  const runTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: new FakeClock(), logger: silent });
  const result = await runTrial(trial.id);
  return { result, stored: trials.items.get(trial.id) };
}

beforeEach(() => {
  lambda.reset();
  resetAws();
});

describe('{{ steps.<name>.<path> }}: an earlier step’s output in a later step', () => {
  it('restores the reserved concurrency a step recorded as previous', async () => {
    lambda.on(GetFunctionConcurrencyCommand).resolvesOnce({ ReservedConcurrentExecutions: 25 }).resolves({ ReservedConcurrentExecutions: 0 });
    lambda.on(PutFunctionConcurrencyCommand).resolves({});
    const { result } = await run(throttleAndRestore);
    expect(result).toEqual({ outcome: 'ran', status: 'Succeeded' });
    expect(inputsOf(lambda, PutFunctionConcurrencyCommand)).toEqual([
      { FunctionName: 'checkout', ReservedConcurrentExecutions: 0 },
      { FunctionName: 'checkout', ReservedConcurrentExecutions: 25 },
    ]);
  });

  it('removes the reservation again when there was none before (previous is null)', async () => {
    lambda.on(GetFunctionConcurrencyCommand).resolves({});
    lambda.on(PutFunctionConcurrencyCommand).resolves({});
    lambda.on(DeleteFunctionConcurrencyCommand).resolves({});
    await run(throttleAndRestore);
    expect(inputsOf(lambda, PutFunctionConcurrencyCommand)).toEqual([{ FunctionName: 'checkout', ReservedConcurrentExecutions: 0 }]);
    expect(inputsOf(lambda, DeleteFunctionConcurrencyCommand)).toEqual([{ FunctionName: 'checkout' }]);
  });

  it('does not start a step whose reference names no output, and says why', async () => {
    lambda.on(GetFunctionConcurrencyCommand).rejects(Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }));
    const { result, stored } = await run(throttleAndRestore);
    expect(result).toEqual({ outcome: 'ran', status: 'Failed' });
    const restore = stored?.trial_record.post_steps[0]?.logs.join('\n') ?? '';
    expect(restore).toContain('Not started: {{ steps.throttle.previous.ReservedConcurrentExecutions }} names no output of an earlier step of this run');
    expect(inputsOf(lambda, PutFunctionConcurrencyCommand)).toEqual([]);
  });

  it('is accepted when the experiment is saved, and is never a missing parameter', async () => {
    expect(await validateSteps(throttleAndRestore, new ModuleRegistry(DEFAULT_MODULES))).toEqual([]);
    expect(missingParameters(throttleAndRestore.post_steps ?? [], {})).toEqual([]);
  });
});

describe('dotted placeholders', () => {
  it('read fields and array items of object values, keeping their type', () => {
    const params = { cfg: { url: 'http://x', ports: [80, 443], none: null }, steps: { a: { n: 2 } } };
    expect(interpolate({ u: '{{ cfg.url }}', p: '{{ cfg.ports.1 }}', z: '{{ cfg.none }}', s: 'n={{ steps.a.n }}' }, params)).toEqual({ u: 'http://x', p: 443, z: null, s: 'n=2' });
  });

  it('leave a path that does not exist untouched and report it missing, never reading prototype properties', () => {
    expect(interpolate('{{ cfg.nope }} {{ cfg.constructor }}', { cfg: {} })).toBe('{{ cfg.nope }} {{ cfg.constructor }}');
    expect(missingParameters([{ step: 's', do: 'cm.wait', where: { a: '{{ cfg.nope }}' } }], { cfg: {} })).toEqual(['cfg.nope']);
  });
});
