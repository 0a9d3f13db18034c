import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { compileOperations as compileFromSource, type CompiledOperation } from '../../functions/api/openapi.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { Validator } from '../../functions/validation/ajv.js';
import { buildOptions, PROJECT_ROOT } from '../../lib/bundling.js';
import { validatorRequests } from '../../lib/validators-codegen.js';
import { experimentBody } from '../support/fixtures.js';

/** What the bundle exports: the same code as the Lambda entries use, with the build-time validators. */
interface Bundled {
  compileOperations: () => CompiledOperation[];
  ModuleRegistry: typeof ModuleRegistry;
  DEFAULT_MODULES: typeof DEFAULT_MODULES;
}

let dir: string;
let bundled: Bundled;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kallisti-validators-'));
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { compileOperations } from ${JSON.stringify(path.join(PROJECT_ROOT, 'functions/api/openapi.js'))};
export { ModuleRegistry, DEFAULT_MODULES } from ${JSON.stringify(path.join(PROJECT_ROOT, 'functions/modules/registry.js'))};
`,
  );
  await build({ ...buildOptions(entry, path.join(dir, 'out')), sourcemap: false, minify: false });
  bundled = (await import(pathToFileURL(path.join(dir, 'out', 'index.mjs')).href)) as Bundled;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Validity, ajv's errors (without the schema paths, which name generated ids) and the data after coercion and defaults. */
function outcome(validate: Validator, data: unknown) {
  const copy = structuredClone(data);
  const valid = validate(copy);
  return { valid, errors: (validate.errors ?? []).map(({ instancePath, keyword, params, message }) => ({ instancePath, keyword, params, message })), data: copy };
}

const UUID = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const BODIES: unknown[] = [
  {},
  [],
  null,
  'text',
  { name: 1 },
  experimentBody(),
  { ...experimentBody(), unknown_field: true },
  { experiment: UUID },
  { experiment: 'not-a-uuid', parameters: { a: 1 } },
  { recurrence_pattern: '*/5 * * * *', recurrence_count: 2 },
  { recurrence_pattern: 5, recurrence_count: -1 },
];
const PARAMS: Record<string, string>[] = [{}, { limit: '5' }, { limit: 'many' }, { limit: '0' }, { experiment: UUID }, { from: '2024-05-01T00:00:00Z', to: 'yesterday' }, { trial_id: UUID }, { trial_id: 'x' }, { experiment_id: UUID, schedule_id: 'nope' }];
const WHERES: unknown[] = [{}, { url: 'https://example.com' }, { url: 'ftp://example.com' }, { url: 'https://example.com', method: 'BREW', timeout: 'soon' }, { time_in_seconds: 1 }, { time_in_seconds: -1 }, { time_in_seconds: '1' }];

describe('validators compiled at build time (ajv standalone code in the bundle)', () => {
  it('cover every validator the API and the worker ask for', () => {
    const requests = validatorRequests();
    expect(requests.filter((r) => r.kind === 'where').map((r) => r.key).sort()).toEqual(DEFAULT_MODULES.map((m) => m.name).sort());
    expect(requests.filter((r) => r.kind === 'body').length).toBeGreaterThan(3);
    expect(requests.filter((r) => r.kind === 'params').length).toBeGreaterThan(5);
  });

  it('judge every request exactly as validators compiled from source, errors and coercion included', async () => {
    const fromSource = compileFromSource();
    const fromBundle = bundled.compileOperations();
    expect(fromBundle.map((op) => `${op.method} ${op.path} ${op.operationId}`)).toEqual(fromSource.map((op) => `${op.method} ${op.path} ${op.operationId}`));
    let compared = 0;
    for (const [i, source] of fromSource.entries()) {
      const built = fromBundle[i] as CompiledOperation;
      await built.ready();
      for (const part of ['body', 'query', 'pathParams'] as const) {
        const a = source[part];
        const b = built[part];
        expect(b === undefined).toBe(a === undefined);
        if (!a || !b) continue;
        if (part === 'body') expect((b as { required: boolean }).required).toBe((a as { required: boolean }).required);
        for (const sample of part === 'body' ? BODIES : PARAMS) {
          expect(outcome(b.validate, sample)).toEqual(outcome(a.validate, sample));
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('drop the same read-only fields as from source (the bundle carries openapi.json trimmed)', () => {
    const readOnly = (ops: CompiledOperation[]) => Object.fromEntries(ops.filter((op) => op.body).map((op) => [`${op.method} ${op.path}`, op.body?.readOnly]));
    const fromSource = readOnly(compileFromSource());
    expect(readOnly(bundled.compileOperations())).toEqual(fromSource);
    expect(fromSource['PUT /experiment/{experiment_id}/schedule/{schedule_id}']).toEqual(expect.arrayContaining(['id', 'recurrence_left', 'firing_counts']));
  });

  it('judge every step command’s where exactly as from source', async () => {
    const fromSource = new ModuleRegistry(DEFAULT_MODULES);
    const fromBundle = new bundled.ModuleRegistry(bundled.DEFAULT_MODULES);
    expect(fromBundle.names()).toEqual(fromSource.names());
    for (const name of fromSource.names()) {
      for (const where of WHERES) {
        for (const placeholders of [false, true]) {
          expect(await fromBundle.validateWhere(name, where as never, 'steps[0].where', placeholders)).toEqual(await fromSource.validateWhere(name, where as never, 'steps[0].where', placeholders));
        }
      }
    }
  });

  it('put each step command’s where validator in a chunk of its own, loaded when that command is first checked', async () => {
    const chunks = readdirSync(path.join(dir, 'out', 'chunks')).filter((file) => /^where-\d+-[A-Z0-9]+\.mjs$/.test(file));
    expect(chunks).toHaveLength(DEFAULT_MODULES.length);
    const fromBundle = new bundled.ModuleRegistry(bundled.DEFAULT_MODULES);
    expect(await fromBundle.validateWhere('cm.wait', { time_in_seconds: -1 }, 'w', false)).toEqual([{ path: 'w.time_in_seconds', message: 'must be > 0' }]);
  });

  it('refuse, at registration, a step command that was not compiled at build time', () => {
    const extra = { ...(DEFAULT_MODULES[0] as (typeof DEFAULT_MODULES)[number]), name: 'test.not_built' };
    expect(() => new bundled.ModuleRegistry([extra])).toThrow('The where validator "test.not_built" was not compiled at build time (is its step module in DEFAULT_MODULES?)');
  });
});
