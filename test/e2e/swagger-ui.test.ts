import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import swaggerUiPackage from 'swagger-ui-dist/package.json' with { type: 'json' };
import document from '../../openapi.json' with { type: 'json' };
import { swaggerUiHtml } from '../../functions/api/docs.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { AppLogger } from '../../functions/logging.js';
import { BrowserNotFoundError, findBrowser } from '../support/find-browser.js';
import { swaggerUiIntegrity } from '../../lib/swagger-ui-integrity.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = path.join(process.cwd(), 'test-results', 'swagger-ui.png');
const TIMEOUT_MS = 60_000;

const quiet: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The browser to drive (CHROMIUM_PATH, then chromium, chromium-browser, google-chrome on PATH), or why there is none. */
function lookUpBrowser(): { path: string } | { missing: BrowserNotFoundError } {
  try {
    return { path: findBrowser({ env: process.env }) };
  } catch (error) {
    if (error instanceof BrowserNotFoundError) return { missing: error };
    throw error;
  }
}
const BROWSER = lookUpBrowser();

/** Without a browser the browser tests cannot run: a failure in CI, a warning elsewhere. */
function browserAvailable(): boolean {
  if ('path' in BROWSER) return true;
  if (process.env['CI'] === 'true') throw BROWSER.missing;
  console.warn(`Browser test not run: ${BROWSER.missing.message}`);
  return false;
}

let dataDir: string;
let server: LocalServer;
let browser: Browser | undefined;
let page: Page;
/** Console errors and uncaught exceptions in the page. */
let pageErrors: string[];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-e2e-'));
  server = await startLocalServer({ port: 0, dataDir, logger: quiet });
  if ('path' in BROWSER) browser = await chromium.launch({ executablePath: BROWSER.path, args: CHROMIUM_ARGS });
}, TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
}, TIMEOUT_MS);

beforeEach(async () => {
  pageErrors = [];
  if (!browser) return;
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // The browser asks for /favicon.ico on its own; the API has none.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) pageErrors.push(`console: ${message.text()}`);
  });
});

afterEach(async () => {
  await page?.close();
});

/** Expands an operation and switches it to "Try it out". */
async function tryOut(operationId: string, tag: string): Promise<Locator> {
  const operation = page.locator(`#operations-${tag}-${operationId}`);
  await operation.locator('.opblock-summary').click();
  await operation.locator('button.try-out__btn').click();
  return operation;
}

/** Clicks Execute and waits for Swagger UI to show the live response to this very request. */
async function execute(operation: Locator, urlPart: string): Promise<{ status: string; body: string }> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().includes(urlPart)), operation.locator('button.execute').click()]);
  const status = String(response.status());
  const cell = operation.locator('.live-responses-table tbody .response-col_status');
  await expectText(cell, status);
  const body = (await operation.locator('.live-responses-table .response-col_description pre').first().textContent()) ?? '';
  return { status: (await cell.first().textContent())?.trim() ?? '', body };
}

async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor();
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Swagger UI's element id and summary of every operation. */
function operationsInSpec(): { id: string; summary: string }[] {
  const paths = document.paths as unknown as Record<string, Record<string, { operationId: string; summary: string; tags: string[] }>>;
  return Object.values(paths).flatMap((item) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([, op]) => ({ id: `operations-${op.tags[0] ?? 'default'}-${op.operationId}`, summary: op.summary })),
  );
}

