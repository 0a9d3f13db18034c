/**
 * Builds each Lambda entry exactly as `cdk synth` does (options from lib/bundling.ts)
 * and prints the minified size of each bundle, its gzip size, and the packages that
 * weigh most in it. Run: npx tsx scripts/bundle-size.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions, LAMBDA_ENTRIES, type LambdaName } from '../lib/bundling.js';

export interface BundleSize {
  name: LambdaName;
  entry: string;
  /** Bytes of the minified index.mjs (the source map is a separate file). */
  bytes: number;
  gzipBytes: number;
  /** Bytes each top-level package (or `(project)` for this repository's code) contributes. */
  packages: [string, number][];
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? '(project)';
}

function weighByPackage(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

export async function measureBundles(): Promise<BundleSize[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kallisti-bundle-'));
  try {
    const sizes: BundleSize[] = [];
    for (const name of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) {
      const result = await build({ ...esbuildOptions(name, join(dir, name, 'index.mjs')), write: false, metafile: true });
      const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
      if (!code) throw new Error(`esbuild produced no index.mjs for ${name}`);
      sizes.push({ name, entry: LAMBDA_ENTRIES[name], bytes: code.contents.byteLength, gzipBytes: gzipSync(code.contents).byteLength, packages: weighByPackage(result.metafile) });
    }
    return sizes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  for (const size of await measureBundles()) {
    console.log(`${size.name} (${size.entry}): ${kb(size.bytes)} minified, ${kb(size.gzipBytes)} gzip`);
    for (const [name, bytes] of size.packages.slice(0, 10)) console.log(`  ${name.padEnd(40)} ${kb(bytes).padStart(10)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
