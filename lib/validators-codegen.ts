import type { Ajv } from 'ajv';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';
import { compileOperations } from '../functions/api/openapi.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../functions/modules/registry.js';
import type { Validator } from '../functions/validation/ajv.js';
import { HTTP_METHODS } from '../functions/api/openapi.js';
import { ajvFor } from '../functions/validation/runtime-compilers.js';
import document from '../openapi.json' with { type: 'json' };
import type { RequestValidatorSource, ValidatorKind, WhereValidatorSource } from '../functions/validation/validator-source.js';

// ajv's standalone entry is CommonJS with a default export; under NodeNext its default import is typed as the module.
const standaloneCode = standaloneCodeModule as unknown as (ajv: Ajv, refsOrFunctions: Record<string, string>) => string;

/** A schema some runtime code asks a validator source for, with its key. */
export interface ValidatorRequest {
  kind: ValidatorKind;
  key: string;
  /** A `$ref` into openapi.json (bodies) or the schema itself. */
  schema: string | Record<string, unknown>;
}

/**
 * Every validator the API and the worker ask for, found by running the code that asks
 * (compileOperations; ModuleRegistry over DEFAULT_MODULES) against sources that only
 * record the requests: the keys generated are by construction the keys asked for.
 */
export function validatorRequests(): ValidatorRequest[] {
  const requests = new Map<string, ValidatorRequest>();
  const unused: Validator = () => {
    throw new Error('recording only');
  };
  const record =
    (kind: ValidatorKind) =>
    (key: string, schema: string | Record<string, unknown>): Validator => {
      const existing = requests.get(`${kind} ${key}`);
      if (existing && JSON.stringify(existing.schema) !== JSON.stringify(schema)) throw new Error(`Validator ${kind} "${key}" is asked for with two different schemas`);
      requests.set(`${kind} ${key}`, { kind, key, schema });
      return unused;
    };
  const request: RequestValidatorSource = { body: record('body'), params: record('params') };
  const where: WhereValidatorSource = { where: record('where') };
  compileOperations(request);
  new ModuleRegistry(DEFAULT_MODULES, where);
  return [...requests.values()];
}

/** Standalone code for every request of one kind: an ES module exporting `v0`, `v1`, … and the key of each. */
function standaloneModule(kind: ValidatorKind, requests: ValidatorRequest[]): { code: string; table: [string, string][] } {
  const ajv = ajvFor(kind, { code: { source: true, esm: true, lines: false } });
  const exports: Record<string, string> = {};
  const table: [string, string][] = [];
  requests.forEach((request, i) => {
    const id = `kallisti-${kind}-${i}`;
    ajv.addSchema(typeof request.schema === 'string' ? { $id: id, $ref: request.schema } : { ...request.schema, $id: id });
    exports[`v${i}`] = id;
    table.push([request.key, `v${i}`]);
  });
  return { code: standaloneCode(ajv, exports), table };
}

/**
 * The module that stands in for request-validators.ts or where-validators.ts: the same
 * export, backed by generated code. With `lazy`, each kind's code is a separate chunk
 * loaded by `ready(kinds)` on first use (the API's request validators); otherwise it is
 * imported up front (step commands' `where`, needed by every trial).
 */
function sourceModule(exportName: string, kinds: ValidatorKind[], tables: Partial<Record<ValidatorKind, [string, string][]>>, lazy: boolean): string {
  const load = lazy
    ? `const CODE = {};
const LOADERS = { ${kinds.map((kind) => `${kind}: () => import('./${kind}')`).join(', ')} };
const loading = {};
function ready(kinds) {
  return Promise.all(kinds.map((kind) => (loading[kind] ??= LOADERS[kind]().then((code) => { CODE[kind] = code; })))).then(() => undefined);
}`
    : `${kinds.map((kind) => `import * as ${kind} from './${kind}';`).join('\n')}
const CODE = { ${kinds.join(', ')} };`;
  return `${load}
const TABLE = ${JSON.stringify(tables)};
function validatorFor(kind, key) {
  const entry = (TABLE[kind] || []).find(([k]) => k === key);
  if (!entry) throw new Error('The ' + kind + ' validator "' + key + '" was not compiled at build time' + (kind === 'where' ? ' (is its step module in DEFAULT_MODULES?)' : ''));
  const validator = (data) => {
    const code = CODE[kind];
    if (!code) throw new Error('The ' + kind + ' validators were used before ready()');
    const compiled = code[entry[1]];
    const valid = compiled(data);
    validator.errors = compiled.errors;
    return valid;
  };
  return validator;
}
export const ${exportName} = { ${kinds.map((kind) => `${kind}: (key) => validatorFor('${kind}', key)`).join(', ')}${lazy ? ', ready' : ''} };
`;
}

