import path from 'node:path';
import { AuthConfigError } from '../api/auth/auth-config.js';
import { authenticatorFromEnv, describeAuth, type ConfiguredAuth } from '../api/auth/configure.js';
import { integer, optional } from '../config.js';
import { createLogger, type AppLogger } from '../logging.js';
import { EgressConfigError, egressPolicyFromEnv } from '../net/egress.js';
import { setEgressPolicy } from '../net/guarded-request.js';
import { infoFromEnv } from '../api/info.js';
import { lazySecretSource, policyFromEnv, setCredentialPolicy } from '../modules/cm/credentials.js';
import { LocalStartError, startLocalServer, type LocalServer } from './server.js';
import { createTerminalLogger, InvalidLogLevelError, parseLevel } from './terminal-logger.js';

/**
 * `npm start`: the API on http://127.0.0.1:3000 (PORT), data under .kallisti/
 * (KALLISTI_DATA_DIR), trials run by the in-process sequential worker.
 */
/** Readable lines by default; LOG_FORMAT=json for the same JSON lines as on Lambda. */
function localLogger(): AppLogger {
  const level = optional(process.env, 'LOG_LEVEL', 'INFO');
  try {
    const parsed = parseLevel(level);
    return optional(process.env, 'LOG_FORMAT', 'text') === 'json' ? createLogger('kallisti-local', parsed) : createTerminalLogger({ level: parsed });
  } catch (error) {
    if (!(error instanceof InvalidLogLevelError)) throw error;
    console.error(`Cannot start: ${error.message}`);
    process.exit(1);
  }
}

const logger = localLogger();
const port = integer(process.env, 'PORT', 3000);
const dataDir = path.resolve(optional(process.env, 'KALLISTI_DATA_DIR', '.kallisti'));
const budget = integer(process.env, 'KALLISTI_WORKER_BUDGET_SECONDS', 0);
const workerBudgetSeconds = budget > 0 ? budget : undefined;

let auth: ConfiguredAuth;
try {
  auth = authenticatorFromEnv(process.env, logger);
} catch (error) {
  if (!(error instanceof AuthConfigError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
}
try {
  setEgressPolicy(egressPolicyFromEnv(process.env));
} catch (error) {
  if (!(error instanceof EgressConfigError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
}
if (auth.mode === 'jwt') await auth.authenticator.hydrate().catch((error: unknown) => console.warn(`Could not load the signing keys yet (${String(error)}); they are fetched again on the first request.`));

// Step credentials, as in the worker: allow-listed environment variables, token files under
// KALLISTI_CREDENTIAL_FILE_DIR, and AWS secrets under KALLISTI_SECRET_PREFIX (read with this machine's AWS credentials).
const secretPrefix = process.env['KALLISTI_SECRET_PREFIX'];
setCredentialPolicy(
  policyFromEnv(process.env, secretPrefix ? lazySecretSource(async () => (await import('../adapters/secrets/aws-secret-source.js')).createAwsSecretSource(secretPrefix)) : undefined),
);

const trialWebhookUrl = optional(process.env, 'KALLISTI_TRIAL_WEBHOOK_URL', '');
if (trialWebhookUrl && !/^https?:\/\//i.test(trialWebhookUrl)) {
  console.error('Cannot start: KALLISTI_TRIAL_WEBHOOK_URL must be an http(s) URL.');
  process.exit(1);
}
let server: LocalServer;
try {
  server = await startLocalServer({
    port,
    dataDir,
    logger,
    authenticator: auth.authenticator,
    info: infoFromEnv(process.env, auth.mode !== 'open'),
    ...(trialWebhookUrl && { trialWebhookUrl }),
    ...(workerBudgetSeconds !== undefined && { workerBudgetSeconds }),
  });
} catch (error) {
  if (!(error instanceof LocalStartError)) throw error;
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
}
console.log(`Kallisti Serverless (local mode) listening on ${server.url}`);
console.log(`  Swagger UI: ${server.url}/docs    metrics: ${server.url}/metrics    data: ${dataDir}`);
if (workerBudgetSeconds !== undefined) console.log(`  Worker slices of ${workerBudgetSeconds} s (KALLISTI_WORKER_BUDGET_SECONDS), as on Lambda.`);
if (auth.mode === 'open') console.warn(`\n  WARNING: ${describeAuth(auth)}\n`);
else console.log(`  ${describeAuth(auth)}`);

let closing = false;
/** How long the first Ctrl-C waits for the running trial to reach a step or wait boundary. */
const SHUTDOWN_GRACE_MS = 4500;

/**
 * First Ctrl-C / SIGTERM: no new work; the running trial checkpoints at its next step or
 * wait boundary (it goes on after the next start) while the API stays up; then exit,
 * within ~5 s whatever happens. Second Ctrl-C: exit now (the trial is then recovered as
 * interrupted at the next start: its post steps run, it ends Failed).
 */
async function shutdown(signal: string): Promise<void> {
  if (closing) {
    console.log(`${signal} again: exiting now; the running trial is recovered as interrupted at the next start (its post steps run).`);
    process.exit(130);
  }
  closing = true;
  console.log(`${signal} received: taking no new trial; the running trial checkpoints at its next step or wait boundary and goes on after the next start. The API stays up meanwhile (at most ${Math.ceil(SHUTDOWN_GRACE_MS / 1000)} s). Press Ctrl-C again to exit now.`);
  const deadline = setTimeout(() => {
    console.log('The running step did not end in time: exiting; the trial is recovered as interrupted at the next start (its post steps run).');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  await server.close();
  clearTimeout(deadline);
  console.log('Stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
