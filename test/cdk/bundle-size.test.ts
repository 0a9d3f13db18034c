import { LAMBDA_BUNDLING, esbuildOptions } from '../../lib/bundling.js';
import { measureBundles, type BundleSize } from '../../scripts/bundle-size.js';

const ONE_MB = 1024 * 1024;

let sizes: BundleSize[];

beforeAll(async () => {
  sizes = await measureBundles();
});

describe('Lambda bundles', () => {
  it('builds the API and the worker', () => {
    expect(sizes.map((s) => s.name)).toEqual(['api', 'worker']);
  });

  it.each(['api', 'worker'])('keeps the %s bundle under 1 MB minified', (name) => {
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
    expect(LAMBDA_BUNDLING).toMatchObject({ format: 'esm', target: 'node22', minify: true, sourceMap: true, externalModules: [], forceDockerBundling: false });
  });
});
