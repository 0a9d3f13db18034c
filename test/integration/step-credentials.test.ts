import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsSecretSource } from '../../functions/adapters/secrets/aws-secret-source.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import type { AppLogger } from '../../functions/logging.js';
import { policyFromEnv, setCredentialPolicy } from '../../functions/modules/cm/credentials.js';
import { setHttpPolicy } from '../../functions/modules/cm/http.js';
import { clearTokenCache } from '../../functions/modules/cm/step-auth.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { systemClock } from '../../functions/wiring.js';
import { startApiHarness } from '../support/api-harness.js';

/**
 * Kallisti's `oauth2_token` step authentication (kallisti-core modules/common/__init__.py:
 * password grant, client id and secret as Basic, `resource`, `token_key`) with its
 * credential taken from a Secrets Manager reference, run by the real executor.
 */
type Body = Record<string, unknown>;

const USERNAME = 'svc-chaos';
const PASSWORD = 'pw-Secret-4455667788';
const CLIENT_SECRET = 'client-Secret-1122334455';
const ACCESS_TOKEN = 'access-Token-9988776655';
const CLIENT_BASIC = Buffer.from(`kallisti:${CLIENT_SECRET}`).toString('base64');
const USER_BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');

const secretsManager = mockClient(SecretsManagerClient);
const lines: string[] = [];
const capture = (level: string) => (message: string, extra?: object) => void lines.push(JSON.stringify({ level, message, extra }));
const logger: AppLogger = { info: capture('info'), warn: capture('warn'), error: capture('error') };

let server: http.Server;
let base: string;
const tokenRequests: { authorization: string | undefined; form: Record<string, string> }[] = [];

beforeAll(async () => {
  setHttpPolicy({ allowLinkLocal: false });
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/token') {
        const form = Object.fromEntries(new URLSearchParams(body));
        tokenRequests.push({ authorization: req.headers.authorization, form });
        const ok = req.headers.authorization === `Basic ${CLIENT_BASIC}` && form['username'] === USERNAME && form['password'] === PASSWORD;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 }) : '{"error":"invalid_grant"}');
        return;
      }
      // Echoes what it got, as a careless service would: the Authorization header included.
      res.writeHead(req.headers.authorization === `Bearer ${ACCESS_TOKEN}` ? 200 : 401, { 'content-type': 'application/json', 'x-echo-authorization': req.headers.authorization ?? '' });
      res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  setCredentialPolicy(policyFromEnv({}));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  clearTokenCache();
  secretsManager.reset();
  tokenRequests.length = 0;
  lines.length = 0;
  setCredentialPolicy(policyFromEnv({}, new AwsSecretSource(new SecretsManagerClient({ region: 'eu-west-1' }), new SSMClient({ region: 'eu-west-1' }), { prefix: 'kallisti/dev/' })));
});

const oauth2 = (id: string) => ({
  type: 'oauth2_token',
  url: `${base}/token`,
  credentials: { type: 'secretsmanager', id },
  client: { id: 'kallisti', secret: CLIENT_SECRET },
  resource: 'api://chaos',
});

