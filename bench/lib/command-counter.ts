import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

/** What one store call looked like, for the benchmarks that time parts of a flow. */
export interface CallEvent {
  command: string;
  input: Record<string, unknown>;
  /** Epoch ms (from `now`) when the call was sent and when its answer came back. */
  sentAt: number;
  doneAt: number;
  failed: boolean;
}

export interface CallCounts {
  reads: number;
  writes: number;
  /** Writes refused by their condition (DynamoDB bills them like successful ones). */
  failedConditionalWrites: number;
  /** Table capacity units dynalite reports (ReturnConsumedCapacity TOTAL); 0 unless capacity is on. */
  readUnits: number;
  writeUnits: number;
  byCommand: Record<string, number>;
}

function emptyCounts(): CallCounts {
  return { reads: 0, writes: 0, failedConditionalWrites: 0, readUnits: 0, writeUnits: 0, byCommand: {} };
}

/**
 * Counts the store calls made through a document client with a middleware on its
 * stack (the stores' own client, so nothing is changed in the code under test).
 * With `capacity` on it also asks DynamoDB (dynalite) for the capacity each call
 * consumed; that adds a field to the request, so timing runs leave it off.
 */
export class CommandCounter {
  private counts = emptyCounts();
  capacity = false;
  /** Called after every store call; the latency benchmark uses it to time the parts of a firing. */
  onCall: ((event: CallEvent) => void) | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  attach(client: DynamoDBDocumentClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? 'unknown');
        const input = args.input as Record<string, unknown>;
        if (this.capacity) input['ReturnConsumedCapacity'] = 'TOTAL';
        const sentAt = this.now();
        let failed = false;
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
          this.record(command, consumed?.CapacityUnits ?? 0);
          return result;
        } catch (error) {
          failed = true;
          this.record(command, 0);
          if (error instanceof Error && error.name === 'ConditionalCheckFailedException') {
            this.counts.failedConditionalWrites += 1;
            // A refused write still costs what the item's size would have cost (at least one unit).
            if (this.capacity) this.counts.writeUnits += 1;
          }
          throw error;
        } finally {
          this.onCall?.({ command, input, sentAt, doneAt: this.now(), failed });
        }
      },
      { step: 'initialize', name: 'benchCommandCounter' },
    );
    return this;
  }

  private record(command: string, units: number): void {
    const counts = this.counts;
    counts.byCommand[command] = (counts.byCommand[command] ?? 0) + 1;
    if (READS.has(command)) {
      counts.reads += 1;
      counts.readUnits += units;
    } else if (WRITES.has(command)) {
      counts.writes += 1;
      counts.writeUnits += units;
    }
  }

  reset(): void {
    this.counts = emptyCounts();
  }

  /** The counts since the last reset, and resets. */
  take(): CallCounts {
    const counts = this.counts;
    this.reset();
    return counts;
  }
}