/**
 * The virtual modules a bundle uses in place of functions/validation/request-validators.ts
 * (`request`, importing `body` and `params`) and where-validators.ts (`where-source`,
 * importing `where`). The standalone code `require`s a few small ajv runtime helpers and
 * ajv-formats' formats, which the bundler resolves from node_modules.
 */
export function generateValidators(requests: ValidatorRequest[] = validatorRequests()): Record<string, string> {
  const modules: Record<string, string> = {};
  const tables: Partial<Record<ValidatorKind, [string, string][]>> = {};
  for (const kind of ['body', 'params', 'where'] as const) {
    const { code, table } = standaloneModule(kind, requests.filter((r) => r.kind === kind));
    modules[kind] = code;
    tables[kind] = table;
  }
  modules['request'] = sourceModule('requestValidators', ['body', 'params'], { body: tables.body, params: tables.params }, true);
  modules['where-source'] = sourceModule('whereValidators', ['where'], { where: tables.where }, false);
  return modules;
}

type Json = Record<string, unknown>;

/** A parameter as the operation table reads it: name, location, whether required (its schema is compiled already). */
function trimParameter(parameter: Json): Json {
  if (typeof parameter['$ref'] === 'string') return { $ref: parameter['$ref'] };
  return { name: parameter['name'], in: parameter['in'], ...(parameter['required'] === true && { required: true }) };
}

/**
 * openapi.json as functions/api/openapi.ts reads it in a bundle: each operation's id,
 * parameters (name, location, required) and whether it takes a JSON body. Schemas,
 * descriptions, examples and responses stay out: the validators are compiled already,
 * and `GET /openapi.json` loads the whole document on demand.
 */
/** A body schema reduced to the names of its read-only top-level fields (all the operation table reads of it). */
function readOnlyOnly(source: Json, schema: Json): Json {
  const ref = typeof schema['$ref'] === 'string' ? schema['$ref'].split('/').pop() ?? '' : undefined;
  const schemas = ((source['components'] as Json | undefined)?.['schemas'] ?? {}) as Record<string, Json>;
  const resolved = ref === undefined ? schema : schemas[ref] ?? {};
  const properties = (resolved['properties'] ?? {}) as Record<string, Json>;
  const readOnly = Object.keys(properties).filter((name) => properties[name]?.['readOnly'] === true);
  return readOnly.length === 0 ? {} : { properties: Object.fromEntries(readOnly.map((name) => [name, { readOnly: true }])) };
}

export function trimmedOpenapi(source: Json = document as Json): Json {
  const paths: Record<string, Json> = {};
  for (const [path, item] of Object.entries(source['paths'] as Record<string, Json>)) {
    const trimmed: Json = {};
    if (Array.isArray(item['parameters'])) trimmed['parameters'] = (item['parameters'] as Json[]).map(trimParameter);
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      const body = operation['requestBody'] as Json | undefined;
      const content = body?.['content'] as Record<string, Json> | undefined;
      trimmed[method] = {
        ...(operation['operationId'] !== undefined && { operationId: operation['operationId'] }),
        ...(Array.isArray(operation['parameters']) && { parameters: (operation['parameters'] as Json[]).map(trimParameter) }),
        ...(body !== undefined && {
          requestBody:
            typeof body['$ref'] === 'string'
              ? { $ref: body['$ref'] }
              : { required: body['required'] === true, content: content?.['application/json']?.['schema'] ? { 'application/json': { schema: readOnlyOnly(source, content['application/json']['schema'] as Json) } } : {} },
        }),
      };
    }
    paths[path] = trimmed;
  }
  const parameters = ((source['components'] as Json | undefined)?.['parameters'] ?? {}) as Record<string, Json>;
  return { paths, components: { parameters: Object.fromEntries(Object.entries(parameters).map(([name, p]) => [name, trimParameter(p)])) } };
}
