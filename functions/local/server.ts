import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startLocalDynamo, type LocalDynamo } from '../adapters/local/dynalite.js';
import { DynamoExperimentStore } from '../adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../adapters/dynamodb/trial-store.js';
import { DEFAULT_MAX_BODY_BYTES, makeApiHandler } from '../api/app.js';
import { openAccess, type Authenticator } from '../api/identity.js';
import { makeRoutes } from '../api/routes.js';
import { infoFromEnv, type Info } from '../api/info.js';
import { DynamoNotificationStore } from '../adapters/dynamodb/notification-store.js';
import { LogTrialObserver, WebhookTrialObserver } from '../adapters/local/webhook-trial-observer.js';
import { publishFinishedTrials } from '../use-cases/trial-observers.js';
import { LocalScheduler, type NextFiring } from '../adapters/local/local-scheduler.js';
import { PrometheusMetrics } from '../adapters/local/prometheus-metrics.js';
import { measureFirings } from '../metrics/instrument.js';
import { purgeExpiredItems } from '../adapters/local/expired-items.js';
import { makeReconcileSchedules, type ReconcileReport } from '../use-cases/reconcile-schedules.js';
import { executorMetricsObserver } from '../observability/executor-metrics.js';
import { metricsObserver } from '../observability/metrics-observer.js';
import { observeModules, observeRunTrial, observeTrialStore } from '../observability/observe.js';
import { terminalObserver } from '../observability/terminal-observer.js';
import { combineObservers } from '../observability/trial-observer.js';
import { LocalTrialQueue } from '../adapters/local/local-trial-queue.js';
import { startLocalWatchdog, type LocalWatchdog } from './local-watchdog.js';
import { DynamoSafetyStore } from '../adapters/dynamodb/safety-store.js';
import { DynamoScheduleStore } from '../adapters/dynamodb/schedule-store.js';
import { makeExecutorSafety } from '../executor/safety-checks.js';
import { SafetyCounters } from '../metrics/safety-counters.js';
import { makeSafetyGate } from '../use-cases/safety-gate.js';
import { makeFireSchedule } from '../use-cases/fire-schedule.js';
import { makeRecordMissedFirings } from '../use-cases/missed-firings.js';
import { makeRunTrial } from '../executor/run-trial.js';
import { configuredCatalog, wrapNamespaces } from '../modules/catalog.js';
import { ModuleRegistry } from '../modules/module-registry.js';
import type { Clock, ExperimentStore, SafetyStore, ScheduleFiring, ScheduleStore, TrialFinishedObserver, TrialStore } from '../ports.js';
import { createLogger, type AppLogger } from '../logging.js';
import { buildUseCases, systemClock, uuidIds } from '../wiring.js';
import { answerClientErrors, ClientGoneError, localContext, readRequestBody, toApiGatewayEvent, unsupportedEncoding, writeHead, writeResult } from './http-adapter.js';
import { AWS_TIMING_LIMITS } from '../use-cases/validate-timing.js';

const DOCS_ASSETS_PREFIX = '/docs/assets/';
/** Prometheus scrape endpoint (local mode only; on AWS the same metrics go to CloudWatch). */
export const METRICS_PATH = '/metrics';
const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.map': 'application/json', '.html': 'text/html' };

export interface LocalStores {
  experiments: ExperimentStore;
  trials: TrialStore;
  schedules: ScheduleStore;
  safety: SafetyStore;
}

export interface LocalServerOptions {
  port: number;
  host?: string;
  /** Directory for the embedded DynamoDB's files; in memory when omitted. */
  dataDir?: string;
  tableName?: string;
  clock?: Clock;
  logger?: AppLogger;
  /** Who may call what (see api/auth/configure.ts); open access when omitted. */
  authenticator?: Authenticator;
  /** Served on GET /metrics; a fresh registry when omitted. */
  metrics?: PrometheusMetrics;
  /** KALLISTI_WORKER_BUDGET_SECONDS: each worker slice checkpoints after this long, as on Lambda; none by default. */
  workerBudgetSeconds?: number;
  /** Each finished trial is POSTed here (EventBridge's envelope) besides being logged; KALLISTI_TRIAL_WEBHOOK_URL. */
  trialWebhookUrl?: string;
  /** `GET /info` (defaults: this version, no platform URLs). */
  info?: Info;
  /** How often the watchdog looks for trials that can no longer progress (default 60 s). */
  watchdogEveryMs?: number;
}

