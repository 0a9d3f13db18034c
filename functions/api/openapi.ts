import document from '../../openapi.json' with { type: 'json' };
import type { Validator } from '../validation/ajv.js';
import { requestValidators } from '../validation/request-validators.js';
import { OPENAPI_ID, type RequestValidatorSource } from '../validation/validator-source.js';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

interface ParameterObject {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Record<string, unknown>;
}

interface OperationObject {
  operationId?: string;
  parameters?: (ParameterObject | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> } | { $ref: string };
}

export interface CompiledOperation {
  method: string;
  path: string;
  operationId: string;
  /** `readOnly` top-level fields of the body schema: accepted and then dropped, as Django REST framework ignores read-only fields. */
  body?: { required: boolean; validate: Validator; readOnly: string[] };
  query?: { validate: Validator; names: string[] };
  pathParams?: { validate: Validator; names: string[] };
  /** Resolves once this operation's validators can run (see RequestValidatorSource.ready). */
  ready(): Promise<void>;
}

interface SchemaObject {
  $ref?: string;
  properties?: Record<string, { readOnly?: boolean }>;
}

/**
 * What the operation table needs of openapi.json: paths, parameters, request bodies (and
 * which of their fields are read-only). In a Lambda bundle this import is a copy trimmed
 * to exactly that (lib/validators-codegen.ts); the whole document is served from
 * openapi-document.ts.
 */
const openapi = document as unknown as {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { parameters?: Record<string, ParameterObject>; schemas?: Record<string, SchemaObject> };
} & Record<string, unknown>;

function pointer(...segments: string[]): string {
  return segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

function resolveParameter(p: ParameterObject | { $ref: string }): ParameterObject {
  if ('$ref' in p) {
    const name = p.$ref.split('/').pop() ?? '';
    const resolved = openapi.components?.parameters?.[name];
    if (!resolved) throw new Error(`openapi.json: unresolved parameter ${p.$ref}`);
    return resolved;
  }
  return p;
}

function parameterSchema(params: ParameterObject[]): Record<string, unknown> {
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema ?? {}])),
    required: params.filter((p) => p.required || p.in === 'path').map((p) => p.name),
  };
}

/** Names of the top-level properties a body schema (or the component it references) marks `readOnly`. */
export function readOnlyFields(schema: SchemaObject | undefined): string[] {
  const resolved = schema?.$ref ? openapi.components?.schemas?.[schema.$ref.split('/').pop() ?? ''] : schema;
  return Object.entries(resolved?.properties ?? {})
    .filter(([, property]) => property.readOnly === true)
    .map(([name]) => name);
}

/**
 * Every operation's validators, straight from openapi.json, keyed `<kind> <METHOD> <path>`.
 * From source each compiles the first time it is needed; in a Lambda bundle they were
 * compiled at build time (see functions/validation/validator-source.ts).
 */
export function compileOperations(source: RequestValidatorSource = requestValidators): CompiledOperation[] {
  const operations: CompiledOperation[] = [];
  for (const [path, item] of Object.entries(openapi.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const params = [...((item as { parameters?: ParameterObject[] }).parameters ?? []), ...(operation.parameters ?? [])].map(resolveParameter);
      const key = `${method.toUpperCase()} ${path}`;
      const kinds: ('body' | 'params')[] = [];
      const compiled: CompiledOperation = {
        method: method.toUpperCase(),
        path,
        operationId: operation.operationId ?? `${method} ${path}`,
        ready: () => (kinds.length === 0 || !source.ready ? Promise.resolve() : source.ready(kinds)),
      };
      const query = params.filter((p) => p.in === 'query');
      if (query.length > 0) compiled.query = { validate: source.params(`query ${key}`, parameterSchema(query)), names: query.map((p) => p.name) };
      const pathParams = params.filter((p) => p.in === 'path');
      if (query.length > 0 || pathParams.length > 0) kinds.push('params');
      if (pathParams.length > 0) compiled.pathParams = { validate: source.params(`path ${key}`, parameterSchema(pathParams)), names: pathParams.map((p) => p.name) };
      const body = operation.requestBody;
      if (body && !('$ref' in body) && body.content?.['application/json']?.schema) {
        kinds.push('body');
        compiled.body = {
          required: body.required ?? false,
          readOnly: readOnlyFields(body.content['application/json'].schema as SchemaObject),
          validate: source.body(`body ${key}`, `${OPENAPI_ID}#/${pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')}`),
        };
      }
      operations.push(compiled);
    }
  }
  return operations;
}
