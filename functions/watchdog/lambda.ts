import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoTrialStore } from '../adapters/dynamodb/trial-store.js';
import { EmfMetrics } from '../adapters/metrics/emf-metrics.js';
import { createSqsTrialQueue } from '../adapters/sqs/sqs-trial-queue.js';
import { optional, required } from '../config.js';
import { createLogger } from '../logging.js';
import { makeWatchdog, type WatchdogReport } from '../use-cases/watchdog.js';
import { systemClock } from '../system.js';

// Built once per container: the scheduled sweep of trials that can no longer progress.
const env = process.env;
const logger = createLogger('kallisti-watchdog', optional(env, 'LOG_LEVEL', 'INFO'));
// OverdueTrials as EMF log lines (no API call); the overdue-trials alarm watches it.
const metrics = new EmfMetrics({ serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME', 'kallisti') });
// The queue is read (are any messages left?) and sent the recovery deliveries; the worker runs them.
const queue = createSqsTrialQueue(required(env, 'KALLISTI_QUEUE_URL'));
const watchdog = makeWatchdog({
  trials: new DynamoTrialStore(createDocumentClient(), required(env, 'KALLISTI_TABLE')),
  probe: queue,
  recoveries: queue,
  clock: systemClock,
  logger,
  metrics,
});

/** The EventBridge rule's scheduled event carries nothing the sweep needs. */
export const handler = async (): Promise<WatchdogReport> => {
  try {
    const report = await watchdog();
    logger.info('Watchdog run', { checked: report.checked, ended: report.findings.length, failures: report.failures });
    return report;
  } finally {
    metrics.flush();
  }
};
