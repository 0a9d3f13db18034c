import { Logger } from '@aws-lambda-powertools/logger';
import swaggerUiPackage from 'swagger-ui-dist/package.json' with { type: 'json' };
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { DynamoExperimentStore } from '../adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../adapters/dynamodb/trial-store.js';
import { createSqsTrialQueue } from '../adapters/sqs/sqs-trial-queue.js';
import { required } from '../config.js';
import { buildUseCases } from '../wiring.js';
import { makeApiHandler } from './app.js';
import { openAccess } from './identity.js';
import { makeRoutes } from './routes.js';

// Built once per container: configuration, SDK clients and the use-case graph.
const tableName = required(process.env, 'KALLISTI_TABLE');
const queueUrl = required(process.env, 'KALLISTI_QUEUE_URL');
const logger = new Logger({ serviceName: 'kallisti-api' });
const documentClient = createDocumentClient();
const useCases = buildUseCases({
  experiments: new DynamoExperimentStore(documentClient, tableName),
  trials: new DynamoTrialStore(documentClient, tableName),
  queue: createSqsTrialQueue(queueUrl),
});

// The Lambda bundle stays small by loading Swagger UI's assets from a pinned public CDN copy.
const docsAssetsBase = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${swaggerUiPackage.version}`;

export const handler = makeApiHandler({
  routes: makeRoutes({ ...useCases, docsAssetsBase }),
  authenticator: openAccess,
  logger,
});
