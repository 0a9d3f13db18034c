import { buildOptions, HANDLER_FILE, STEP_SDK_CLIENTS } from '../../lib/bundling.js';
import { measureBundles, type BundleSize } from '../../scripts/bundle-size.js';

const ONE_MB = 1024 * 1024;

/** The SDK clients each function creates at start; every other client (a step module's) must load on demand. */
const CLIENTS_AT_START: Record<string, string[]> = {
  api: ['client-dynamodb', 'client-sqs'],
  worker: ['client-dynamodb', 'client-sqs'],
  reconciler: ['client-dynamodb', 'client-scheduler'],
  watchdog: ['client-dynamodb', 'client-sqs'],
};

let sizes: BundleSize[];

beforeAll(async () => {
  sizes = await measureBundles();
}, 300_000);

const size = (name: string) => sizes.find((s) => s.name === name) as BundleSize;

describe('Lambda bundles', () => {
  it('builds the API, the worker, the schedule reconciler and the watchdog', () => {
    expect(sizes.map((s) => s.name)).toEqual(['api', 'worker', 'reconciler', 'watchdog']);
    for (const s of sizes) expect(s.files).toContain(HANDLER_FILE);
  });

  it.each(['api', 'worker', 'reconciler', 'watchdog'])('keeps what the %s loads at a cold start under 1 MB minified', (name) => {
    expect(size(name).bytes).toBeGreaterThan(10 * 1024);
    expect(size(name).bytes).toBeLessThan(ONE_MB);
    expect(size(name).bytes).toBeLessThanOrEqual(size(name).totalBytes);
  });

  it.each(['api', 'worker', 'reconciler', 'watchdog'])('the %s loads no SDK client at a cold start but those it creates there', (name) => {
    const clients = new Set(size(name).loadedInputs.flatMap((input) => /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(input)?.[1] ?? []));
    expect([...clients].sort()).toEqual(CLIENTS_AT_START[name]);
  });

  it.each(['api', 'worker'])('the %s loads neither ajv’s compiler nor the whole openapi.json at a cold start', (name) => {
    const loaded = size(name).loadedInputs;
    expect(loaded.filter((input) => /node_modules\/ajv\/dist\/(core|compile|vocabularies)\//.test(input) || input.endsWith('node_modules/ajv/dist/ajv.js'))).toEqual([]);
    expect(loaded).not.toContain('openapi.json');
    // The validators were compiled at build time instead.
    expect(loaded).toEqual(expect.arrayContaining([expect.stringMatching(/^kallisti-validators:/)]));
  });

  it.each(['api', 'worker'])('the %s loads no step command’s where validator at a cold start: each is a chunk of its own, loaded on first use', (name) => {
    const whereValidators = (paths: string[]) => paths.filter((p) => /(^|\/)where-\d+(-[A-Z0-9]+\.mjs)?$/.test(p));
    expect(whereValidators(size(name).loadedInputs)).toEqual([]);
    expect(whereValidators(size(name).loadedFiles)).toEqual([]);
    // One chunk per step command (about 40), so the cold start does not grow with their number.
    expect(whereValidators(size(name).files).length).toBeGreaterThanOrEqual(30);
    // Only the table of command names loads at start.
    expect(size(name).loadedInputs).toContain('kallisti-validators:where-source');
  });

  it.each(['api', 'worker'])('the %s loads neither the cron parser nor time zones at a cold start', (name) => {
    // Schedules, freeze windows and firings load them on first use (the Scheduler adapter, the schedule use cases,
    // freeze-window checks only when a window stands, the worker's firing use case).
    expect(size(name).loadedInputs.filter((input) => /node_modules\/(cron-parser|luxon)\/|^functions\/domain\/cron\.ts$/.test(input))).toEqual([]);
  });

  it('the api loads neither schedules, safety rules nor reports at a cold start: they load on their first call', () => {
    const loaded = size('api').loadedInputs;
    expect(loaded.filter((input) => /^functions\/(use-cases\/(schedules|safety|safety-preview|report)\.ts|domain\/report\/|adapters\/scheduler\/eventbridge-scheduler\.ts)/.test(input))).toEqual([]);
  });

  it.each(['api', 'worker'])('the %s loads no step command’s definition at a cold start: each namespace loads with its first use', (name) => {
    const loaded = size(name).loadedInputs;
    expect(loaded.filter((input) => /^functions\/modules\/(aws|prom)\//.test(input) || /^functions\/modules\/cm\/(http|wait|index|http-probe|http-request)\.ts$/.test(input))).toEqual([]);
    // The namespaces are in the package, as chunks loaded on demand.
    expect(size(name).inputs).toEqual(expect.arrayContaining(['functions/modules/aws/index.ts', 'functions/modules/prom/index.ts', 'functions/modules/cm/index.ts']));
    // The schedule store loads with the first schedule request or firing; the net address rules with the first HTTP step.
    expect(loaded).not.toContain('functions/adapters/dynamodb/schedule-store.ts');
  });

  it('the worker loads the schedule firing use case on the first firing, not at a cold start', () => {
    expect(size('worker').loadedInputs).not.toContain('functions/use-cases/fire-schedule.ts');
    expect(size('worker').loadedInputs).toContain('functions/executor/run-trial.ts');
  });

  it('leaves out only the SDK clients of AWS step commands, which they import when a step runs', async () => {
    // Every client a step command imports is external, and nothing else: a command added
    // with a new client must be listed, or each function's package grows by that client.
    const { readdir, readFile } = await import('node:fs/promises');
    const root = new URL('../../functions/modules/aws/', import.meta.url);
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const imported = new Set<string>();
    for (const file of files) {
      const text = await readFile(new URL(file, root), 'utf8');
      for (const match of text.matchAll(/await import\('(@aws-sdk\/client-[a-z0-9-]+)'\)/g)) imported.add(match[1] as string);
    }
    expect([...imported].sort()).toEqual([...STEP_SDK_CLIENTS].sort());
    expect(buildOptions('functions/api/lambda.ts', 'out').external).toEqual(STEP_SDK_CLIENTS);
  });

  it('splits code into chunks loaded on demand, as ESM with source maps', () => {
    const options = buildOptions('functions/api/lambda.ts', 'out');
    expect(options).toMatchObject({ bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node22', minify: true, sourcemap: true, sourcesContent: false, outExtension: { '.js': '.mjs' } });
    expect(size('api').files.length).toBeGreaterThan(size('api').loadedFiles.length);
  });
});
