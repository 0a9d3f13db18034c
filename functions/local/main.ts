import path from 'node:path';
import { integer, optional } from '../config.js';
import { createLogger } from '../logging.js';
import { startLocalServer } from './server.js';

/**
 * `npm start`: the API on http://127.0.0.1:3000 (PORT), data under .kallisti/
 * (KALLISTI_DATA_DIR), trials run by the in-process sequential worker.
 */
const logger = createLogger('kallisti-local', optional(process.env, 'LOG_LEVEL', 'INFO'));
const port = integer(process.env, 'PORT', 3000);
const dataDir = path.resolve(optional(process.env, 'KALLISTI_DATA_DIR', '.kallisti'));

const server = await startLocalServer({ port, dataDir, logger });
console.log(`Kallisti Serverless (local mode) listening on ${server.url}`);
console.log(`  Swagger UI: ${server.url}/docs    data: ${dataDir}`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`${signal} received: finishing the running trial step, then stopping.`);
  await server.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
