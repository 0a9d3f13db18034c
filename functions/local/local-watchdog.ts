import type { AppLogger } from '../app-logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock, QueueProbe, RecoveryQueue, TrialStore } from '../ports.js';
import { makeWatchdog, type WatchdogReport } from '../use-cases/watchdog.js';

/** Local mode runs the watchdog this often (on AWS a scheduled function runs it every 5 minutes). */
export const LOCAL_WATCHDOG_EVERY_MS = 60_000;

export interface LocalWatchdog {
  /** One run now (also what the timer does). */
  run(): Promise<WatchdogReport>;
  stop(): void;
}

/**
 * The watchdog on a timer, with the local worker as its queue: the worker knows exactly
 * which trials it holds, so a trial it gave up (after repeated failures) is found at once
 * past its grace, and its recovery goes to the head of the local queue.
 */
export function startLocalWatchdog(deps: { trials: TrialStore; queue: QueueProbe & RecoveryQueue; clock: Clock; logger: AppLogger; metrics: Metrics; everyMs?: number }): LocalWatchdog {
  const watchdog = makeWatchdog({ trials: deps.trials, probe: deps.queue, recoveries: deps.queue, clock: deps.clock, logger: deps.logger, metrics: deps.metrics });
  let running: Promise<WatchdogReport> | undefined;
  const run = (): Promise<WatchdogReport> => (running ??= watchdog().finally(() => (running = undefined)));
  const timer = setInterval(() => {
    run().catch((error: unknown) => deps.logger.error('Watchdog run failed; the next one tries again', { error: error instanceof Error ? error.message : String(error) }));
  }, deps.everyMs ?? LOCAL_WATCHDOG_EVERY_MS);
  timer.unref();
  return { run, stop: () => clearInterval(timer) };
}
