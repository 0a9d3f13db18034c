import { consoleLogger } from '../../app-logger.js';
import type { ExecutorLogger, RunTrial } from '../../executor/run-trial.js';
import type { QueueProbe, RecoveryQueue, ScheduleFiring, TrialQueue, TrialStore } from '../../ports.js';

export interface LocalTrialQueueDeps {
  trials: TrialStore;
  runTrial: RunTrial;
  /**
   * Turns a schedule firing into the trial to run (the fire-schedule use case),
   * when it reaches the head of the queue, as the cloud worker does.
   */
  fireSchedule?: (firing: ScheduleFiring) => Promise<string | undefined>;
  logger?: ExecutorLogger;
  /** Attempts per trial when running it throws (a store hiccup); default 3. */
  maxAttempts?: number;
  /** Pause between attempts; default 1000 ms. */
  retryDelayMs?: number;
  /**
   * Time budget of one slice (KALLISTI_WORKER_BUDGET_SECONDS): the worker then
   * checkpoints and goes on in a new slice exactly as the Lambda worker does.
   * Undefined = no budget: a trial runs in one slice (long waits just sleep).
   */
  budgetMs?: number;
  /** Epoch ms (the executor's clock). */
  now?: () => number;
}

const PAGE_SIZE = 100;


/** A trial to run, or a schedule firing to turn into one first (as the FIFO queue carries both). */
/** `fresh`: queued when it was created (or found `Scheduled` at start-up), so its first run is the message's first delivery. */
type Job = { kind: 'trial'; trialId: string; recovery?: boolean; fresh?: boolean } | { kind: 'firing'; firing: ScheduleFiring; handled: () => void };

/**
 * Local mode's stand-in for the FIFO queue and its consumer: trials and schedule
 * firings are handled one at a time, in the order they were enqueued. A firing
 * waits its turn like any message and is only then turned into a trial (which
 * runs at once), so a firing queued behind a long trial reaches the worker late,
 * exactly as in the cloud. A trial that parks (a long wait, or the slice budget
 * spent) stays at the head until it can go on, as its message would. The store is
 * the durable queue for trials — `start()` picks up every unfinished trial left
 * from before a restart, oldest first; a firing lost in a crash is found missing
 * at the next start-up (see LocalScheduler).
 */
export class LocalTrialQueue implements TrialQueue, RecoveryQueue, QueueProbe {
  private readonly pending: Job[] = [];
  /** Ids queued or running, so a trial is never queued twice. */
  private readonly known = new Set<string>();
  private readonly logger: ExecutorLogger;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private readonly budgetMs: number | undefined;
  private readonly now: () => number;
  private started = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Fires on shutdown: the running trial checkpoints at its next step or wait boundary. */
  private yieldController = new AbortController();
  /** The parked head of the queue, while it waits for its resume time. */
  private parked: { trialId: string; wake: () => void } | undefined;

  constructor(private readonly deps: LocalTrialQueueDeps) {
    this.logger = deps.logger ?? consoleLogger;
    this.maxAttempts = deps.maxAttempts ?? 3;
    this.retryDelayMs = deps.retryDelayMs ?? 1000;
    this.budgetMs = deps.budgetMs;
    this.now = deps.now ?? Date.now;
  }

  /** A stop request for a parked trial: it goes on now (and stops) instead of at its resume time. */
  async wake(trialId: string): Promise<void> {
    if (this.parked?.trialId === trialId) this.parked.wake();
  }

  /**
   * The watchdog's recovery of a trial it took over (the worker had given it up): it goes
   * first, so the trial's post steps run as soon as the running trial allows.
   */
  async enqueueRecovery(trialId: string): Promise<void> {
    if (this.known.has(trialId)) return;
    this.known.add(trialId);
    this.pending.unshift({ kind: 'trial', trialId, recovery: true });
    this.kick();
  }

  /** Nothing queued and nothing running. */
  async isEmpty(): Promise<boolean> {
    return this.known.size === 0 && this.pending.length === 0 && this.loop === undefined;
  }

  /** Queues a trial; it runs after every trial queued before it. */
  async enqueue(trialId: string): Promise<void> {
    this.add(trialId, false, true);
    this.kick();
  }

  /**
   * Queues a schedule firing behind everything queued before it. Resolves once the
   * firing has reached the head and been turned into a trial (or skipped, or failed),
   * before that trial runs.
   */
  enqueueFiring(firing: ScheduleFiring): Promise<void> {
    return new Promise<void>((handled) => {
      this.pending.push({ kind: 'firing', firing, handled });
      this.kick();
    });
  }

