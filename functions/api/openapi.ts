import type { ValidateFunction } from 'ajv';
import document from '../../openapi.json' with { type: 'json' };
import { createAjv } from '../validation/ajv.js';

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
  body?: { required: boolean; validate: ValidateFunction };
  query?: { validate: ValidateFunction; names: string[] };
  pathParams?: { validate: ValidateFunction; names: string[] };
}

export const openapi = document as unknown as {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { parameters?: Record<string, ParameterObject> };
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

/** Compiles every operation's validators once per container, straight from openapi.json. */
export function compileOperations(): CompiledOperation[] {
  const ajv = createAjv();
  ajv.addSchema(openapi as object, DOC_ID);
  // Query strings and path ids arrive as text: let ajv coerce them to the declared types.
  const coercing = createAjv({ coerceTypes: true, useDefaults: true });
  coercing.addSchema(openapi as object, DOC_ID);

  const operations: CompiledOperation[] = [];
  for (const [path, item] of Object.entries(openapi.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const params = [...((item as { parameters?: ParameterObject[] }).parameters ?? []), ...(operation.parameters ?? [])].map(resolveParameter);
      const compiled: CompiledOperation = { method: method.toUpperCase(), path, operationId: operation.operationId ?? `${method} ${path}` };
      const query = params.filter((p) => p.in === 'query');
      if (query.length > 0) compiled.query = { validate: coercing.compile(parameterSchema(query)), names: query.map((p) => p.name) };
      const pathParams = params.filter((p) => p.in === 'path');
      if (pathParams.length > 0) compiled.pathParams = { validate: coercing.compile(parameterSchema(pathParams)), names: pathParams.map((p) => p.name) };
      const body = operation.requestBody;
      if (body && !('$ref' in body) && body.content?.['application/json']?.schema) {
        compiled.body = {
          required: body.required ?? false,
          validate: ajv.compile({ $ref: `${DOC_ID}#/${pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')}` }),
        };
      }
      operations.push(compiled);
    }
  }
  return operations;
}
