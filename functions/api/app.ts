import middy from '@middy/core';
import httpRouterHandler, { type Route as MiddyRoute } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError, PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import { inputLimitErrors } from '../domain/input-limits.js';
import { toFieldErrors } from '../validation/ajv.js';
import { errorResponse, type ErrorLogger } from './errors.js';
import { API_PREFIX, lowerHeaders, type ApiRequest, type Query } from './http.js';
import { ANONYMOUS, type Authenticator } from './identity.js';
import { compileOperations, type CompiledOperation } from './openapi.js';
import type { Route } from './routes.js';

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export interface ApiOptions {
  routes: Route[];
  authenticator: Authenticator;
  logger?: ErrorLogger;
  maxBodyBytes?: number;
}

function readBody(event: APIGatewayProxyEvent, maxBytes: number): string | undefined {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.length > maxBytes) throw new PayloadTooLargeError(`Request body is ${raw.length} bytes; the limit is ${maxBytes} bytes.`);
  return decodeUtf8(raw);
}

/** The body as text; bytes that are not UTF-8 are refused rather than replaced (U+FFFD would be stored as if sent). */
function decodeUtf8(raw: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new ValidationError('Request body is not valid UTF-8', [{ path: 'body', message: 'contains bytes that are not UTF-8; send JSON in UTF-8' }]);
  }
}

function parseBody(text: string | undefined, operation: CompiledOperation): unknown {
  if (!operation.body) return undefined;
  if (text === undefined) {
    if (operation.body.required) throw new ValidationError('A JSON request body is required', [{ path: 'body', message: 'is required' }]);
    return undefined;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('Request body is not valid JSON', [{ path: 'body', message: error instanceof Error ? error.message : 'malformed JSON' }]);
  }
  if (!operation.body.validate(body)) {
    throw new ValidationError('Request body does not match the schema', toFieldErrors(operation.body.validate.errors, ''));
  }
  const limits = inputLimitErrors(body);
  if (limits.length > 0) throw new ValidationError('Request body exceeds a limit', limits);
  return withoutReadOnly(body, operation.body.readOnly);
}

/** A GET answer sent back unchanged carries read-only fields (id, created_by…): they are dropped, never taken from the body. */
function withoutReadOnly(body: unknown, readOnly: readonly string[]): unknown {
  if (readOnly.length === 0 || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy = { ...(body as Record<string, unknown>) };
  for (const name of readOnly) delete copy[name];
  return copy;
}

function validateQuery(event: APIGatewayProxyEvent, operation: CompiledOperation): Query {
  const query: Query = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined && operation.query?.names.includes(name)) query[name] = value;
  }
  if (operation.query && !operation.query.validate(query)) {
    throw new ValidationError('Invalid query parameters', toFieldErrors(operation.query.validate.errors, '', 'query'));
  }
  return query;
}

function validatePathParams(params: Record<string, string>, operation: CompiledOperation): Record<string, string> {
  const copy = { ...params };
  if (operation.pathParams && !operation.pathParams.validate(copy)) {
    // A malformed id can name nothing: answer as for an unknown id.
    const names = operation.pathParams.names.join(', ');
    throw new NotFoundError(`No resource matches ${names} = ${operation.pathParams.names.map((n) => JSON.stringify(params[n] ?? '')).join(', ')}`);
  }
  return copy;
}

function pathRegex(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{[^/]+\}/g, '[^/]+')}/?$`);
}

/**
 * The API as one middy handler: routes from `routes`, each validated against
 * its openapi.json operation before its use case runs, errors mapped in one place.
 */
export function makeApiHandler(options: ApiOptions) {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const operations = new Map(compileOperations().map((op) => [`${op.method} ${op.path}`, op]));
  const patterns = options.routes.flatMap((route) => [
    { route, regex: pathRegex(route.path) },
    { route, regex: pathRegex(`${API_PREFIX}${route.path}`) },
  ]);

  const middyRoutes: MiddyRoute<APIGatewayProxyEvent, APIGatewayProxyResult>[] = options.routes.flatMap((route) => {
    const operation = operations.get(`${route.method} ${route.path}`);
    if (!operation) throw new Error(`Route ${route.method} ${route.path} is not in openapi.json`);
    const handler = async (event: APIGatewayProxyEvent) => {
      // Who is calling comes first: an unauthenticated request learns nothing about ids or bodies.
      const caller = route.access === 'public' ? ANONYMOUS : await options.authenticator.authenticate(event, route.access);
      await operation.ready();
      const params = validatePathParams((event.pathParameters ?? {}) as Record<string, string>, operation);
      const query = validateQuery(event, operation);
      const body = parseBody(readBody(event, maxBodyBytes), operation);
      const request: ApiRequest = { body, query, params, headers: lowerHeaders(event), caller, event };
      return route.handle(request);
    };
    const method = route.method as MiddyRoute<APIGatewayProxyEvent, APIGatewayProxyResult>['method'];
    // One route table, two prefixes: `/experiment` and Kallisti's `/api/v1/experiment` (trailing slashes accepted on both).
    return [
      { method, path: route.path, handler },
      { method, path: `${API_PREFIX}${route.path}`, handler },
    ];
  });

  const router = httpRouterHandler({
    routes: middyRoutes,
    notFoundResponse: ({ method, path }: { method: string; path: string }) => {
      const allow = [...new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.route.method))];
      if (allow.length > 0) throw new MethodNotAllowedError(`Method ${method} is not allowed on ${path}`, allow, method);
      throw new NotFoundError(`No route for ${method} ${path}`);
    },
  });

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .onError((request) => {
      request.response = errorResponse(request.error, options.logger);
    })
    .handler(router as unknown as (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>);
}
