import { consoleLogger } from '../../app-logger.js';
import type { ExecutorLogger, RunTrial } from '../../executor/run-trial.js';
import type { TrialQueue, TrialStore } from '../../ports.js';

export interface LocalTrialQueueDeps {
  trials: TrialStore;
  runTrial: RunTrial;
  logger?: ExecutorLogger;
  /** Attempts per trial when running it throws (a store hiccup); default 3. */
  maxAttempts?: number;
  /** Pause between attempts; default 1000 ms. */
  retryDelayMs?: number;
}

const PAGE_SIZE = 100;


/**
 * Local mode's stand-in for the FIFO queue and its consumer: trials run one at a
 * time, in the order they were enqueued. The store is the durable queue — `start()`
 * picks up every unfinished trial left from before a restart, oldest first — so an
 * in-memory list is enough for the rest.
 */
export class LocalTrialQueue implements TrialQueue {
  private readonly pending: string[] = [];
  /** Ids queued or running, so a trial is never queued twice. */
  private readonly known = new Set<string>();
  private readonly logger: ExecutorLogger;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private started = false;
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: LocalTrialQueueDeps) {
    this.logger = deps.logger ?? consoleLogger;
    this.maxAttempts = deps.maxAttempts ?? 3;
    this.retryDelayMs = deps.retryDelayMs ?? 1000;
  }

  /** Queues a trial; it runs after every trial queued before it. */
  async enqueue(trialId: string): Promise<void> {
    this.add(trialId);
    this.kick();
  }

  /**
   * Loads every unfinished trial (oldest first, all pages) ahead of anything
   * enqueued meanwhile, then starts running them. Returns how many it resumed.
   */
  async start(): Promise<number> {
    if (this.started) return 0;
    const unfinished: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.deps.trials.listUnfinished({ limit: PAGE_SIZE, nextToken });
      unfinished.push(...page.items.map((trial) => trial.id));
      nextToken = page.nextToken;
    } while (nextToken);
    // Anything enqueued before or during the listing is newer than what the store held.
    const queued = this.pending.splice(0);
    queued.forEach((id) => this.known.delete(id));
    [...unfinished, ...queued].forEach((id) => this.add(id));
    this.started = true;
    this.stopping = false;
    this.kick();
    return unfinished.length;
  }

  /** Stops taking trials off the queue; resolves when the one running (if any) ends. Queued ones stay in the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    await this.loop;
  }

  /** Resolves once the queue is empty and nothing runs. */
  async drain(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Number of trials waiting (not counting the one running). */
  get size(): number {
    return this.pending.length;
  }

  private add(trialId: string): void {
    if (this.known.has(trialId)) return;
    this.known.add(trialId);
    this.pending.push(trialId);
  }

  /** Starts the single loop unless it already runs: there is never more than one. */
  private kick(): void {
    if (!this.started || this.stopping || this.loop) return;
    this.loop = this.runLoop().finally(() => {
      this.loop = undefined;
      // A trial enqueued while the loop was finishing must not wait for the next enqueue.
      if (this.pending.length > 0) this.kick();
    });
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      const trialId = this.pending.shift();
      if (trialId === undefined) return;
      try {
        await this.runWithRetries(trialId);
      } finally {
        this.known.delete(trialId);
      }
    }
  }

  private async runWithRetries(trialId: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.deps.runTrial(trialId);
        this.logger.info('Trial handled', { trialId, outcome: result.outcome, status: result.status });
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= this.maxAttempts) {
          // Left unfinished in the store: the next start() picks it up again.
          this.logger.error('Trial could not be run; it stays queued in the store until restart', { trialId, error: message });
          return;
        }
        this.logger.warn('Trial run failed; retrying', { trialId, attempt, error: message });
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
    }
  }
}
