import { Logger } from '@aws-lambda-powertools/logger';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startLocalDynamo, type LocalDynamo } from '../adapters/local/dynalite.js';
import { DynamoExperimentStore } from '../adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../adapters/dynamodb/trial-store.js';
import { DEFAULT_MAX_BODY_BYTES, makeApiHandler } from '../api/app.js';
import { openAccess } from '../api/identity.js';
import { makeRoutes } from '../api/routes.js';
import type { Clock, TrialQueue, TrialStore, ExperimentStore } from '../ports.js';
import { buildUseCases } from '../wiring.js';
import { localContext, readRequestBody, toApiGatewayEvent, writeResult } from './http-adapter.js';

const DOCS_ASSETS_PREFIX = '/docs/assets/';
const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.map': 'application/json', '.html': 'text/html' };

export interface LocalStores {
  experiments: ExperimentStore;
  trials: TrialStore;
}

export interface LocalServerOptions {
  port: number;
  host?: string;
  /** Directory for the embedded DynamoDB's files; in memory when omitted. */
  dataDir?: string;
  tableName?: string;
  clock?: Clock;
  /** Builds the trial queue (the in-process worker) once the stores exist. */
  queue: (stores: LocalStores) => TrialQueue & { start?(): Promise<void>; stop?(): Promise<void> };
  logger?: Logger;
}

export interface LocalServer {
  url: string;
  stores: LocalStores;
  dynamo: LocalDynamo;
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
  const logger = options.logger ?? new Logger({ serviceName: 'kallisti-local' });
  const tableName = options.tableName ?? 'kallisti';
  const dynamo = await startLocalDynamo({ path: options.dataDir, tableName });
  const stores: LocalStores = {
    experiments: new DynamoExperimentStore(dynamo.documentClient, tableName),
    trials: new DynamoTrialStore(dynamo.documentClient, tableName),
  };
  const queue = options.queue(stores);
  const useCases = buildUseCases({ ...stores, queue, clock: options.clock });
  const handler = makeApiHandler({
    routes: makeRoutes({ ...useCases, docsAssetsBase: DOCS_ASSETS_PREFIX }),
    authenticator: openAccess,
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
        logger.error('Local server failure', error as Error);
        if (!response.headersSent) writeResult(response, { statusCode: 500, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message: 'Internal server error' }) });
      }
    })();
  });
  // The worker resumes trials accepted before a restart; only then does the server (and /health) answer.
  await queue.start?.();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    stores,
    dynamo,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await queue.stop?.();
      await dynamo.close();
    },
  };
}