/** What start-up found: trials picked up again, schedules armed and reconciled, expired firing records purged. */
export interface StartupSummary {
  resumedTrials: number;
  /** Firings that fell while the server was down: recorded as missed, or run once (catch_up: latest). */
  missedFirings: number;
  caughtUpFirings: number;
  armedSchedules: number;
  nextFirings: NextFiring[];
  reconciliation: ReconcileReport;
  purgedFiringRecords: number;
}

/** dynalite has no TTL: expired firing records are purged at start-up and then this often. */
export const PURGE_EVERY_MS = 6 * 3600_000;

export interface LocalServer {
  url: string;
  startup: StartupSummary;
  stores: LocalStores;
  dynamo: LocalDynamo;
  worker: LocalTrialQueue;
  scheduler: LocalScheduler;
  watchdog: LocalWatchdog;
  metrics: PrometheusMetrics;
  /** Safety events counted since start (also published on /metrics). */
  safetyMetrics: SafetyCounters;
  /** Delivers a schedule firing as the local scheduler does when a cron time comes (what EventBridge sends on AWS). */
  deliver(firing: ScheduleFiring): Promise<void>;
  close(): Promise<void>;
}

function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

/** How many upcoming firings the start-up summary lists. */
const FIRINGS_SHOWN = 5;

export function logStartup(log: AppLogger, summary: StartupSummary): void {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  log.info(`Resumed ${plural(summary.resumedTrials, 'unfinished trial')}`);
  if (summary.missedFirings > 0 || summary.caughtUpFirings > 0) {
    log.info(`Recorded ${plural(summary.missedFirings, 'firing')} missed while stopped; running ${plural(summary.caughtUpFirings, 'caught-up firing')} (catch_up: latest)`);
  }
  log.info(`Armed ${plural(summary.armedSchedules, 'schedule')}${summary.nextFirings.length > 0 ? '; next firings:' : ''}`);
  for (const firing of summary.nextFirings.slice(0, FIRINGS_SHOWN)) {
    log.info(`  ${firing.at.toISOString()}`, { schedule: firing.scheduleId, experiment: firing.experimentId });
  }
  if (summary.nextFirings.length > FIRINGS_SHOWN) log.info(`  … and ${summary.nextFirings.length - FIRINGS_SHOWN} more`);
}

/** A reason local mode cannot start, in one line for the terminal. */
export class LocalStartError extends Error {}

const LOCK_FILE = 'kallisti-local.pid';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process (dynalite's database there can be
 * opened by one process only): a pid file, refused while its process runs.
 * Returns the release function.
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
        throw new LocalStartError(`Data directory ${dir} is in use by another Kallisti local server (pid ${holder}); stop it, or set KALLISTI_DATA_DIR to another directory.`);
      }
      // Left by a process that no longer runs.
      await rm(file, { force: true });
    }
  }
  throw new LocalStartError(`Data directory ${dir} could not be locked; set KALLISTI_DATA_DIR to another directory.`);
}