describe('oauth2_token with a Secrets Manager credential', () => {
  it('gets the token once, calls with it, and keeps token, password and client secret out of the record, the store, the logs and the API', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: USERNAME, password: PASSWORD }) });
    const api = await startApiHarness({ logger });
    try {
      const step = (name: string) => ({
        step: name,
        do: 'cm.http_request',
        where: { url: `${base}/orders`, authentication: oauth2('kallisti/dev/orders-svc') },
        expect: [{ operator: 'eq', status_code: 200 }, { operator: 'ne', 'response_headers.x-echo-authorization': 'x' }],
      });
      const created = await api.call('POST', '/experiment', {
        name: 'calls with an OAuth2 token',
        steps: [step('first call'), step('second call (token reused)')],
        post_steps: [{ step: 'secret outside the prefix', do: 'cm.http_request', where: { url: `${base}/orders`, authentication: oauth2('kallisti/prod/orders-svc') } }],
      });
      expect(created.status).toBe(201);
      const experimentId = String((created.body as Body)['id']);
      const trialId = String(((await api.call('POST', '/trial', { experiment: experimentId })).body as Body)['id']);

      const runTrial = makeRunTrial({ trials: api.trials, experiments: api.experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: systemClock, logger });
      // The post step's secret is refused: the trial fails on it, after both calls passed.
      expect(await runTrial(trialId)).toEqual({ outcome: 'ran', status: 'Failed' });

      // One secret read (cached), with exactly this input; none for the name outside the prefix.
      expect(secretsManager.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'kallisti/dev/orders-svc' }]);
      // One token request, as Kallisti sends it: password grant, resource, client as Basic; the token is reused by the second step.
      expect(tokenRequests).toEqual([{ authorization: `Basic ${CLIENT_BASIC}`, form: { grant_type: 'password', username: USERNAME, password: PASSWORD, resource: 'api://chaos' } }]);

      const stored = await api.trials.get(trialId);
      const [first, second] = stored?.trial_record.steps ?? [];
      expect(first?.logs.join('\n')).toContain('Expectation passed: status_code eq 200');
      expect(first?.logs.join('\n')).toContain('Expectation passed: response_headers.x-echo-authorization ne "x" (actual "Bearer ***")');
      expect(second?.logs.join('\n')).toContain('Expectation passed: status_code eq 200');
      expect(first?.step_parameters).toMatchObject({ authentication: { type: 'oauth2_token', url: '***', credentials: '***', client: '***', resource: '***' } });
      const post = stored?.trial_record.post_steps[0]?.logs.join('\n') ?? '';
      expect(post).toContain('is outside the prefix kallisti/dev/ this worker may read');

      const table = await api.dynamo.documentClient.send(new ScanCommand({ TableName: api.dynamo.tableName }));
      // The trial and its record entries (a secret written inline in the experiment is kept with its definition, as any inline value).
      const storedItems = JSON.stringify((table.Items ?? []).filter((item) => item['sk'] === 'TRIAL' || String(item['sk']).startsWith('RECORD#')));
      const shown = (await api.call('GET', `/trial/${trialId}`)).text + (await api.call('GET', `/experiment/${experimentId}`)).text;
      const logs = lines.join('\n');
      for (const secret of [ACCESS_TOKEN, PASSWORD, CLIENT_SECRET, CLIENT_BASIC, USER_BASIC]) {
        expect({ secret, stored: storedItems.includes(secret), logs: logs.includes(secret), api: shown.includes(secret) }).toEqual({ secret, stored: false, logs: false, api: false });
      }
    } finally {
      await api.close();
    }
  });

  it('fails the step, naming the status only, when the token endpoint refuses; and refuses bad authentication when the experiment is saved', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: USERNAME, password: 'wrong-Password-000' }) });
    const api = await startApiHarness({ logger });
    try {
      const bad = await api.call('POST', '/experiment', { name: 'x', steps: [{ step: 's', do: 'cm.http_request', where: { url: `${base}/orders`, authentication: { type: 'oauth2_token', credentials: { type: 'vault', id: 'x' } } } }] });
      expect(bad.status).toBe(400);
      expect((bad.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(expect.arrayContaining(['steps[0].where.authentication']));

      const created = await api.call('POST', '/experiment', { name: 'refused', steps: [{ step: 'call', do: 'cm.http_request', where: { url: `${base}/orders`, authentication: oauth2('kallisti/dev/orders-svc') } }] });
      const trialId = String(((await api.call('POST', '/trial', { experiment: String((created.body as Body)['id']) })).body as Body)['id']);
      const runTrial = makeRunTrial({ trials: api.trials, experiments: api.experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: systemClock, logger });
      expect(await runTrial(trialId)).toEqual({ outcome: 'ran', status: 'Failed' });
      const logs = (await api.trials.get(trialId))?.trial_record.steps[0]?.logs.join('\n') ?? '';
      expect(logs).toContain('Authentication for the HTTP request failed: the token endpoint answered 401.');
      expect(logs).not.toContain('wrong-Password-000');
    } finally {
      await api.close();
    }
  });
});
