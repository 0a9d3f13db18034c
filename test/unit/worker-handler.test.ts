import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { DependencyError, NotFoundError } from '../../functions/domain/errors.js';
import { makeRunTrial, type ExecutorLogger, type RunTrial, type RunTrialOptions } from '../../functions/executor/run-trial.js';
import { ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { makeWorkerHandler, type ScheduleFiring } from '../../functions/worker/handler.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore, StoreUnavailableError } from '../support/memory-stores.js';

const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:kallisti-trials.fifo';
let sequence = 18849496460467696128n;

function fifoRecord(body: string, index: number): SQSRecord {
  sequence += 1n;
  return {
    messageId: `0a1b2c3d-0000-4000-8000-${String(index).padStart(12, '0')}`,
    receiptHandle: `AQEB-receipt-${index}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1714564800000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1714564800100',
      SequenceNumber: sequence.toString(),
      MessageGroupId: 'trials',
      MessageDeduplicationId: `dedup-${index}`,
    },
    messageAttributes: {},
    md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'eu-west-1',
  };
}

function event(...bodies: string[]): SQSEvent {
  return { Records: bodies.map((body, index) => fifoRecord(body, index + 1)) };
}

function context(remainingMs = 900_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:worker',
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/worker',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function recordingLogger(): ExecutorLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => undefined, warn: () => undefined, error: (message) => errors.push(message) };
}

function trialBody(id: string): string {
  return JSON.stringify({ trial_id: id });
}

function fakeRunTrial(fail: Record<string, Error> = {}): RunTrial & { calls: { id: string; options?: RunTrialOptions }[] } {
  const calls: { id: string; options?: RunTrialOptions }[] = [];
  const run = async (id: string, options?: RunTrialOptions) => {
    calls.push({ id, options });
    const error = fail[id];
    if (error) throw error;
    return { outcome: 'ran' as const, status: 'Succeeded' as const };
  };
  return Object.assign(run, { calls });
}

describe('worker handler', () => {
  it('runs each trial in order with a deadline from the remaining time minus the margin', async () => {
    const runTrial = fakeRunTrial();
    const handler = makeWorkerHandler({ runTrial, logger: recordingLogger(), now: () => 1_000_000, safetyMarginMs: 60_000 });

    await expect(handler(event(trialBody('t1'), trialBody('t2')), context(300_000))).resolves.toEqual({ batchItemFailures: [] });

    expect(runTrial.calls).toEqual([
      { id: 't1', options: { deadline: 1_240_000, receipt: 'AQEB-receipt-1', firstDelivery: true } },
      { id: 't2', options: { deadline: 1_240_000, receipt: 'AQEB-receipt-2', firstDelivery: true } },
    ]);
  });

  it('tells the executor a message is on its first delivery only when SQS received it once, and never for a recovery', async () => {
    const runTrial = fakeRunTrial();
    const handler = makeWorkerHandler({ runTrial, logger: recordingLogger(), now: () => 1_000_000, safetyMarginMs: 60_000 });
    const batch = event(trialBody('first'), trialBody('again'), JSON.stringify({ trial_id: 'recovered', recovery: true }));
    (batch.Records[1] as SQSRecord).attributes.ApproximateReceiveCount = '2';

    await handler(batch, context(300_000));

    expect(runTrial.calls.map((c) => [c.id, c.options?.firstDelivery, c.options?.recovery])).toEqual([
      ['first', true, undefined],
      ['again', undefined, undefined],
      ['recovered', undefined, true],
    ]);
  });

  it('reports the failed message and every later one, without running them', async () => {
    const runTrial = fakeRunTrial({ t2: new StoreUnavailableError('trial store unavailable') });
    const handler = makeWorkerHandler({ runTrial, logger: recordingLogger() });
    const batch = event(trialBody('t1'), trialBody('t2'), trialBody('t3'), trialBody('t4'));

    const response = await handler(batch, context());

    expect(response.batchItemFailures).toEqual(batch.Records.slice(1).map((r) => ({ itemIdentifier: r.messageId })));
    expect(runTrial.calls.map((c) => c.id)).toEqual(['t1', 't2']);
  });

  it('reports the whole batch, without throwing, when the first message fails', async () => {
    const runTrial = fakeRunTrial({ t1: new Error('connect ECONNREFUSED') });
    const handler = makeWorkerHandler({ runTrial, logger: recordingLogger() });
    const batch = event(trialBody('t1'), trialBody('t2'));

    const response = await handler(batch, context());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(batch.Records.map((r) => r.messageId));
  });

  it.each([
    ['not JSON', '{"trial_id": '],
    ['a JSON array', '["t1"]'],
    ['JSON without trial_id', '{"id":"t1"}'],
    ['an empty trial_id', '{"trial_id":""}'],
    ['an incomplete schedule firing', '{"kind":"schedule-firing","schedule_id":"s1"}'],
    ['a schedule firing with a negative generation', '{"kind":"schedule-firing","schedule_id":"s","experiment_id":"e","schedule_arn":"a","scheduled_time":"t","generation":-1}'],
    ['a schedule firing with a text generation', '{"kind":"schedule-firing","schedule_id":"s","experiment_id":"e","schedule_arn":"a","scheduled_time":"t","generation":"2"}'],
  ])('acknowledges and logs a malformed body (%s) and goes on', async (_label, body) => {
    const runTrial = fakeRunTrial();
    const logger = recordingLogger();
    const handler = makeWorkerHandler({ runTrial, logger });

    await expect(handler(event(body, trialBody('t2')), context())).resolves.toEqual({ batchItemFailures: [] });

    expect(runTrial.calls.map((c) => c.id)).toEqual(['t2']);
    expect(logger.errors).toEqual(['Message cannot be processed; acknowledged without retry']);
  });

  it('runs a duplicate message only once', async () => {
    const clock = new FakeClock();
    const trials = new MemoryTrialStore();
    const experiments = new MemoryExperimentStore();
    let runs = 0;
    const counter: StepModule = {
      name: 'test.count',
      description: 'counts runs',
      whereSchema: { type: 'object' },
      async run() {
        runs += 1;
        return runs;
      },
    };
    const experiment = makeExperiment({ steps: [{ step: 'count', do: 'test.count', where: {} }] });
    await experiments.create(experiment);
    const trial = makeTrial(experiment.id);
    await trials.create(trial);
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const runTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry([counter]), clock, logger: silent });
    const handler = makeWorkerHandler({ runTrial, logger: silent });

    await expect(handler(event(trialBody(trial.id), trialBody(trial.id)), context())).resolves.toEqual({ batchItemFailures: [] });
    await expect(handler(event(trialBody(trial.id)), context())).resolves.toEqual({ batchItemFailures: [] });

    expect(runs).toBe(1);
    expect(trials.items.get(trial.id)?.status).toBe('Succeeded');
  });

  describe('schedule firings', () => {
    const firing: ScheduleFiring = {
      kind: 'schedule-firing',
      schedule_id: 'sched-1',
      experiment_id: 'exp-1',
      schedule_arn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/kallisti/sched-1',
      scheduled_time: '2024-05-01T12:00:00Z',
    };

    it('acknowledges a firing as a permanent error when no fireSchedule is wired', async () => {
      const runTrial = fakeRunTrial();
      const logger = recordingLogger();
      const handler = makeWorkerHandler({ runTrial, logger });

      await expect(handler(event(JSON.stringify(firing)), context())).resolves.toEqual({ batchItemFailures: [] });
      expect(runTrial.calls).toEqual([]);
      expect(logger.errors).toHaveLength(1);
    });

    it('fires the schedule and runs the trial it returns', async () => {
      const runTrial = fakeRunTrial();
      const fired: ScheduleFiring[] = [];
      const handler = makeWorkerHandler({
        runTrial,
        logger: recordingLogger(),
        fireSchedule: async (f) => {
          fired.push(f);
          return 'trial-from-schedule';
        },
      });

      await expect(handler(event(JSON.stringify({ ...firing, extra: 'ignored' })), context())).resolves.toEqual({ batchItemFailures: [] });

      // SentTimestamp (when Scheduler sent it, jitter included) reaches the firing record as fired_at.
      expect(fired).toEqual([{ ...firing, fired_at: '2024-05-01T12:00:00.000Z' }]);
      expect(runTrial.calls.map((c) => c.id)).toEqual(['trial-from-schedule']);
    });

    it('passes the generation the cloud schedule was armed with to fireSchedule', async () => {
      const fired: ScheduleFiring[] = [];
      const handler = makeWorkerHandler({ runTrial: fakeRunTrial(), logger: recordingLogger(), fireSchedule: async (f) => (fired.push(f), undefined) });

      await handler(event(JSON.stringify({ ...firing, generation: 7 })), context());

      expect(fired).toEqual([{ ...firing, generation: 7, fired_at: '2024-05-01T12:00:00.000Z' }]);
    });

    it('runs nothing when the firing starts no trial', async () => {
      const runTrial = fakeRunTrial();
      const handler = makeWorkerHandler({ runTrial, logger: recordingLogger(), fireSchedule: async () => undefined });

      await expect(handler(event(JSON.stringify(firing)), context())).resolves.toEqual({ batchItemFailures: [] });
      expect(runTrial.calls).toEqual([]);
    });

    it('acknowledges a firing whose schedule is gone but retries one whose dependency failed', async () => {
      const runTrial = fakeRunTrial();
      const errors: Record<string, Error> = { gone: new NotFoundError('schedule deleted'), down: new DependencyError('scheduler unavailable') };
      const handler = makeWorkerHandler({
        runTrial,
        logger: recordingLogger(),
        fireSchedule: async (f) => {
          throw errors[f.schedule_id] as Error;
        },
      });
      const batch = event(JSON.stringify({ ...firing, schedule_id: 'gone' }), JSON.stringify({ ...firing, schedule_id: 'down' }), trialBody('t3'));

      const response = await handler(batch, context());

      expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(batch.Records.slice(1).map((r) => r.messageId));
      expect(runTrial.calls).toEqual([]);
    });
  });

  describe('hand-backs and backoff', () => {
    function recordingVisibility(): { calls: [string, number][]; setVisibility(receipt: string, seconds: number): Promise<void> } {
      const calls: [string, number][] = [];
      return { calls, setVisibility: async (receipt, seconds) => void calls.push([receipt, seconds]) };
    }

    it('hands a parked trial back until it can go on and keeps its message, making later ones visible again', async () => {
      const visibility = recordingVisibility();
      const parked: RunTrial = async () => ({ outcome: 'parked', status: 'In Progress', resumeAt: 1_000_000 + 3_600_000 });
      const handler = makeWorkerHandler({ runTrial: parked, logger: recordingLogger(), visibility, now: () => 1_000_000 });
      const batch = event(trialBody('t1'), trialBody('t2'));

      const response = await handler(batch, context());

      expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(batch.Records.map((r) => r.messageId));
      expect(visibility.calls).toEqual([
        ['AQEB-receipt-1', 3600],
        ['AQEB-receipt-2', 0],
      ]);
    });

    it('never asks for more than SQS allows: 12 hours from the receipt, less a margin', async () => {
      const visibility = recordingVisibility();
      const parked: RunTrial = async () => ({ outcome: 'parked', status: 'In Progress', resumeAt: 1_000_000 + 24 * 3_600_000 });
      const handler = makeWorkerHandler({ runTrial: parked, logger: recordingLogger(), visibility, now: () => 1_000_000 });

      await handler(event(trialBody('t1')), context());

      expect(visibility.calls).toEqual([['AQEB-receipt-1', 12 * 3600 - 300]]);
    });

    it('backs off 15 s, 30 s, 60 s on repeated failures, then gives the message up so the group goes on', async () => {
      const visibility = recordingVisibility();
      const logger = recordingLogger();
      const runTrial = fakeRunTrial({ t1: new StoreUnavailableError('trial store unavailable') });
      const handler = makeWorkerHandler({ runTrial, logger, visibility });
      const batch = event(trialBody('t1'));

      const responses = [];
      for (let i = 0; i < 9; i += 1) responses.push(await handler(batch, context()));

      expect(visibility.calls.map(([, seconds]) => seconds)).toEqual([15, 30, 60, 120, 240, 480, 900, 900]);
      expect(responses.slice(0, 8).every((r) => r.batchItemFailures.length === 1)).toBe(true);
      expect(responses[8]).toEqual({ batchItemFailures: [] });
      expect(logger.errors.at(-1)).toBe('Message given up after repeated failures; acknowledged so the queue moves on');
    });

    it('counts failed messages (a batch item failure is no Lambda error): retried, then given up', async () => {
      const counted: string[] = [];
      const metrics = { record: (name: string, _value: number, dimensions: Record<string, string>) => void counted.push(`${name}:${dimensions['Outcome']}`), flush: () => undefined };
      const handler = makeWorkerHandler({ runTrial: fakeRunTrial({ t1: new StoreUnavailableError('down') }), logger: recordingLogger(), visibility: recordingVisibility(), metrics });
      for (let i = 0; i < 9; i += 1) await handler(event(trialBody('t1')), context());
      expect(counted).toEqual([...Array<string>(8).fill('MessageFailures:retried'), 'MessageFailures:given_up']);
    });

    it("passes the watchdog's recovery flag on, and only on a recovery delivery", async () => {
      const runTrial = fakeRunTrial();
      const handler = makeWorkerHandler({ runTrial, logger: recordingLogger() });
      await handler(event(JSON.stringify({ trial_id: 't1', recovery: true })), context());
      await handler(event(JSON.stringify({ trial_id: 't2', recovery: 'yes' })), context());
      expect(runTrial.calls.map((c) => [c.id, c.options?.recovery])).toEqual([
        ['t1', true],
        ['t2', undefined],
      ]);
    });
  });

  it('hands later messages back to the queue when too little time is left, but always runs the first', async () => {
    let remaining = 200_000;
    const runTrial = fakeRunTrial();
    const spending: RunTrial = async (id, options) => {
      remaining -= 150_000;
      return runTrial(id, options);
    };
    const ctx = { ...context(), getRemainingTimeInMillis: () => remaining };
    const handler = makeWorkerHandler({ runTrial: spending, logger: recordingLogger(), minimumStartMs: 120_000 });
    const batch = event(trialBody('t1'), trialBody('t2'), trialBody('t3'));

    const response = await handler(batch, ctx);

    expect(runTrial.calls.map((c) => c.id)).toEqual(['t1']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(batch.Records.slice(1).map((r) => r.messageId));
  });
});
