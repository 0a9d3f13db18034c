import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { swaggerUiIntegrity } from './swagger-ui-integrity.js';
import { ownCodeSourceMapsPlugin } from './own-code-source-maps.js';
import { generateValidators, trimmedOpenapi } from './validators-codegen.js';

/**
 * One definition of how a Lambda entry is bundled, used by the CDK stack (through
 * scripts/bundle-lambda.ts), `npm run bundle-size` and the benchmarks, so the sizes and
 * cold starts they report are those deployed.
 */

/** Repository root, resolved from this file so it works from `cdk synth`, jest and scripts alike. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda entries, relative to the repository root. */
export const LAMBDA_ENTRIES = {
  api: 'functions/api/lambda.ts',
  worker: 'functions/worker/lambda.ts',
  reconciler: 'functions/reconciler/lambda.ts',
  watchdog: 'functions/watchdog/lambda.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

export function entryPath(name: LambdaName): string {
  return fileURLToPath(new URL(`../${LAMBDA_ENTRIES[name]}`, import.meta.url));
}

/** Matches the nodejs22.x runtime. */
export const NODE_TARGET = 'node22';

/** Prefer ES module builds of dependencies (smaller after tree shaking), then CommonJS. */
export const MAIN_FIELDS = ['module', 'main'];

/**
 * ESM output has no `require`; CommonJS dependencies bundled into it still call it.
 * `createRequire` is imported under a private name: a dependency that itself imports
 * `createRequire` at top level would otherwise collide with the banner's binding.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire as __kallistiCreateRequire } from 'node:module'; const require = __kallistiCreateRequire(import.meta.url);";

/**
 * The SDK clients of the `aws.*` step commands. Each command imports its client with
 * `await import()` only when a step runs it, and these stay out of the bundles: the
 * nodejs22.x runtime ships AWS SDK for JavaScript v3, which Node loads on that first
 * step. Bundled (as chunks) they would add 2.4 MB to each function's package (client-ec2
 * alone 1.1 MB), most of it for commands a deployment never runs.
 */
export const STEP_SDK_CLIENTS = [
  '@aws-sdk/client-auto-scaling',
  '@aws-sdk/client-cloudwatch',
  '@aws-sdk/client-ec2',
  '@aws-sdk/client-ecs',
  '@aws-sdk/client-fis',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-rds',
  '@aws-sdk/client-ssm',
  '@aws-sdk/client-sts',
];

/** The handler file Lambda loads (`index.handler`); code loaded on demand lives in `chunks/`. */
export const HANDLER_FILE = 'index.mjs';

/** The modules a bundle replaces with validators compiled at build time, and the generated module standing in for each. */
const REPLACED = new Map([
  [path.join(PROJECT_ROOT, 'functions', 'validation', 'request-validators.ts'), 'request'],
  [path.join(PROJECT_ROOT, 'functions', 'validation', 'where-validators.ts'), 'where-source'],
]);
const VALIDATORS_NAMESPACE = 'kallisti-validators';
/** The one importer that gets openapi.json trimmed to its operation table. */
const OPERATION_TABLE = path.join(PROJECT_ROOT, 'functions', 'api', 'openapi.ts');

/**
 * Replaces functions/validation/request-validators.ts and where-validators.ts (ajv
 * compiling on first use) with ajv standalone code generated from openapi.json and the
 * step modules' schemas: the bundle carries neither ajv's compiler nor a compile step
 * at cold start, and the worker, which never validates a request, no request validator.
 * functions/api/openapi.ts gets openapi.json trimmed to the operation table it walks.
 */
/**
 * Constants computed when a bundle is built: the Subresource Integrity hashes of the
 * installed swagger-ui-dist files that the deployed /docs page loads from the CDN.
 */
export const BUILD_DEFINES: Record<string, string> = { KALLISTI_SWAGGER_UI_INTEGRITY: JSON.stringify(swaggerUiIntegrity()) };

export function precompiledValidatorsPlugin(): Plugin {
  return {
    name: 'kallisti-precompiled-validators',
    setup(pluginBuild) {
      let generated: Record<string, string> | undefined;
      pluginBuild.onResolve({ filter: /[\\/](request|where)-validators\.js$/ }, (args) => {
        const replacement = REPLACED.get(path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')));
        return replacement === undefined ? undefined : { path: replacement, namespace: VALIDATORS_NAMESPACE };
      });
      pluginBuild.onResolve({ filter: /openapi\.json$/ }, (args) => (args.importer === OPERATION_TABLE ? { path: 'openapi-trimmed', namespace: VALIDATORS_NAMESPACE } : undefined));
      pluginBuild.onResolve({ filter: /^\.\/(body|params|where-\d+)$/, namespace: VALIDATORS_NAMESPACE }, (args) => ({ path: args.path.slice(2), namespace: VALIDATORS_NAMESPACE }));
      pluginBuild.onLoad({ filter: /.*/, namespace: VALIDATORS_NAMESPACE }, (args) => {
        if (args.path === 'openapi-trimmed') return { contents: JSON.stringify(trimmedOpenapi()), loader: 'json' };
        generated ??= generateValidators();
        const contents = generated[args.path];
        if (contents === undefined) return { errors: [{ text: `no generated validators module "${args.path}"` }] };
        // resolveDir: the standalone code requires ajv's runtime helpers and ajv-formats from node_modules.
        return { contents, loader: 'js', resolveDir: PROJECT_ROOT };
      });
    },
  };
}

/**
 * esbuild options for one entry: ESM with code splitting (what is imported with
 * `await import()` — step modules' SDK clients, the cron parser — becomes a chunk
 * loaded only when used), minified, source maps without sources that map only our own
 * code (lib/own-code-source-maps.ts: smaller maps, less to parse at cold start with
 * --enable-source-maps, the same stack traces of our code). Everything is bundled
 * (the functions' own SDK clients at the versions package-lock.json pins and the tests
 * ran against) except the step commands' clients, which the runtime's SDK provides.
 */
export function buildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    mainFields: MAIN_FIELDS,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [...STEP_SDK_CLIENTS],
    define: BUILD_DEFINES,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'warning',
    metafile: true,
    plugins: [precompiledValidatorsPlugin(), ownCodeSourceMapsPlugin()],
  };
}

/** Bundles one Lambda entry (or any entry file, for the benchmarks' floors) into `outdir`. */
export async function bundleEntry(entry: string, outdir: string): Promise<Metafile> {
  const result = await build(buildOptions(entry, outdir));
  if (!result.metafile) throw new Error('esbuild returned no metafile');
  return result.metafile;
}

export function bundleLambda(name: LambdaName, outdir: string): Promise<Metafile> {
  return bundleEntry(entryPath(name), outdir);
}

/** The output files a cold start loads: the handler file and the chunks it imports statically. */
export function filesLoadedAtStart(metafile: Metafile, outdir: string): string[] {
  const handler = Object.keys(metafile.outputs).find((file) => path.resolve(PROJECT_ROOT, file) === path.resolve(outdir, HANDLER_FILE));
  if (!handler) throw new Error(`no ${HANDLER_FILE} in the build output`);
  const loaded = new Set<string>();
  const visit = (file: string): void => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(handler);
  return [...loaded];
}
