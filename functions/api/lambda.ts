import swaggerUiPackage from 'swagger-ui-dist/package.json' with { type: 'json' };
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoExperimentStore } from '../adapters/dynamodb/experiment-store.js';
import { lazySafetyStore, lazyScheduleStore } from '../adapters/dynamodb/lazy-stores.js';
import { EmfMetrics } from '../adapters/metrics/emf-metrics.js';
import { DynamoTrialStore } from '../adapters/dynamodb/trial-store.js';
import { lazyCloudScheduler } from '../adapters/scheduler/lazy-cloud-scheduler.js';
import { loadTracer } from '../adapters/tracing/load-tracer.js';
import { traceHandler, tracingObserver } from '../adapters/tracing/xray-tracing.js';
import { createSqsTrialQueue } from '../adapters/sqs/sqs-trial-queue.js';
import { DynamoNotificationStore } from '../adapters/dynamodb/notification-store.js';
import { optional, required } from '../config.js';
import { createLogger } from '../logging.js';
import { SafetyCounters } from '../metrics/safety-counters.js';
import { metricsObserver } from '../observability/metrics-observer.js';
import { observeTrialStore } from '../observability/observe.js';
import { combineObservers } from '../observability/trial-observer.js';
import { lazyTrialFinishedObserver, publishFinishedTrials } from '../use-cases/trial-observers.js';
import type { EmailSubscriptions } from '../ports.js';
import { buildUseCases, systemClock } from '../wiring.js';
import { makeApiHandler } from './app.js';
import type { SwaggerUiIntegrity } from './docs.js';
import { authenticatorFromEnv, describeAuth } from './auth/configure.js';
import { infoFromEnv } from './info.js';
import { makeRoutes } from './routes.js';

// Built once per container: configuration, SDK clients and the use-case graph.
const env = process.env;
const tableName = required(env, 'KALLISTI_TABLE');
const logger = createLogger('kallisti-api', optional(env, 'LOG_LEVEL', 'INFO'));
// Same checks as local mode, in this function (no API Gateway authorizer); a partial configuration fails the cold start.
const auth = authenticatorFromEnv(env, logger);
if (auth.mode === 'open') logger.warn(describeAuth(auth));
else logger.info(describeAuth(auth));
// Safety events (halts, refusals) as CloudWatch metrics: EMF log lines written after each request.
const metrics = new EmfMetrics({ serviceName: optional(env, 'POWERTOOLS_SERVICE_NAME', 'kallisti') });
// Trials the API ends itself (a stop before they ran) are counted like the worker's; X-Ray only with the tracing flag.
const tracer = await loadTracer(env);
const documentClient = createDocumentClient();
tracer?.captureAWSv3Client(documentClient);
// Trials the API ends (a stop before they ran, a queue that refused them) are published like the worker's.
const eventBusName = env['KALLISTI_EVENT_BUS_NAME'];
const trialFinishedObservers = eventBusName
  ? [lazyTrialFinishedObserver('eventbridge', async () => (await import('../adapters/eventbridge/trial-events.js')).createEventBridgeTrialObserver(eventBusName))]
  : [];
// The trial-finished topic's email subscriptions follow PUT /notification; the SNS client loads on the first such PUT.
const topicArn = env['KALLISTI_NOTIFICATION_TOPIC_ARN'];
let snsSubscriptions: Promise<EmailSubscriptions> | undefined;
const emailSubscriptions: EmailSubscriptions | undefined = topicArn
  ? {
      async sync(emails) {
        snsSubscriptions ??= import('../adapters/sns/email-subscriptions.js').then((m) => m.createSnsEmailSubscriptions(topicArn));
        return (await snsSubscriptions).sync(emails);
      },
    }
  : undefined;
// Read now, so a missing variable still fails the cold start rather than the first schedule write.
const schedulerConfig = {
  groupName: required(env, 'KALLISTI_SCHEDULE_GROUP'),
  target: {
    queueArn: required(env, 'KALLISTI_SCHEDULE_TARGET_ARN'),
    roleArn: required(env, 'KALLISTI_SCHEDULER_ROLE_ARN'),
    deadLetterArn: required(env, 'KALLISTI_SCHEDULE_DLQ_ARN'),
  },
  clock: systemClock,
};
const useCases = buildUseCases({
  experiments: new DynamoExperimentStore(documentClient, tableName),
  trials: publishFinishedTrials(observeTrialStore(new DynamoTrialStore(documentClient, tableName), combineObservers(metricsObserver(metrics), ...(tracer ? [tracingObserver(tracer)] : []))), {
    observers: trialFinishedObservers,
    logger,
  }),
  // Read by schedule, halt and freeze-window requests and by trial starts: their code loads with the first of those.
  schedules: lazyScheduleStore(documentClient, tableName),
  safety: lazySafetyStore(documentClient, tableName),
  metrics: new SafetyCounters(metrics),
  notifications: new DynamoNotificationStore(documentClient, tableName),
  emailSubscriptions,
  queue: createSqsTrialQueue(required(env, 'KALLISTI_QUEUE_URL')),
  // Only schedule writes touch the cloud schedules: the adapter (its SDK client and cron code) loads on first use.
  cloud: lazyCloudScheduler(async () => (await import('../adapters/scheduler/eventbridge-scheduler.js')).createEventBridgeCloudScheduler(schedulerConfig)),
  logger,
});

// The Lambda bundle stays small by loading Swagger UI's assets from a pinned public CDN copy,
// checked by the browser against hashes of the installed package, computed when the bundle is
// built (lib/bundling.ts defines KALLISTI_SWAGGER_UI_INTEGRITY).
declare const KALLISTI_SWAGGER_UI_INTEGRITY: SwaggerUiIntegrity | undefined;
const docsAssetsBase = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${swaggerUiPackage.version}`;
const docsAssetsIntegrity = typeof KALLISTI_SWAGGER_UI_INTEGRITY === 'undefined' ? undefined : KALLISTI_SWAGGER_UI_INTEGRITY;

const handleRequest = makeApiHandler({
  routes: makeRoutes({ ...useCases, docsAssetsBase, ...(docsAssetsIntegrity && { docsAssetsIntegrity }), info: infoFromEnv(env, auth.mode !== 'open') }),
  authenticator: auth.authenticator,
  logger,
});

const measured = async (event: Parameters<typeof handleRequest>[0], context: Parameters<typeof handleRequest>[1]): Promise<Awaited<ReturnType<typeof handleRequest>>> => {
  try {
    return await handleRequest(event, context);
  } finally {
    metrics.flush();
  }
};

export const handler = tracer ? traceHandler(tracer, measured) : measured;