/**
 * Local mode: the same API handler as on Lambda, behind a plain Node HTTP
 * server, on an embedded DynamoDB, with the in-process worker as the queue.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const logger = options.logger ?? createLogger('kallisti-local');
  const tableName = options.tableName ?? 'kallisti';
  const unlock = options.dataDir !== undefined ? await lockDataDir(options.dataDir) : async () => undefined;
  let dynamo: LocalDynamo;
  try {
    dynamo = await startLocalDynamo({ path: options.dataDir, tableName });
  } catch (error) {
    await unlock();
    throw error;
  }
  const metrics = options.metrics ?? new PrometheusMetrics();
  // Trials and steps reach /metrics and the terminal by observing the store and the step commands.
  const observer = combineObservers(metricsObserver(metrics), terminalObserver(logger));
  const trialFinishedObservers: TrialFinishedObserver[] = [new LogTrialObserver(logger), ...(options.trialWebhookUrl ? [new WebhookTrialObserver(options.trialWebhookUrl)] : [])];
  const stores: LocalStores = {
    experiments: new DynamoExperimentStore(dynamo.documentClient, tableName),
    // Finished trials, whoever ends them, go to the log and to the webhook when one is configured (EventBridge on AWS).
    trials: publishFinishedTrials(observeTrialStore(new DynamoTrialStore(dynamo.documentClient, tableName), observer), { observers: trialFinishedObservers, logger }),
    schedules: new DynamoScheduleStore(dynamo.documentClient, tableName),
    safety: new DynamoSafetyStore(dynamo.documentClient, tableName),
  };
  const clock = options.clock ?? systemClock;
  // Safety events (refusals, halts, skips, trips) are counted here and published with the rest on /metrics.
  const safetyMetrics = new SafetyCounters(metrics);
  const gate = makeSafetyGate({ safety: stores.safety, clock, logger, metrics: safetyMetrics });
  const registry = ModuleRegistry.lazy(wrapNamespaces(configuredCatalog(process.env), (modules) => observeModules(modules, observer)));
  // The in-process sequential worker stands in for the FIFO queue and its consumer Lambda.
  const runTrial = observeRunTrial(
    makeRunTrial({ ...stores, registry, clock, logger, metrics: safetyMetrics, safety: makeExecutorSafety({ gate, safety: stores.safety, clock }), observer: executorMetricsObserver(metrics) }),
  );
  // The in-process scheduler stands in for EventBridge Scheduler: each firing joins
  // the queue as the cloud's firing message joins the FIFO queue, and reaching its
  // head goes through the same fire-schedule use case as the worker Lambda.
  const scheduler = new LocalScheduler({ clock, fire: (firing) => void queue.enqueueFiring(firing) });
  const fireSchedule = measureFirings(makeFireSchedule({ ...stores, cloud: scheduler, clock, ids: uuidIds, logger, gate, metrics: safetyMetrics }), { metrics, clock });
  const queue = new LocalTrialQueue({
    trials: stores.trials,
    runTrial,
    fireSchedule,
    logger,
    now: () => clock.now().getTime(),
    ...(options.workerBudgetSeconds !== undefined && { budgetMs: options.workerBudgetSeconds * 1000 }),
  });
  // With a slice budget, a step that cannot fit one slice is refused when saved, as on AWS with Lambda's.
  const timing = options.workerBudgetSeconds !== undefined ? { ...AWS_TIMING_LIMITS, sliceMs: options.workerBudgetSeconds * 1000 } : undefined;
  const useCases = buildUseCases({ ...stores, notifications: new DynamoNotificationStore(dynamo.documentClient, tableName), queue, cloud: scheduler, clock, registry, logger, metrics: safetyMetrics, ...(timing && { timing }) });
  const handler = makeApiHandler({
    routes: makeRoutes({ ...useCases, docsAssetsBase: DOCS_ASSETS_PREFIX, info: options.info ?? infoFromEnv({}, false) }),
    authenticator: options.authenticator ?? openAccess,
    logger,
  });
  const assetsDir = swaggerUiDir();

  const server: Server = createServer((request, response) => {
    const started = performance.now();
    response.once('finish', () => logRequest(request.method ?? 'GET', request.url ?? '/', response.statusCode, performance.now() - started));
    void (async () => {
      try {
        const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
        // HEAD is GET without the body (RFC 9110), for every GET route.
        const method = request.method === 'HEAD' ? 'GET' : request.method;
        const reply = (result: Parameters<typeof writeResult>[1]) => (request.method === 'HEAD' ? writeHead(response, result) : writeResult(response, result));
        if (method === 'GET' && pathname === '/') {
          const base = `http://${request.headers.host ?? `127.0.0.1:${options.port}`}`;
          const body = { message: 'Kallisti Serverless API: Swagger UI at /docs, the OpenAPI document at /openapi.json', docs: `${base}/docs`, openapi: `${base}/openapi.json` };
          return reply({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        }
        if (request.method === 'GET' && pathname === METRICS_PATH) {
          const scrape = await metrics.text();
          response.writeHead(200, { 'Content-Type': scrape.contentType, 'Cache-Control': 'no-store' });
          return response.end(scrape.body);
        }
        if (request.method === 'GET' && pathname.startsWith(DOCS_ASSETS_PREFIX)) {
          const name = path.basename(pathname);
          const file = path.join(assetsDir, name);
          const content = await readFile(file).catch(() => undefined);
          if (!content) return writeResult(response, { statusCode: 404, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Not found' }) });
          response.writeHead(200, { 'Content-Type': ASSET_TYPES[path.extname(name)] ?? 'application/octet-stream', 'Cache-Control': 'max-age=3600' });
          return response.end(content);
        }
        const encoding = unsupportedEncoding(request);
        if (encoding !== undefined) {
          request.resume();
          return writeResult(response, { statusCode: 415, headers: { 'Content-Type': 'application/json', Connection: 'close' }, body: JSON.stringify({ message: encoding }) });
        }
        const body = await readRequestBody(request, DEFAULT_MAX_BODY_BYTES);
        if (body === undefined) {
          const message = `Request body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes, the limit.`;
          return writeResult(response, { statusCode: 413, headers: { 'Content-Type': 'application/json', Connection: 'close' }, body: JSON.stringify({ message }) });
        }
        const event = toApiGatewayEvent(request, body);
        if (request.method === 'HEAD') {
          event.httpMethod = 'GET';
          event.requestContext.httpMethod = 'GET';
        }
        reply(await handler(event, localContext('kallisti-local-api', 30_000)));
      } catch (error) {
        if (error instanceof ClientGoneError) return logger.info(`${request.method ?? 'GET'} ${request.url ?? '/'}: the client closed the connection before sending its whole body`);
        logger.error('Local server failure', { error: String(error) });
        if (!response.headersSent) writeResult(response, { statusCode: 500, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Internal server error' }) });
      }
    })();
  });
  answerClientErrors(server);
  /** One line per request (a Prometheus scrape every few seconds would only be noise). */
  function logRequest(method: string, url: string, status: number, ms: number): void {
    const pathname = new URL(url, 'http://localhost').pathname;
    if (pathname === METRICS_PATH && status === 200) return;
    logger.info(`${method} ${pathname} ${status} ${ms < 10 ? Math.round(ms * 10) / 10 : Math.round(ms)} ms`);
  }

  // The worker resumes trials accepted before a restart; only then does the server (and /health) answer.
  const resumedTrials = await queue.start();
  // Firings that fell while the server was down, before the timers start again from now.
  const missed = await makeRecordMissedFirings({
    schedules: stores.schedules,
    clock,
    firingOf: (schedule, at) => scheduler.firingOf(schedule, at),
    enqueueFiring: (firing) => queue.enqueueFiring(firing),
    logger,
  })();
  const armedSchedules = await scheduler.armAll(stores.schedules);
  // The store and the timers are in one process: nothing is in flight, so no grace period.
  const reconciliation = await makeReconcileSchedules({ ...stores, cloud: scheduler, clock, logger, metrics, graceMs: 0 })();
  const purge = () => purgeExpiredItems(dynamo.documentClient, tableName, clock.now());
  const purgedFiringRecords = await purge();
  const purgeTimer = setInterval(() => {
    purge().catch((error: unknown) => logger.error('Purging expired firing records failed; the next run tries again', { error: String(error) }));
  }, PURGE_EVERY_MS);
  purgeTimer.unref();
  // Trials the worker gave up on are ended with the reason (their post steps run first), as the scheduled watchdog does on AWS.
  const watchdog = startLocalWatchdog({ trials: stores.trials, queue, clock, logger, metrics, ...(options.watchdogEveryMs !== undefined && { everyMs: options.watchdogEveryMs }) });
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => resolve());
    });
  } catch (error) {
    clearInterval(purgeTimer);
    watchdog.stop();
    scheduler.stop();
    await queue.stop();
    await dynamo.close();
    await unlock();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalStartError(`Port ${options.port} on ${host} is already in use (another npm start?); stop it or set PORT to another port.`);
    }
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const startup: StartupSummary = { resumedTrials, missedFirings: missed.missed, caughtUpFirings: missed.caughtUp, armedSchedules, nextFirings: scheduler.nextFirings(), reconciliation, purgedFiringRecords };
  logStartup(logger, startup);

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    startup,
    stores,
    dynamo,
    worker: queue,
    scheduler,
    watchdog,
    metrics,
    safetyMetrics,
    deliver: (firing) => queue.enqueueFiring(firing),
    close: async () => {
      // No new work: no firing, no watchdog run, no trial taken off the queue.
      clearInterval(purgeTimer);
      watchdog.stop();
      scheduler.stop();
      // The worker first, the API still up: the running trial checkpoints at its next step or wait
      // boundary (its HTTP steps may call this very API), and goes on after the next start.
      await queue.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await dynamo.close();
      await unlock();
    },
  };
}
