import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { buildOptions, PROJECT_ROOT } from '../../lib/bundling.js';
import { isDependency, isGenerated, keepSources, type SourceMapV3 } from '../../lib/own-code-source-maps.js';

let dir: string;
let original: SourceMapV3;
let trimmed: SourceMapV3;
let code: string[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kallisti-maps-'));
  // Our code (a domain module) and a dependency (the cron parser), bundled as the Lambdas are.
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { parseUnixCron } from ${JSON.stringify(path.join(PROJECT_ROOT, 'functions/domain/cron.js'))};
export function fail(pattern: string): never {
  parseUnixCron(pattern);
  throw new Error('thrown in our code');
}
`,
  );
  const options = buildOptions(entry, path.join(dir, 'raw'));
  await build({ ...options, plugins: (options.plugins ?? []).filter((p) => p.name !== 'kallisti-own-code-source-maps') });
  await build(buildOptions(entry, path.join(dir, 'out')));
  original = JSON.parse(readFileSync(path.join(dir, 'raw', 'index.mjs.map'), 'utf8')) as SourceMapV3;
  trimmed = JSON.parse(readFileSync(path.join(dir, 'out', 'index.mjs.map'), 'utf8')) as SourceMapV3;
  code = readFileSync(path.join(dir, 'out', 'index.mjs'), 'utf8').split('\n');
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('source maps of our own code only', () => {
  it('map every position of our code exactly as esbuild did, and no position of a dependency', () => {
    expect(readFileSync(path.join(dir, 'raw', 'index.mjs'), 'utf8')).toBe(code.join('\n'));
    const before = new SourceMap(original as never);
    const after = new SourceMap(trimmed as never);
    let ours = 0;
    let theirs = 0;
    code.forEach((text, line) => {
      for (let column = 0; column < text.length; column += 3) {
        const was = before.findEntry(line, column) as { originalSource?: string };
        const now = after.findEntry(line, column) as { originalSource?: string };
        if (!was.originalSource) expect(now.originalSource).toBeUndefined();
        else if (isDependency(was.originalSource) || isGenerated(was.originalSource)) {
          expect(now.originalSource).toBeUndefined();
          theirs += 1;
        } else {
          expect(now).toEqual(was);
          ours += 1;
        }
      }
    });
    expect(ours).toBeGreaterThan(500);
    expect(theirs).toBeGreaterThan(500);
    expect(trimmed.sources.filter(isDependency)).toEqual([]);
    expect(trimmed.mappings.length).toBeLessThan(original.mappings.length);
  });

  it('keep stack traces of our code readable under --enable-source-maps', () => {
    const script = `import(${JSON.stringify(path.join(dir, 'out', 'index.mjs'))}).then((m) => { try { m.fail('*/5 * * * *'); } catch (e) { console.log(e.stack); } });`;
    const stack = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(stack).toContain('thrown in our code');
    expect(stack).toMatch(/entry\.ts:4:\d+/);
  });

  it('leave unmapped what follows a dependency on the same line, and keep names of our code', () => {
    const map: SourceMapV3 = { version: 3, sources: ['../src/a.ts', '../node_modules/x/index.js'], names: ['ours', 'theirs'], mappings: 'AAAAA,ICAA,CAACC,CDAD' };
    // Columns 0 (ours, named), 4 (theirs), 5 (theirs, named), 6 (ours).
    expect(keepSources(map, (s) => !isDependency(s))).toEqual({ version: 3, sources: ['../src/a.ts'], names: ['ours'], mappings: 'AAAAA,I,EAAA' });
  });
});

describe('files of dependencies only', () => {
  it('get no source map and no reference to one, so Node neither reads a map nor measures their lines at load', async () => {
    const chunked = mkdtempSync(path.join(tmpdir(), 'kallisti-maps-chunks-'));
    try {
      // The cron parser in a chunk of its own (loaded with `await import()`), our code in the entry.
      const entry = path.join(chunked, 'entry.ts');
      const { createRequire } = await import('node:module');
      const cronParser = createRequire(path.join(PROJECT_ROOT, 'package.json')).resolve('cron-parser');
      writeFileSync(entry, `export async function parse(pattern: string): Promise<unknown> {\n  return (await import(${JSON.stringify(cronParser)})).CronExpressionParser.parse(pattern);\n}\n`);
      const outdir = path.join(chunked, 'out');
      await build(buildOptions(entry, outdir));
      const { readdirSync } = await import('node:fs');
      const chunks = readdirSync(path.join(outdir, 'chunks'));
      const dependencyChunks = chunks.filter((file) => file.endsWith('.mjs'));
      expect(dependencyChunks.length).toBeGreaterThan(0);
      for (const file of dependencyChunks) {
        expect(chunks).not.toContain(`${file}.map`);
        expect(readFileSync(path.join(outdir, 'chunks', file), 'utf8')).not.toMatch(/sourceMappingURL/);
      }
      // Our code keeps its map.
      expect(readFileSync(path.join(outdir, 'index.mjs'), 'utf8')).toMatch(/\n\/\/# sourceMappingURL=index\.mjs\.map\n?$/);
      expect((JSON.parse(readFileSync(path.join(outdir, 'index.mjs.map'), 'utf8')) as SourceMapV3).sources).toEqual([expect.stringMatching(/entry\.ts$/)]);
    } finally {
      rmSync(chunked, { recursive: true, force: true });
    }
  }, 120_000);
});
