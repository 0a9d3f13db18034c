import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoExperimentStore } from '../adapters/dynamodb/experiment-store.js';
import { DynamoScheduleStore } from '../adapters/dynamodb/schedule-store.js';
import { EmfMetrics } from '../adapters/metrics/emf-metrics.js';
import { createEventBridgeCloudScheduler } from '../adapters/scheduler/eventbridge-scheduler.js';
import { optional, required } from '../config.js';
import { createLogger } from '../logging.js';
import { makeReconcileSchedules, type ReconcileReport } from '../use-cases/reconcile-schedules.js';
import { systemClock } from '../wiring.js';

// Built once per container: the scheduled (and on demand) reconciliation of schedules.
const env = process.env;
const tableName = required(env, 'KALLISTI_TABLE');
const logger = createLogger('kallisti-reconciler', optional(env, 'LOG_LEVEL', 'INFO'));
// ScheduleDrift and ScheduleRepairFailures as EMF log lines (no API call); the drift alarm watches them.
const metrics = new EmfMetrics({ serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME', 'kallisti') });
const documentClient = createDocumentClient();
const reconcile = makeReconcileSchedules({
  schedules: new DynamoScheduleStore(documentClient, tableName),
  experiments: new DynamoExperimentStore(documentClient, tableName),
  cloud: createEventBridgeCloudScheduler({
    groupName: required(env, 'KALLISTI_SCHEDULE_GROUP'),
    target: {
      queueArn: required(env, 'KALLISTI_SCHEDULE_TARGET_ARN'),
      roleArn: required(env, 'KALLISTI_SCHEDULER_ROLE_ARN'),
      deadLetterArn: required(env, 'KALLISTI_SCHEDULE_DLQ_ARN'),
    },
    clock: systemClock,
  }),
  clock: systemClock,
  logger,
  metrics,
});

/** The EventBridge rule sends its scheduled event; `npm run reconcile` sends `{ "dryRun": true }` when asked. */
export const handler = async (event: unknown): Promise<ReconcileReport> => {
  const dryRun = typeof event === 'object' && event !== null && (event as { dryRun?: unknown }).dryRun === true;
  try {
    return await reconcile({ dryRun });
  } finally {
    metrics.flush();
  }
};
