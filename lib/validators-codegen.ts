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

/** Standalone code for the given requests of one kind: an ES module exporting `v0`, `v1`, … and the key of each. */
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
 * The shared part of a stand-in module: `validatorFor(kind, key)` returns a validator
 * with ajv's calling convention that runs the generated code once `CODE[kind]` (request
 * validators) or `CODE[key]` (a step command's `where`) has been loaded.
 */
const VALIDATOR_FOR = `function validatorFor(kind, key) {
  const entry = (TABLE[kind] || []).find(([k]) => k === key);
  if (!entry) throw new Error('The ' + kind + ' validator "' + key + '" was not compiled at build time' + (kind === 'where' ? ' (is its step module in DEFAULT_MODULES?)' : ''));
  const slot = kind === 'where' ? key : kind;
  const validator = (data) => {
    const code = CODE[slot];
    if (!code) throw new Error('The ' + kind + ' validator "' + key + '" was used before ready()');
    const compiled = code[entry[1]];
    const valid = compiled(data);
    validator.errors = compiled.errors;
    return valid;
  };
  return validator;
}`;

/**
 * The module that stands in for request-validators.ts: the same export, backed by
 * generated code, each kind (body, params) a separate chunk loaded by `ready(kinds)` on
 * first use.
 */
function requestSourceModule(tables: Partial<Record<ValidatorKind, [string, string][]>>): string {
  return `const CODE = {};
const LOADERS = { body: () => import('./body'), params: () => import('./params') };
const loading = {};
function ready(kinds) {
  return Promise.all(kinds.map((kind) => (loading[kind] ??= LOADERS[kind]().then((code) => { CODE[kind] = code; })))).then(() => undefined);
}
const TABLE = ${JSON.stringify(tables)};
${VALIDATOR_FOR}
export const requestValidators = { body: (key) => validatorFor('body', key), params: (key) => validatorFor('params', key), ready };
`;
}

/**
 * The module that stands in for where-validators.ts: each step command's validator is
 * a separate module (`./where-<n>`, its own chunk) loaded by `ready([command])` the first
 * time a `where` of that command is checked, so a cold start loads none of them and does
 * not grow with the number of commands. The table of keys is loaded up front: a command
 * that was not compiled is refused when it is registered.
 */
function whereSourceModule(keys: string[]): string {
  const table = keys.map((key) => [key, 'v0']);
  return `const CODE = {};
const LOADERS = { ${keys.map((key, i) => `${JSON.stringify(key)}: () => import('./where-${i}')`).join(', ')} };
const loading = {};
function ready(keys) {
  return Promise.all(keys.map((key) => LOADERS[key] && (loading[key] ??= LOADERS[key]().then((code) => { CODE[key] = code; })))).then(() => undefined);
}
const TABLE = ${JSON.stringify({ where: table })};
${VALIDATOR_FOR}
export const whereValidators = { where: (key) => validatorFor('where', key), ready };
`;
}

/**
 * The virtual modules a bundle uses in place of functions/validation/request-validators.ts
 * (`request`, importing `body` and `params`) and where-validators.ts (`where-source`,
 * importing `where-0`, `where-1`, …, one per step command). The standalone code
 * `require`s a few small ajv runtime helpers and ajv-formats' formats, which the bundler
 * resolves from node_modules (shared chunks).
 */
export function generateValidators(requests: ValidatorRequest[] = validatorRequests()): Record<string, string> {
  const modules: Record<string, string> = {};
  const tables: Partial<Record<ValidatorKind, [string, string][]>> = {};
  for (const kind of ['body', 'params'] as const) {
    const { code, table } = standaloneModule(kind, requests.filter((r) => r.kind === kind));
    modules[kind] = code;
    tables[kind] = table;
  }
  const where = requests.filter((r) => r.kind === 'where');
  where.forEach((request, i) => {
    modules[`where-${i}`] = standaloneModule('where', [request]).code;
  });
  modules['request'] = requestSourceModule(tables);
  modules['where-source'] = whereSourceModule(where.map((r) => r.key));
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
