import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoExperimentStore } from '../adapters/dynamodb/experiment-store.js';
import { DynamoSafetyStore } from '../adapters/dynamodb/safety-store.js';
import { lazyScheduleStore } from '../adapters/dynamodb/lazy-stores.js';
import { DynamoTrialStore } from '../adapters/dynamodb/trial-store.js';
import { EmfMetrics } from '../adapters/metrics/emf-metrics.js';
import { loadTracer } from '../adapters/tracing/load-tracer.js';
import { traceHandler, tracingObserver } from '../adapters/tracing/xray-tracing.js';
import { lazyCloudScheduler } from '../adapters/scheduler/lazy-cloud-scheduler.js';
import { createSqsTrialQueue } from '../adapters/sqs/sqs-trial-queue.js';
import { optional, required } from '../config.js';
import { makeRunTrial } from '../executor/run-trial.js';
import { makeExecutorSafety } from '../executor/safety-checks.js';
import { SafetyCounters } from '../metrics/safety-counters.js';
import { makeSafetyGate } from '../use-cases/safety-gate.js';
import { createLogger } from '../logging.js';
import { configuredCatalog, wrapNamespaces } from '../modules/catalog.js';
import { ModuleRegistry } from '../modules/module-registry.js';
import { measureFirings } from '../metrics/instrument.js';
import { executorMetricsObserver } from '../observability/executor-metrics.js';
import { metricsObserver } from '../observability/metrics-observer.js';
import { observeModules, observeRunTrial, observeTrialStore } from '../observability/observe.js';
import { combineObservers } from '../observability/trial-observer.js';
import { onDemand } from '../use-cases/on-demand.js';
import { systemClock, uuidIds } from '../system.js';
import { lazyTrialFinishedObserver, publishFinishedTrials } from '../use-cases/trial-observers.js';
import { lazySecretSource, policyFromEnv, setCredentialPolicy } from '../modules/cm/credentials.js';
import { makeWorkerHandler } from './handler.js';

// Built once per container: the worker consumes the FIFO queue one message at a time.
const env = process.env;
const tableName = required(env, 'KALLISTI_TABLE');
const logger = createLogger('kallisti-worker', optional(env, 'LOG_LEVEL', 'INFO'));
// CloudWatch metrics as EMF log lines, written after each invocation (no API call).
const metrics = new EmfMetrics({ serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME', 'kallisti') });
// X-Ray only with the stack's tracing flag; then the store's DynamoDB calls are traced too.
const tracer = await loadTracer(env);
const observer = combineObservers(metricsObserver(metrics), ...(tracer ? [tracingObserver(tracer)] : []));
const documentClient = createDocumentClient();
tracer?.captureAWSv3Client(documentClient);
const experiments = new DynamoExperimentStore(documentClient, tableName);
// Trial-finished events go to EventBridge once the final status is stored (a rule there emails the /notification
// list), never at the trial's expense; the client loads with the first trial that finishes in this container.
const eventBusName = env['KALLISTI_EVENT_BUS_NAME'];
const trialFinishedObservers = eventBusName
  ? [lazyTrialFinishedObserver('eventbridge', async () => (await import('../adapters/eventbridge/trial-events.js')).createEventBridgeTrialObserver(eventBusName))]
  : [];
const trials = publishFinishedTrials(observeTrialStore(new DynamoTrialStore(documentClient, tableName), observer), { observers: trialFinishedObservers, logger });
// Only schedule firings read schedules: the store loads with the first firing, like the firing use case.
const schedules = lazyScheduleStore(documentClient, tableName);
const safety = new DynamoSafetyStore(documentClient, tableName);
const safetyMetrics = new SafetyCounters(metrics);
const gate = makeSafetyGate({ safety, clock: systemClock, logger, metrics: safetyMetrics });
// The worker removes cloud schedules that fire for nothing and re-arms the current generation when an older
// one fires; the adapter (its SDK client and cron code) loads on first use, which most invocations never reach.
const schedulerConfig = {
  groupName: required(env, 'KALLISTI_SCHEDULE_GROUP'),
  target: {
    queueArn: required(env, 'KALLISTI_SCHEDULE_TARGET_ARN'),
    roleArn: required(env, 'KALLISTI_SCHEDULER_ROLE_ARN'),
    deadLetterArn: required(env, 'KALLISTI_SCHEDULE_DLQ_ARN'),
  },
  clock: systemClock,
};
const cloud = lazyCloudScheduler(async () => (await import('../adapters/scheduler/eventbridge-scheduler.js')).createEventBridgeCloudScheduler(schedulerConfig));

// Step credentials: allow-listed environment variables, and secrets / parameters under KALLISTI_SECRET_PREFIX
// (the role may read nothing else), read with the first step that names one.
const secretPrefix = env['KALLISTI_SECRET_PREFIX'];
setCredentialPolicy(
  policyFromEnv(env, secretPrefix ? lazySecretSource(async () => (await import('../adapters/secrets/aws-secret-source.js')).createAwsSecretSource(secretPrefix)) : undefined),
);

// A schedule firing's use case (with the cron code its policy and missed-firing checks read) loads on the first
// firing message: an invocation that only runs trials never loads it.
const firings = onDemand(
  async () => ({
    fire: (await import('../use-cases/fire-schedule.js')).makeFireSchedule({ experiments, trials, schedules, cloud, clock: systemClock, ids: uuidIds, logger, gate, metrics: safetyMetrics }),
  }),
  { fire: true },
);

// Hands parked trials back and backs off failed messages (ChangeMessageVisibility on the receipt).
const queue = createSqsTrialQueue(required(env, 'KALLISTI_QUEUE_URL'));

const handleMessages = makeWorkerHandler({
  visibility: queue,
  runTrial: observeRunTrial(
    makeRunTrial({
      experiments,
      trials,
      // Each namespace's commands load with the first trial that uses one of them.
      registry: ModuleRegistry.lazy(wrapNamespaces(configuredCatalog(env), (modules) => observeModules(modules, observer))),
      clock: systemClock,
      logger,
      metrics: safetyMetrics,
      safety: makeExecutorSafety({ gate, safety, clock: systemClock }),
      // QueueHandOffs and TrialSlices: what slicing costs.
      observer: executorMetricsObserver(metrics),
    }),
  ),
  fireSchedule: measureFirings((firing) => firings.fire(firing), { metrics, clock: systemClock }),
  logger,
  metrics,
});

const measured: typeof handleMessages = async (event, context) => {
  try {
    return await handleMessages(event, context);
  } finally {
    metrics.flush();
  }
};

export const handler = tracer ? traceHandler(tracer, measured) : measured;
