/**
 * One slice hand-off: a trial that cannot go on in this invocation saves its
 * checkpoint, the worker hands its message back (ChangeMessageVisibility), and the
 * next invocation claims it. Measured through the real worker handler on dynalite, a
 * warm container (the trial's snapshot already read), with a slice that yields at its
 * first step boundary: what is left is the hand-off's own cost.
 */
import type { Context, SQSRecord } from 'aws-lambda';
import type { RunTrial } from '../../functions/executor/run-trial.js';
import { makeWorkerHandler } from '../../functions/worker/handler.js';
import type { CommandCounter } from '../lib/command-counter.js';
import { QuietLogger } from '../lib/env.js';
import { summarize } from '../lib/stats.js';

export interface HandOffCost {
  /** Store calls of one hand-off (the park's write and the next slice's claim). */
  storeCalls: number;
  storeWrites: number;
  /** Queue calls of one hand-off (ChangeMessageVisibility). */
  queueCalls: number;
  /** Median wall time of one invocation that claims, yields and parks, on dynalite. */
  ms: number;
}

function record(trialId: string, n: number): SQSRecord {
  return {
    messageId: `bench-${n}`,
    receiptHandle: `bench-receipt-${n}`,
    body: JSON.stringify({ trial_id: trialId }),
    attributes: { ApproximateReceiveCount: String(n), SentTimestamp: String(Date.now()), SenderId: 'bench', ApproximateFirstReceiveTimestamp: String(Date.now()), SequenceNumber: String(n), MessageGroupId: 'kallisti-trials', MessageDeduplicationId: trialId },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:kallisti.fifo',
    awsRegion: 'us-east-1',
  };
}

const lambdaContext = { getRemainingTimeInMillis: () => 900_000 } as unknown as Context;

export async function measureHandOff(deps: { runTrial: RunTrial; counter: CommandCounter; newTrial: () => Promise<string> }): Promise<HandOffCost> {
  const yielded = AbortSignal.abort();
  let queueCalls = 0;
  const handler = makeWorkerHandler({
    // Every slice yields at its first step boundary, as one whose budget is spent does.
    runTrial: (id, options) => deps.runTrial(id, { ...options, yieldSignal: yielded }),
    visibility: { setVisibility: async () => void (queueCalls += 1) },
    logger: new QuietLogger(),
  });
  const id = await deps.newTrial();
  // The first slice starts the trial (and parks it); every later one is a pure hand-off.
  await handler({ Records: [record(id, 1)] }, lambdaContext);
  const rounds = 20;
  const times: number[] = [];
  deps.counter.reset();
  queueCalls = 0;
  for (let n = 2; n < rounds + 2; n += 1) {
    const started = performance.now();
    await handler({ Records: [record(id, n)] }, lambdaContext);
    times.push(performance.now() - started);
  }
  const counts = deps.counter.take();
  return { storeCalls: (counts.reads + counts.writes) / rounds, storeWrites: counts.writes / rounds, queueCalls: queueCalls / rounds, ms: summarize(times).median };
}