  /**
   * Loads every unfinished trial (oldest first, all pages) ahead of anything
   * enqueued meanwhile, then starts running them. Returns how many it resumed.
   */
  async start(): Promise<number> {
    if (this.started) return 0;
    const unfinished: { id: string; recovery: boolean; fresh: boolean }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.deps.trials.listUnfinished({ limit: PAGE_SIZE, nextToken });
      // A trial the watchdog took over goes on as its recovery.
      unfinished.push(...page.items.map((trial) => ({ id: trial.id, recovery: trial.runtime?.orphaned !== undefined, fresh: trial.status === 'Scheduled' })));
      nextToken = page.nextToken;
    } while (nextToken);
    // Anything enqueued before or during the listing is newer than what the store held.
    const queued = this.pending.splice(0);
    queued.forEach((job) => job.kind === 'trial' && this.known.delete(job.trialId));
    unfinished.forEach((trial) => this.add(trial.id, trial.recovery, trial.fresh));
    queued.forEach((job) => (job.kind === 'trial' ? this.add(job.trialId, job.recovery === true, job.fresh === true) : this.pending.push(job)));
    this.started = true;
    this.stopping = false;
    this.yieldController = new AbortController();
    this.kick();
    return unfinished.length;
  }

  /**
   * Stops taking trials off the queue. The running trial saves its checkpoint at its
   * next step or wait boundary (it goes on after a restart); resolves once it has.
   * Queued trials stay in the store.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    this.yieldController.abort();
    this.parked?.wake();
    await this.loop;
  }

  /** Whether a trial is queued or running here (the watchdog leaves those alone). */
  holds(trialId: string): boolean {
    return this.known.has(trialId);
  }

  /** Resolves once the queue is empty and nothing runs. */
  async drain(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Number of trials and firings waiting (not counting the one running). */
  get size(): number {
    return this.pending.length;
  }

  private add(trialId: string, recovery = false, fresh = false): void {
    if (this.known.has(trialId)) return;
    this.known.add(trialId);
    this.pending.push({ kind: 'trial', trialId, ...(recovery && { recovery }), ...(fresh && !recovery && { fresh }) });
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
      const job = this.pending.shift();
      if (job === undefined) return;
      if (job.kind === 'firing') {
        await this.handleFiring(job.firing, job.handled);
        continue;
      }
      try {
        await this.runWithRetries(job.trialId, job.recovery === true, job.fresh === true);
      } finally {
        this.known.delete(job.trialId);
      }
    }
  }

  private async handleFiring(firing: ScheduleFiring, handled: () => void): Promise<void> {
    const context = { scheduleId: firing.schedule_id, scheduledTime: firing.scheduled_time };
    if (!this.deps.fireSchedule) {
      this.logger.error('Schedule firing dropped: this queue has no fire-schedule', context);
      handled();
      return;
    }
    let trialId: string | undefined;
    try {
      trialId = await this.deps.fireSchedule(firing);
    } catch (error) {
      // Not recorded: the next start-up finds this firing missing and records it as missed.
      this.logger.error('Schedule firing failed', { ...context, error: error instanceof Error ? error.message : String(error) });
      return;
    } finally {
      handled();
    }
    if (trialId === undefined || this.known.has(trialId)) return;
    this.known.add(trialId);
    try {
      await this.runWithRetries(trialId, false, true);
    } finally {
      this.known.delete(trialId);
    }
  }

  /** Runs a trial slice after slice, waiting between them as the queue would; parks it on shutdown. */
  private async runWithRetries(trialId: string, recovery = false, fresh = false): Promise<void> {
    // Only the first run is a first delivery: after a park or a failure the trial may be running.
    let firstDelivery = fresh;
    for (let attempt = 1; ; ) {
      try {
        const deadline = this.budgetMs === undefined ? undefined : this.now() + this.budgetMs;
        const options = { ...(deadline !== undefined && { deadline }), yieldSignal: this.yieldController.signal, ...(recovery && { recovery }), ...(firstDelivery && { firstDelivery }) };
        firstDelivery = false;
        const result = await this.deps.runTrial(trialId, options);
        attempt = 1;
        if (result.outcome !== 'parked') {
          this.logger.info('Trial handled', { trialId, outcome: result.outcome, status: result.status });
          return;
        }
        if (this.stopping) {
          this.logger.info('Trial checkpointed for shutdown; it goes on after the restart', { trialId });
          return;
        }
        await this.sleepParked(trialId, result.resumeAt);
        if (this.stopping) return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= this.maxAttempts || this.stopping) {
          // Left unfinished in the store: the watchdog ends it (or the next start() picks it up again).
          this.logger.error('Trial could not be run; the watchdog ends it if nothing else does', { trialId, error: message });
          return;
        }
        this.logger.warn('Trial run failed; retrying', { trialId, attempt, error: message });
        attempt += 1;
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
      }
    }
  }

  /** The head of the queue waits for its resume time, a stop request (wake) or shutdown; nothing overtakes it. */
  private sleepParked(trialId: string, resumeAt: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.parked = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, resumeAt - this.now()));
      this.parked = { trialId, wake: done };
    });
  }
}
