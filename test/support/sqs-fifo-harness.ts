import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { MessageVisibility } from '../../functions/ports.js';
import type { FakeClock } from './memory-stores.js';

/**
 * SQS FIFO and the Lambda event source mapping, as documented, on a fake clock:
 * - a received message is in flight for the queue's visibility timeout, or for what
 *   ChangeMessageVisibility (0 to 43,200 s, at most 12 h from its receipt) sets;
 * - while a message of a group is in flight, no later message of that group is
 *   delivered; a message comes back when its visibility ends;
 * - each receive counts; past maxReceiveCount the message moves to the dead-letter queue;
 * - the mapping deletes the messages of a batch that the function does not report in
 *   `batchItemFailures`; when the function throws or dies, it deletes none;
 * - the function is killed when it runs past its timeout.
 */
export interface HarnessOptions {
  clock: FakeClock;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  functionTimeoutMs?: number;
  batchSize?: number;
}

interface Message {
  id: string;
  body: string;
  group: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receivedAt: number;
  receipt: string | undefined;
  deleted: boolean;
}

export interface InvocationLog {
  messageIds: string[];
  startedAt: number;
  endedAt: number;
  outcome: 'ok' | 'error' | 'killed' | 'timeout';
  failures: string[];
}

export class InvalidReceiptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReceiptHandleIsInvalid';
  }
}

let receipts = 0;

export class SqsFifoHarness implements MessageVisibility {
  readonly messages: Message[] = [];
  readonly deadLetters: Message[] = [];
  readonly invocations: InvocationLog[] = [];
  readonly visibilityCalls: { receipt: string; seconds: number; at: number }[] = [];
  private readonly clock: FakeClock;
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  readonly functionTimeoutMs: number;
  private readonly batchSize: number;
  /** Receipts of invocations that were killed: their calls never reach the queue. */
  private readonly deadReceipts = new Set<string>();

  constructor(options: HarnessOptions) {
    this.clock = options.clock;
    this.visibilityTimeoutMs = (options.visibilityTimeoutSeconds ?? 960) * 1000;
    this.maxReceiveCount = options.maxReceiveCount ?? 1000;
    this.functionTimeoutMs = options.functionTimeoutMs ?? 900_000;
    this.batchSize = options.batchSize ?? 1;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  send(body: string, group = 'kallisti-trials'): string {
    const id = `msg-${this.messages.length + 1}`;
    this.messages.push({ id, body, group, sentAt: this.now(), receiveCount: 0, visibleAt: this.now(), receivedAt: 0, receipt: undefined, deleted: false });
    return id;
  }

  async setVisibility(receipt: string, seconds: number): Promise<void> {
    if (this.deadReceipts.has(receipt)) throw new Error('the invocation holding this receipt is dead');
    const message = this.messages.find((m) => m.receipt === receipt && !m.deleted);
    if (!message) throw new InvalidReceiptError('The receipt handle is not valid');
    if (message.visibleAt <= this.now()) {
      const error = new Error('Message is not in flight');
      error.name = 'MessageNotInflight';
      throw error;
    }
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) throw new Error(`VisibilityTimeout ${seconds} is out of range`);
    if (this.now() + seconds * 1000 - message.receivedAt > 12 * 3600 * 1000) throw new Error('Total visibility timeout would exceed 12 hours from receipt');
    this.visibilityCalls.push({ receipt, seconds, at: this.now() });
    message.visibleAt = this.now() + seconds * 1000;
  }

  /** Messages not deleted (in the queue or in flight). */
  get pending(): Message[] {
    return this.messages.filter((m) => !m.deleted);
  }

