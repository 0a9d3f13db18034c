import type { Ajv } from 'ajv';
import document from '../../openapi.json' with { type: 'json' };
import { createAjv, lazy, lazyValidator, type Validator } from '../validation/ajv.js';

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
}

interface SchemaObject {
  $ref?: string;
  properties?: Record<string, { readOnly?: boolean }>;
}

export const openapi = document as unknown as {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { parameters?: Record<string, ParameterObject>; schemas?: Record<string, SchemaObject> };
} & Record<string, unknown>;

const DOC_ID = 'openapi.json';

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

/** Every operation's validators, straight from openapi.json; each is compiled the first time it is needed. */
export function compileOperations(): CompiledOperation[] {
  const ajv = lazy((): Ajv => {
    const instance = createAjv();
    instance.addSchema(openapi as object, DOC_ID);
    return instance;
  });
  // Query strings and path ids arrive as text: let ajv coerce them to the declared types.
  const coercing = lazy((): Ajv => {
    const instance = createAjv({ coerceTypes: true, useDefaults: true });
    instance.addSchema(openapi as object, DOC_ID);
    return instance;
  });

  const operations: CompiledOperation[] = [];
  for (const [path, item] of Object.entries(openapi.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const params = [...((item as { parameters?: ParameterObject[] }).parameters ?? []), ...(operation.parameters ?? [])].map(resolveParameter);
      const compiled: CompiledOperation = { method: method.toUpperCase(), path, operationId: operation.operationId ?? `${method} ${path}` };
      const query = params.filter((p) => p.in === 'query');
      if (query.length > 0) compiled.query = { validate: lazyValidator(() => coercing().compile(parameterSchema(query))), names: query.map((p) => p.name) };
      const pathParams = params.filter((p) => p.in === 'path');
      if (pathParams.length > 0) compiled.pathParams = { validate: lazyValidator(() => coercing().compile(parameterSchema(pathParams))), names: pathParams.map((p) => p.name) };
      const body = operation.requestBody;
      if (body && !('$ref' in body) && body.content?.['application/json']?.schema) {
        compiled.body = {
          required: body.required ?? false,
          readOnly: readOnlyFields(body.content['application/json'].schema as SchemaObject),
          validate: lazyValidator(() => ajv().compile({ $ref: `${DOC_ID}#/${pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')}` })),
        };
      }
      operations.push(compiled);
    }
  }
  return operations;
}
