import { fileURLToPath } from 'node:url';
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { swaggerUiIntegrity } from './swagger-ui-integrity.js';

/**
 * One definition of how a Lambda entry is bundled, used by the CDK stack and by
 * `scripts/bundle-size.ts`, so the sizes the script reports are the sizes deployed.
 */

/** Repository root, resolved from this file so it works from `cdk synth`, jest and scripts alike. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda entries, relative to the repository root. */
export const LAMBDA_ENTRIES = {
  api: 'functions/api/lambda.ts',
  worker: 'functions/worker/lambda.ts',
  reconciler: 'functions/reconciler/lambda.ts',
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
 * step. Bundled, they would add 2.4 MB (client-ec2 alone 1.1 MB) that every cold start
 * parses, most of it for commands a deployment never runs.
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

/**
 * Everything the functions themselves use is bundled, including the AWS SDK v3 clients the
 * runtime ships (DynamoDB, SQS, Scheduler): the bundle then carries the versions
 * package-lock.json pins and the tests ran against, and tree shaking keeps only the
 * commands used (the bundles stay well under 1 MB; see docs/deploy.md). Only the step
 * commands' clients are external (above).
 */
export const EXTERNAL_MODULES: string[] = [...STEP_SDK_CLIENTS];

/**
 * Constants computed when a bundle is built: the Subresource Integrity hashes of the
 * installed swagger-ui-dist files that the deployed /docs page loads from the CDN.
 */
export const BUILD_DEFINES: Record<string, string> = { KALLISTI_SWAGGER_UI_INTEGRITY: JSON.stringify(swaggerUiIntegrity()) };

/** For `NodejsFunction`: local esbuild from node_modules, never Docker (synth must work offline). */
export const LAMBDA_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: NODE_TARGET,
  mainFields: MAIN_FIELDS,
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Node maps stack traces with the mappings alone; leaving the sources out keeps the package small.
  sourcesContent: false,
  externalModules: EXTERNAL_MODULES,
  define: BUILD_DEFINES,
  forceDockerBundling: false,
  // Warnings and errors only: the size summary is what scripts/bundle-size.ts is for.
  logLevel: LogLevel.WARNING,
};

/** The same build for esbuild's JavaScript API (what `cdk synth` runs through the esbuild CLI). */
export function esbuildOptions(name: LambdaName, outfile: string): BuildOptions {
  return {
    entryPoints: [entryPath(name)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: EXTERNAL_MODULES,
    define: BUILD_DEFINES,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'warning',
  };
}
