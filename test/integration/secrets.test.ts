import { jest } from '@jest/globals';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readAuthConfig, type AuthConfig } from '../../functions/api/auth/auth-config.js';
import { createJwtAuthenticator } from '../../functions/api/auth/jwt-authenticator.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import type { AppLogger } from '../../functions/logging.js';
import { setHttpPolicy } from '../../functions/modules/cm/http.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { systemClock } from '../../functions/wiring.js';
import { startApiHarness } from '../support/api-harness.js';
import { bearer, nowSeconds, TestIdentityProvider } from '../support/identity-provider.js';

type Body = Record<string, unknown>;

const HEADER_SECRET = 'hdr-secret-A1B2C3D4';
const PASSWORD = 'basic-pass-Z9Y8X7W6';
const USERNAME = 'svc-chaos-user';
const TOKEN = 'tok-SECRET-99887766';
const BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');

/** Every line any logger or the console wrote during the test, as JSON. */
const lines: string[] = [];
const capture = (level: string) => (message: string, extra?: object) => lines.push(JSON.stringify({ level, message, extra }));
const logger: AppLogger = { info: capture('info'), warn: capture('warn'), error: capture('error') };

let echo: http.Server;
let echoBase: string;
let idp: TestIdentityProvider;

beforeAll(async () => {
  setHttpPolicy({ allowLinkLocal: false });
  // Echoes everything it received, as a careless or hostile service would.
  echo = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const payload = JSON.stringify({ headers: req.headers, query: Object.fromEntries(url.searchParams), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(url.pathname === '/fail' ? 500 : 200, { 'content-type': 'application/json', 'x-echo-authorization': req.headers.authorization ?? '' });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoBase = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  idp = await TestIdentityProvider.start();
});

afterAll(async () => {
  echo.closeAllConnections();
  await new Promise((resolve) => echo.close(resolve));
  await idp.stop();
});

describe('secrets', () => {
  it('never writes credentials to logs, the trial record or the stored trial', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(JSON.stringify(args))));
    const authenticator = createJwtAuthenticator(readAuthConfig(idp.env()) as AuthConfig, { logger });
    const api = await startApiHarness({ authenticator, logger });
    try {
      const apiToken = await idp.token({ claims: { sub: 'alice' } });
      const refused = await idp.token({ expiresAt: nowSeconds() - 3600 });
      expect((await api.call('GET', '/trial', undefined, bearer(refused))).status).toBe(401);

      const created = await api.call(
        'POST',
        '/experiment',
        {
          name: 'calls a service with credentials',
          steps: [
            {
              step: 'bearer and templated token',
              do: 'cm.http_request',
              where: {
                url: `${echoBase}/echo?sig={{ token }}`,
                method: 'POST',
                headers: { Authorization: `Bearer ${HEADER_SECRET}`, 'X-Trace': 'visible' },
                request_body: { note: 'sent {{ token }}' },
              },
              // Passing expectations log the actual value: the echoed secrets.
              expect: [
                { operator: 'ne', 'response.headers.authorization': 'x' },
                { operator: 'ne', 'response.query.sig': 'x' },
                { operator: 'ne', 'response.body': 'x' },
              ],
            },
            {
              step: 'basic authentication',
              do: 'cm.http_request',
              where: { url: `${echoBase}/echo`, authentication: { type: 'basic', username: USERNAME, password: PASSWORD } },
              expect: [{ operator: 'ne', 'response.headers.authorization': 'x' }, { operator: 'eq', 'response_headers.x-echo-authorization': 'not what it is' }],
            },
          ],
          post_steps: [{ step: 'failing call', do: 'cm.http_probe', where: { url: `${echoBase}/fail?t={{ token }}`, headers: { 'X-Api-Token': '{{ token }}' } } }],
        },
        bearer(apiToken),
      );
      expect(created.status).toBe(201);
      const experimentId = String((created.body as Body)['id']);

      const accepted = await api.call('POST', '/trial', { experiment: experimentId, parameters: { token: TOKEN, region: 'eu-west-1' } }, bearer(apiToken));
      expect(accepted.status).toBe(201);
      const trialId = String((accepted.body as Body)['id']);
      // Readers never see a credential parameter, even before the run.
      expect((accepted.body as Body)['parameters']).toEqual({ token: '***', region: 'eu-west-1' });
      expect((await api.call('GET', `/trial/${trialId}`, undefined, bearer(apiToken))).text).not.toContain(TOKEN);

      const runTrial = makeRunTrial({ trials: api.trials, experiments: api.experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: systemClock, logger });
      expect(await runTrial(trialId)).toEqual({ outcome: 'ran', status: 'Failed' });

      const stored = await api.trials.get(trialId);
      expect(stored?.status).toBe('Failed');
      expect(stored?.parameters).toEqual({ token: '***', region: 'eu-west-1' });
      const steps = stored?.trial_record.steps ?? [];
      expect(steps[0]?.step_parameters).toMatchObject({ url: `${echoBase}/echo?sig=***`, headers: { Authorization: '***', 'X-Trace': 'visible' }, request_body: { note: 'sent ***' } });
      expect(steps[1]?.step_parameters).toMatchObject({ authentication: { type: 'basic', username: '***', password: '***' } });
      // The steps did run and saw the echoed values: the expectations logged them, masked (the Basic header's base64 too).
      expect(steps[0]?.logs.join('\n')).toContain('Expectation passed: response.query.sig ne "x" (actual "***")');
      expect(steps[0]?.logs.join('\n')).toContain('Expectation passed: response.body ne "x" (actual "{\\"note\\":\\"sent ***\\"}")');
      expect(steps[1]?.logs.join('\n')).toContain('Expectation failed: response_headers.x-echo-authorization expected eq "not what it is", actual "Basic ***"');

      const table = await api.dynamo.documentClient.send(new ScanCommand({ TableName: api.dynamo.tableName }));
      const storedTrial = JSON.stringify((table.Items ?? []).filter((item) => item['type'] === 'TRIAL'));
      const response = (await api.call('GET', `/trial/${trialId}`, undefined, bearer(apiToken))).text;
      const logs = lines.join('\n');
      expect(logs).toContain('Bearer token refused');
      for (const secret of [HEADER_SECRET, PASSWORD, USERNAME, TOKEN, BASIC, apiToken, refused]) {
        expect({ secret, inTrial: storedTrial.includes(secret), inLogs: logs.includes(secret), inResponse: response.includes(secret) }).toEqual({ secret, inTrial: false, inLogs: false, inResponse: false });
      }
    } finally {
      spies.forEach((spy) => spy.mockRestore());
      await api.close();
    }
  });
});
