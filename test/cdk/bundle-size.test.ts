import { LAMBDA_BUNDLING, STEP_SDK_CLIENTS, esbuildOptions } from '../../lib/bundling.js';
import { measureBundles, type BundleSize } from '../../scripts/bundle-size.js';

const ONE_MB = 1024 * 1024;

let sizes: BundleSize[];

beforeAll(async () => {
  sizes = await measureBundles();
});

describe('Lambda bundles', () => {
  it('builds the API, the worker and the schedule reconciler', () => {
    expect(sizes.map((s) => s.name)).toEqual(['api', 'worker', 'reconciler']);
  });

  it.each(['api', 'worker', 'reconciler'])('keeps the %s bundle under 1 MB minified', (name) => {
    const size = sizes.find((s) => s.name === name);
    expect(size?.bytes).toBeGreaterThan(10 * 1024);
    expect(size?.bytes).toBeLessThan(ONE_MB);
  });

  it('measures with the options the CDK bundles with', () => {
    const options = esbuildOptions('api', 'out/index.mjs');
    expect(options).toMatchObject({
      format: LAMBDA_BUNDLING.format,
      target: LAMBDA_BUNDLING.target,
      mainFields: LAMBDA_BUNDLING.mainFields,
      banner: { js: LAMBDA_BUNDLING.banner },
      minify: LAMBDA_BUNDLING.minify,
      sourcemap: LAMBDA_BUNDLING.sourceMap,
      sourcesContent: LAMBDA_BUNDLING.sourcesContent,
      external: LAMBDA_BUNDLING.externalModules,
      bundle: true,
      platform: 'node',
    });
    expect(LAMBDA_BUNDLING).toMatchObject({ format: 'esm', target: 'node22', minify: true, sourceMap: true, externalModules: STEP_SDK_CLIENTS, forceDockerBundling: false });
  });

  it('leaves out only the SDK clients of AWS step commands, which they import when a step runs', async () => {
    // Every client a step command imports is external, and nothing else: a command added
    // with a new client must be listed, or the bundles grow by that client.
    const { readdir, readFile } = await import('node:fs/promises');
    const root = new URL('../../functions/modules/aws/', import.meta.url);
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const imported = new Set<string>();
    for (const file of files) {
      const text = await readFile(new URL(file, root), 'utf8');
      for (const match of text.matchAll(/await import\('(@aws-sdk\/client-[a-z0-9-]+)'\)/g)) imported.add(match[1] as string);
    }
    expect([...imported].sort()).toEqual([...STEP_SDK_CLIENTS].sort());
  });
});
