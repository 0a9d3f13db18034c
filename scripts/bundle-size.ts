/**
 * Builds each Lambda entry exactly as `cdk synth` does (lib/bundling.ts) and prints the
 * minified size of what a cold start loads (the handler file and the chunks it imports
 * statically), of all files, the gzip size, and the packages that weigh most in what
 * loads. Run: npx tsx scripts/bundle-size.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Metafile } from 'esbuild';
import { bundleLambda, filesLoadedAtStart, LAMBDA_ENTRIES, PROJECT_ROOT, type LambdaName } from '../lib/bundling.js';

export interface BundleSize {
  name: LambdaName;
  entry: string;
  /** Bytes of the JavaScript a cold start loads (source maps are separate files). */
  bytes: number;
  gzipBytes: number;
  /** Bytes of every JavaScript file in the bundle, chunks loaded on demand included. */
  totalBytes: number;
  /** Paths (relative to the bundle) of every file, and of those a cold start loads. */
  files: string[];
  loadedFiles: string[];
  /** Bytes each top-level package (or `(project)`, or the generated validators) contributes to what loads. */
  packages: [string, number][];
  /** Every source file (relative to the repository) in what a cold start loads. */
  loadedInputs: string[];
  /** Every source file in the bundle, chunks loaded on demand included. */
  inputs: string[];
}

function packageOf(input: string): string {
  if (input.startsWith('kallisti-validators:')) return '(validators, compiled at build time)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? '(project)';
}

function weighByPackage(metafile: Metafile, files: string[]): [string, number][] {
  const totals = new Map<string, number>();
  for (const file of files) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file]?.inputs ?? {})) {
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
      const outdir = join(dir, name);
      const metafile = await bundleLambda(name, outdir);
      const all = Object.keys(metafile.outputs).filter((file) => file.endsWith('.mjs'));
      const loaded = filesLoadedAtStart(metafile, outdir);
      const read = (file: string) => readFileSync(join(PROJECT_ROOT, file));
      const relative = (file: string) => join(PROJECT_ROOT, file).slice(outdir.length + 1);
      sizes.push({
        name,
        entry: LAMBDA_ENTRIES[name],
        bytes: loaded.reduce((n, file) => n + read(file).byteLength, 0),
        gzipBytes: loaded.reduce((n, file) => n + gzipSync(read(file)).byteLength, 0),
        totalBytes: all.reduce((n, file) => n + read(file).byteLength, 0),
        files: all.map(relative).sort(),
        loadedFiles: loaded.map(relative).sort(),
        packages: weighByPackage(metafile, loaded),
        loadedInputs: [...new Set(loaded.flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {})))].sort(),
        inputs: [...new Set(all.flatMap((file) => Object.keys(metafile.outputs[file]?.inputs ?? {})))].sort(),
      });
    }
    return sizes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  for (const size of await measureBundles()) {
    console.log(`${size.name} (${size.entry}): ${kb(size.bytes)} minified loaded at cold start (${size.loadedFiles.length} files, ${kb(size.gzipBytes)} gzip); ${kb(size.totalBytes)} in all ${size.files.length} files`);
    for (const [name, bytes] of size.packages.slice(0, 10)) console.log(`  ${name.padEnd(40)} ${kb(bytes).padStart(10)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
