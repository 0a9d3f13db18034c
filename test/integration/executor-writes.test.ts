import type { Context, SQSRecord } from 'aws-lambda';
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import type { Step } from '../../functions/domain/experiment.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { systemClock } from '../../functions/wiring.js';
import { makeWorkerHandler } from '../../functions/worker/handler.js';
import { CommandCounter } from '../../bench/lib/command-counter.js';
import { startTestDynamo } from '../support/dynamo.js';
import { makeExperiment, makeTrial } from '../support/memory-stores.js';

/**
 * What a short trial costs in DynamoDB writes, counted on the stores' own client (the
 * benchmark's counter) against dynalite, with the capacity dynalite reports for each call.
 * Target: one write per step and two per trial (the start and the final status).
 */
type Dynamo = Awaited<ReturnType<typeof startTestDynamo>>;
let dynamo: Dynamo;
let trials: DynamoTrialStore;
let experiments: DynamoExperimentStore;
let counter: CommandCounter;
let seq = 0;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

const noop: StepModule = {
  name: 'test.noop',
  description: 'does nothing',
  whereSchema: { type: 'object' },
  async run() {
    return { ok: true };
  },
};

beforeAll(async () => {
  dynamo = await startTestDynamo();
  trials = new DynamoTrialStore(dynamo.documentClient, dynamo.tableName);
  experiments = new DynamoExperimentStore(dynamo.documentClient, dynamo.tableName);
  counter = new CommandCounter().attach(dynamo.documentClient);
  counter.capacity = true;
});
afterAll(() => dynamo.close());

const runTrial = () => makeRunTrial({ trials, experiments, registry: new ModuleRegistry([...DEFAULT_MODULES, noop]), clock: systemClock, logger: silent });

async function scheduledTrial(stepCount: number): Promise<string> {
  seq += 1;
  const steps: Step[] = Array.from({ length: stepCount }, (_, i) => ({ step: `step ${i + 1}`, do: 'test.noop', where: {} }));
  const experiment = makeExperiment({ steps });
  await experiments.create(experiment);
  const trial = makeTrial(experiment.id, { id: `30000000-0000-4000-8000-${String(seq).padStart(12, '0')}`, created_at: new Date().toISOString(), initiated_by: 'alice' });
  await trials.create(trial);
  return trial.id;
}

function sqsRecord(trialId: string, receiveCount: number): SQSRecord {
  return {
    messageId: `m-${trialId}-${receiveCount}`,
    receiptHandle: `r-${trialId}-${receiveCount}`,
    body: JSON.stringify({ trial_id: trialId }),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()), SequenceNumber: '1', MessageGroupId: 'trials', MessageDeduplicationId: trialId },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:trials.fifo',
    awsRegion: 'eu-west-1',
  };
}

const lambdaContext = { getRemainingTimeInMillis: () => 900_000 } as unknown as Context;

describe('store writes of a short trial', () => {
  it.each([1, 3])('costs one write per step and two per trial (%i step(s)), in calls and in table write units, on its message’s first delivery', async (stepCount) => {
    const id = await scheduledTrial(stepCount);
    const handler = makeWorkerHandler({ runTrial: runTrial(), logger: silent });
    counter.reset();

    await expect(handler({ Records: [sqsRecord(id, 1)] }, lambdaContext)).resolves.toEqual({ batchItemFailures: [] });

    const counts = counter.take();
    expect({ writes: counts.writes, refused: counts.failedConditionalWrites, units: counts.writeUnits }).toEqual({ writes: stepCount + 2, refused: 0, units: stepCount + 2 });
    const stored = await trials.get(id);
    expect(stored?.status).toBe('Succeeded');
    expect(stored?.trial_record.steps).toHaveLength(stepCount);
    expect(stored?.trial_record.result).toEqual([{ step_name: 'result', step_parameters: {}, logs: [expect.stringContaining('Trial Succeeded.')] }]);
  });

  it('claims first on a redelivered message, and a first-delivery hint that is wrong still resumes the parked trial from its checkpoint', async () => {
    const id = await scheduledTrial(2);
    const run = runTrial();
    // The first slice yields at its first step boundary and parks, as one whose budget is spent.
    await expect(run(id, { firstDelivery: true, yieldSignal: AbortSignal.abort() })).resolves.toMatchObject({ outcome: 'parked' });
    const calls: string[] = [];
    counter.onCall = (call) => calls.push(`${call.command}${call.failed ? ' (refused)' : ''}`);
    try {
      // Delivered again (count 2): the claim is the slice's first call, and it succeeds.
      await expect(run(id, { yieldSignal: AbortSignal.abort() })).resolves.toMatchObject({ outcome: 'parked' });
      expect(calls[0]).toBe('UpdateItemCommand');
      calls.length = 0;
      // Said to be a first delivery although the trial runs: read first, then claimed; never started again.
      await expect(run(id, { firstDelivery: true })).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
      expect(calls.slice(0, 2)).toEqual(['GetItemCommand', 'UpdateItemCommand']);
      expect(calls.filter((call) => call.endsWith('(refused)'))).toEqual([]);
    } finally {
      counter.onCall = undefined;
    }
    const stored = await trials.get(id);
    expect(stored?.invocations).toBe(3);
    expect(stored?.trial_record.steps.map((entry) => entry.step_name)).toEqual(['step 1', 'step 2']);
  });
});