describe('Swagger UI in a real browser', () => {
  it(
    'renders every operation and runs an experiment to Succeeded through Try it out',
    async () => {
      if (!browserAvailable()) return;
      await page.goto(`${server.url}/docs`);
      await page.locator('.opblock').first().waitFor();

      // Every operation of openapi.json is there with its summary, and the spec raised no error.
      const shown = await page.locator('.opblock').evaluateAll((blocks) =>
        blocks.map((b) => ({ id: b.id, summary: b.querySelector('.opblock-summary-description')?.textContent ?? '' })),
      );
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      expect(shown.sort(byId)).toEqual(operationsInSpec().sort(byId));
      expect(await page.locator('.errors-wrapper').count()).toBe(0);

      // POST /experiment: an experiment whose only step probes this server's /health.
      const createExperiment = await tryOut('createExperiment', 'experiment');
      const definition = { name: 'Swagger UI end to end', steps: [{ step: 'API is healthy', do: 'cm.http_probe', where: { url: `${server.url}/health` }, expect: [{ operator: 'eq', status_code: 200 }] }] };
      await createExperiment.locator('textarea.body-param__text').fill(JSON.stringify(definition, null, 2));
      const created = await execute(createExperiment, '/experiment');
      expect(created.status).toBe('201');
      const experimentId = (JSON.parse(created.body) as { id: string }).id;

      // POST /trial with the new experiment.
      const createTrial = await tryOut('createTrial', 'trial');
      await createTrial.locator('textarea.body-param__text').fill(JSON.stringify({ experiment: experimentId, metadata: { via: 'swagger-ui' } }));
      const started = await execute(createTrial, '/trial');
      expect(started.status).toBe('201');
      const trial = JSON.parse(started.body) as { id: string; status: string };
      expect(trial.status).toBe('Scheduled');

      // GET /trial/{trial_id} until the worker has run it.
      const getTrial = await tryOut('getTrial', 'trial');
      await getTrial.locator('input[placeholder="trial_id"]').fill(trial.id);
      let status = '';
      for (const until = Date.now() + 20_000; status !== 'Succeeded' && Date.now() < until; ) {
        const read = await execute(getTrial, `/trial/${trial.id}`);
        expect(read.status).toBe('200');
        status = (JSON.parse(read.body) as { status: string }).status;
        if (status !== 'Succeeded') await page.waitForTimeout(250);
      }
      expect(status).toBe('Succeeded');
      const stored = (await (await fetch(`${server.url}/trial/${trial.id}`)).json()) as { status: string };
      expect(stored.status).toBe('Succeeded');

      // GET /report as JUnit for that trial.
      const getReport = await tryOut('getReport', 'report');
      await getReport.locator('input[placeholder="trial-id"]').fill(trial.id);
      await getReport.locator('.parameters-col_description > select').selectOption('junit');
      const report = await execute(getReport, '/report');
      expect(report.status).toBe('200');
      expect(report.body).toContain('<testsuites name="kallisti" tests="1" failures="0" errors="0"');
      expect(report.body).toContain(`<testcase name="${trial.id}" classname="Swagger UI end to end"`);

      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await getTrial.screenshot({ path: SCREENSHOT });
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'answers at Kallisti\u2019s /swagger/ too, with the same operations, and GET /info runs through Try it out',
    async () => {
      if (!browserAvailable()) return;
      await page.goto(`${server.url}/swagger/`);
      await page.locator('.opblock').first().waitFor();
      expect(await page.locator('.opblock').count()).toBe(operationsInSpec().length);
      const info = await execute(await tryOut('getInfo', 'info'), '/info');
      expect(info.status).toBe('200');
      expect(JSON.parse(info.body)).toEqual({ version: expect.any(String), platform: { TOKEN_URL: '', AUTHORIZE_URL: '' } });
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'renders the deployed page from the pinned CDN copy of swagger-ui-dist (checked by SRI), calling no other site',
    async () => {
      if (!browserAvailable()) return;
      // The page the Lambda answers behind a stage (functions/api/lambda.ts); the CDN is answered from the installed package.
      const site = 'https://kallisti.example.test/prod';
      const cdn = `https://cdn.jsdelivr.net/npm/swagger-ui-dist@${swaggerUiPackage.version}`;
      const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
      const fromCdn: string[] = [];
      const elsewhere: string[] = [];
      await page.route('**/*', async (route) => {
        const url = route.request().url();
        if (url.startsWith(`${cdn}/`)) {
          fromCdn.push(url);
          return route.fulfill({ path: path.join(dist, path.basename(new URL(url).pathname)) });
        }
        if (url === `${site}/docs`) return route.fulfill({ contentType: 'text/html; charset=utf-8', body: swaggerUiHtml(cdn, '/prod/openapi.json', swaggerUiIntegrity()) });
        if (url === `${site}/openapi.json`) return route.fulfill({ response: await route.fetch({ url: `${server.url}/openapi.json` }) });
        elsewhere.push(url);
        return route.abort();
      });
      await page.goto(`${site}/docs`);
      await page.locator('#operations-report-getReport').waitFor();
      expect(fromCdn.sort()).toEqual([`${cdn}/swagger-ui-bundle.js`, `${cdn}/swagger-ui.css`]);
      expect(elsewhere).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'shows the XML report as tables through its embedded stylesheet',
    async () => {
      if (!browserAvailable()) return;
      const experiment = (await (
        await fetch(`${server.url}/experiment`, {
          method: 'POST',
          body: JSON.stringify({ name: 'Report <in> the & browser', steps: [{ step: 'wait', do: 'cm.wait', where: { time_in_seconds: 0.01 } }] }),
        })
      ).json()) as { id: string };
      const trial = (await (await fetch(`${server.url}/trial`, { method: 'POST', body: JSON.stringify({ experiment: experiment.id }) })).json()) as { id: string };

      const response = await page.goto(`${server.url}/report?experiment=${experiment.id}`);
      expect(response?.headers()['content-type']).toBe('application/xml; charset=utf-8');
      if (!(await page.evaluate(() => 'XSLTProcessor' in globalThis))) {
        // Browsers are retiring XSLT; the report is then shown as an XML tree, still readable.
        console.warn('This Chromium has no XSLT: the report stylesheet was not applied.');
        return;
      }
      await expectText(page.locator('h1'), 'Kallisti report');
      const row = page.locator('#summary tbody tr');
      await expect(row.count()).resolves.toBe(1);
      await expect(row.locator('td').allTextContents()).resolves.toEqual(expect.arrayContaining(['Report <in> the & browser', trial.id]));
      await expectText(page.locator('h3'), `Trial ${trial.id}`);
      // The XSLT deprecation notice is a warning; anything logged as an error is not expected.
      expect(pageErrors).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