  /** What a ReceiveMessage would answer now: the head of each group, unless that group has a message in flight. */
  private receive(): Message[] {
    const batch: Message[] = [];
    const groups = new Set(this.pending.map((m) => m.group));
    for (const group of groups) {
      const queue = this.pending.filter((m) => m.group === group);
      if (queue.some((m) => m.receipt !== undefined && m.visibleAt > this.now())) continue;
      for (const message of queue) {
        if (batch.length >= this.batchSize) break;
        if (message.visibleAt > this.now()) break;
        message.receiveCount += 1;
        if (message.receiveCount > this.maxReceiveCount) {
          message.deleted = true;
          this.deadLetters.push(message);
          continue;
        }
        receipts += 1;
        message.receipt = `receipt-${receipts}`;
        message.receivedAt = this.now();
        message.visibleAt = this.now() + this.visibilityTimeoutMs;
        batch.push(message);
      }
    }
    return batch;
  }

  private record(message: Message): SQSRecord {
    return {
      messageId: message.id,
      receiptHandle: message.receipt as string,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(message.receivedAt),
        SequenceNumber: String(this.messages.indexOf(message) + 1).padStart(20, '0'),
        MessageGroupId: message.group,
        MessageDeduplicationId: message.id,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:kallisti-trials.fifo',
      awsRegion: 'eu-west-1',
    };
  }

  /**
   * One poll of the event source mapping: receives a batch and invokes the function.
   * `kill` (if given) resolves when the test kills the invocation: its response is
   * then lost and its messages stay in flight. Returns false when nothing was delivered.
   */
  async poll(handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>, kill?: Promise<void>): Promise<boolean> {
    const batch = this.receive();
    if (batch.length === 0) return false;
    const startedAt = this.now();
    const context = lambdaContext(() => this.functionTimeoutMs - (this.now() - startedAt));
    const log: InvocationLog = { messageIds: batch.map((m) => m.id), startedAt, endedAt: startedAt, outcome: 'ok', failures: [] };
    this.invocations.push(log);
    const running = handler({ Records: batch.map((m) => this.record(m)) }, context).then(
      (response) => ({ kind: 'response' as const, response }),
      (error: unknown) => ({ kind: 'error' as const, error }),
    );
    const outcome = kill ? await Promise.race([running, kill.then(() => ({ kind: 'killed' as const }))]) : await running;
    log.endedAt = this.now();
    if (outcome.kind === 'killed') {
      for (const message of batch) this.deadReceipts.add(message.receipt as string);
      log.outcome = 'killed';
      return true;
    }
    if (this.now() - startedAt > this.functionTimeoutMs) {
      // Lambda killed it at its timeout: nothing it answered counts.
      log.outcome = 'timeout';
      return true;
    }
    if (outcome.kind === 'error') {
      log.outcome = 'error';
      return true;
    }
    log.failures = outcome.response.batchItemFailures.map((f) => f.itemIdentifier);
    for (const message of batch) if (!log.failures.includes(message.id)) message.deleted = true;
    return true;
  }

  /** When the next message becomes deliverable (undefined when the queue is empty). */
  nextVisibleAt(): number | undefined {
    // The next message to come out of flight (or a delayed one): the only change that can make one deliverable.
    const times = this.pending.map((m) => m.visibleAt).filter((at) => at > this.now());
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /**
   * Polls until the queue is empty, moving the fake clock to the next visibility
   * change whenever nothing is deliverable. `killAt(n)` may kill the n-th invocation.
   */
  async drain(handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>, options: { maxInvocations?: number; kill?: (n: number) => Promise<void> | undefined } = {}): Promise<void> {
    const max = options.maxInvocations ?? 500;
    while (this.pending.length > 0) {
      if (this.invocations.length >= max) throw new Error(`Queue not drained after ${max} invocations`);
      const delivered = await this.poll(handler, options.kill?.(this.invocations.length + 1));
      if (!delivered) {
        const next = this.nextVisibleAt();
        if (next === undefined) throw new Error('Messages are left that can never be delivered');
        this.clock.set(next);
      }
    }
  }
}

function lambdaContext(remaining: () => number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:worker',
    memoryLimitInMB: '1024',
    awsRequestId: 'req',
    logGroupName: '/aws/lambda/worker',
    logStreamName: 'stream',
    getRemainingTimeInMillis: remaining,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
