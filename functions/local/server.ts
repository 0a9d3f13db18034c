import { readFile } from 'node:fs/promises';
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
import { LocalScheduler } from '../adapters/local/local-scheduler.js';
import { LocalTrialQueue } from '../adapters/local/local-trial-queue.js';
import { DynamoScheduleStore } from '../adapters/dynamodb/schedule-store.js';
import { makeFireSchedule } from '../use-cases/fire-schedule.js';
import { makeRunTrial } from '../executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../modules/registry.js';
import type { Clock, ExperimentStore, ScheduleFiring, ScheduleStore, TrialStore } from '../ports.js';
import { createLogger, type AppLogger } from '../logging.js';
import { buildUseCases, systemClock, uuidIds } from '../wiring.js';
import { localContext, readRequestBody, toApiGatewayEvent, writeResult } from './http-adapter.js';

const DOCS_ASSETS_PREFIX = '/docs/assets/';
const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.map': 'application/json', '.html': 'text/html' };

export interface LocalStores {
  experiments: ExperimentStore;
  trials: TrialStore;
  schedules: ScheduleStore;
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
}

export interface LocalServer {
  url: string;
  stores: LocalStores;
  dynamo: LocalDynamo;
  worker: LocalTrialQueue;
  scheduler: LocalScheduler;
  close(): Promise<void>;
}

function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

/**
 * Local mode: the same API handler as on Lambda, behind a plain Node HTTP
 * server, on an embedded DynamoDB, with the in-process worker as the queue.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const logger = options.logger ?? createLogger('kallisti-local');
  const tableName = options.tableName ?? 'kallisti';
  const dynamo = await startLocalDynamo({ path: options.dataDir, tableName });
  const stores: LocalStores = {
    experiments: new DynamoExperimentStore(dynamo.documentClient, tableName),
    trials: new DynamoTrialStore(dynamo.documentClient, tableName),
    schedules: new DynamoScheduleStore(dynamo.documentClient, tableName),
  };
  const clock = options.clock ?? systemClock;
  const registry = new ModuleRegistry(DEFAULT_MODULES);
  // The in-process sequential worker stands in for the FIFO queue and its consumer Lambda.
  const runTrial = makeRunTrial({ ...stores, registry, clock, logger });
  const queue = new LocalTrialQueue({ trials: stores.trials, runTrial, logger });
  // The in-process scheduler stands in for EventBridge Scheduler: each firing goes
  // through the same fire-schedule use case, and the trial it creates joins the queue.
  const scheduler = new LocalScheduler({ clock, fire: (firing) => void onFiring(firing) });
  const fireSchedule = makeFireSchedule({ ...stores, cloud: scheduler, clock, ids: uuidIds, logger });
  async function onFiring(firing: ScheduleFiring): Promise<void> {
    try {
      const trialId = await fireSchedule(firing);
      if (trialId) await queue.enqueue(trialId);
    } catch (error) {
      logger.error('Schedule firing failed', { scheduleId: firing.schedule_id, scheduledTime: firing.scheduled_time, error: String(error) });
    }
  }
  const useCases = buildUseCases({ ...stores, queue, cloud: scheduler, clock, registry, logger });
  const handler = makeApiHandler({
    routes: makeRoutes({ ...useCases, docsAssetsBase: DOCS_ASSETS_PREFIX }),
    authenticator: options.authenticator ?? openAccess,
    logger,
  });
  const assetsDir = swaggerUiDir();

  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
        if (request.method === 'GET' && pathname.startsWith(DOCS_ASSETS_PREFIX)) {
          const name = path.basename(pathname);
          const file = path.join(assetsDir, name);
          const content = await readFile(file).catch(() => undefined);
          if (!content) return writeResult(response, { statusCode: 404, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Not found' }) });
          response.writeHead(200, { 'Content-Type': ASSET_TYPES[path.extname(name)] ?? 'application/octet-stream', 'Cache-Control': 'max-age=3600' });
          return response.end(content);
        }
        const body = await readRequestBody(request, DEFAULT_MAX_BODY_BYTES + 1);
        const result = await handler(toApiGatewayEvent(request, body), localContext('kallisti-local-api', 30_000));
        writeResult(response, result);
      } catch (error) {
        logger.error('Local server failure', { error: String(error) });
        if (!response.headersSent) writeResult(response, { statusCode: 500, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Internal server error' }) });
      }
    })();
  });
  // The worker resumes trials accepted before a restart; only then does the server (and /health) answer.
  await queue.start();
  const armed = await scheduler.armAll(stores.schedules);
  logger.info('Local scheduler armed', { schedules: armed });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    stores,
    dynamo,
    worker: queue,
    scheduler,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      scheduler.stop();
      await queue.stop();
      await dynamo.close();
    },
  };
}
