/**
 * Turns openapi.json into the document API Gateway imports: every operation gets a
 * Lambda proxy integration and the request validators, and the few OpenAPI features
 * API Gateway's import handles differently from the Lambda's validator are rewritten
 * so the gateway is never stricter than the Lambda (which validates fully in any case,
 * and is the only validator in local mode). The API itself keeps serving the original
 * openapi.json.
 */

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

export const ANY_METHOD = 'x-amazon-apigateway-any-method';

/** Kallisti's API prefix: the Lambda answers every route under it too, so the gateway routes it there as well. */
export const KALLISTI_PREFIX = '/api/v1';

type Json = unknown;
type JsonObject = Record<string, Json>;

export interface GatewaySpecOptions {
  /** API Gateway's URI for the Lambda: `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations` (a CDK token is fine). */
  integrationUri: string;
  /** Check request bodies against the models too (query string and header checks are always on). */
  validateBody: boolean;
}

/** Schema keywords API Gateway's OpenAPI import does not support ("Amazon API Gateway important notes"); they are only annotations or stricter checks, so dropping them keeps the gateway looser than the Lambda. */
const UNSUPPORTED_SCHEMA_KEYWORDS = ['example', 'readOnly', 'writeOnly', 'deprecated', 'discriminator', 'xml', 'externalDocs', 'exclusiveMinimum', 'exclusiveMaximum'];

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Rewrites one schema for API Gateway's draft-04 models. `nullable` is an OpenAPI 3.0
 * keyword draft-04 does not know: left alone, the gateway would reject `null` where the
 * API allows it (e.g. `recurrence_count: null`). For a nullable schema the gateway
 * drops `type` and `enum`, the only keywords that reject `null` (the others apply to
 * strings, numbers, arrays or objects), and leaves the precise check to the Lambda.
 */
export function gatewaySchema(schema: Json): Json {
  if (!isObject(schema)) return schema;
  if ('$ref' in schema) return { $ref: schema['$ref'] };
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (UNSUPPORTED_SCHEMA_KEYWORDS.includes(key)) continue;
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, gatewaySchema(property)]));
    } else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isObject(value)) {
      out[key] = gatewaySchema(value);
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map(gatewaySchema);
    } else {
      out[key] = value;
    }
  }
  if (out['nullable'] === true) {
    if ('allOf' in out || 'anyOf' in out || 'oneOf' in out || 'not' in out) {
      throw new Error('openapi.json: a nullable schema with allOf/anyOf/oneOf/not cannot be relaxed for API Gateway; extend gatewaySchema()');
    }
    delete out['type'];
    delete out['enum'];
  }
  delete out['nullable'];
  if ((out['type'] === 'integer' || out['type'] === 'number') && typeof out['format'] === 'string') {
    // API Gateway rejects int32/int64/double formats on numbers.
    delete out['format'];
  }
  return out;
}

function mapValues(value: Json, f: (v: Json) => Json): Json {
  return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, f(v)])) : value;
}

/** A parameter, header or media type object: its `schema` is rewritten, a `$ref` kept. */
function withGatewaySchema(holder: Json): Json {
  if (!isObject(holder) || '$ref' in holder) return holder;
  return 'schema' in holder ? { ...holder, schema: gatewaySchema(holder['schema']) } : holder;
}

function gatewayContent(holder: Json): Json {
  if (!isObject(holder) || '$ref' in holder) return holder;
  const out: JsonObject = { ...holder };
  if ('content' in out) out['content'] = mapValues(out['content'], withGatewaySchema);
  if ('headers' in out) out['headers'] = mapValues(out['headers'], withGatewaySchema);
  return out;
}

function gatewayOperation(operation: JsonObject, integration: JsonObject): JsonObject {
  const out: JsonObject = { ...operation };
  // Authentication is the Lambda's (optional JWT); the gateway import only understands apiKey schemes.
  delete out['security'];
  if (Array.isArray(out['parameters'])) out['parameters'] = out['parameters'].map(withGatewaySchema);
  if ('requestBody' in out) out['requestBody'] = gatewayContent(out['requestBody']);
  if ('responses' in out) out['responses'] = mapValues(out['responses'], gatewayContent);
  out['x-amazon-apigateway-integration'] = integration;
  return out;
}

/** The gateway's own error answers, in the API's error shape `{ "message": … }`. */
export function gatewayResponses(): JsonObject {
  // Gateway response templates are plain substitutions (no VTL); messageString is already a quoted JSON string.
  const message = { 'application/json': '{"message":$context.error.messageString}' };
  return {
    DEFAULT_4XX: { responseTemplates: message },
    DEFAULT_5XX: { responseTemplates: message },
    // No IAM or API-key auth here, so "Missing Authentication Token" only ever means an unknown path.
    MISSING_AUTHENTICATION_TOKEN: { statusCode: '404', responseTemplates: { 'application/json': '{"message":"No route for this method and path"}' } },
    // validationErrorString is not JSON-escaped, so it cannot be embedded safely; the Lambda names each bad field when the gateway does not check bodies.
    BAD_REQUEST_BODY: { statusCode: '400', responseTemplates: { 'application/json': '{"message":"Request body does not match the schema in /openapi.json"}' } },
  };
}

/**
 * The API Gateway document: a deep copy of `openapi` with a Lambda proxy integration on
 * every operation, each path also under `/api/v1`, plus `x-amazon-apigateway-any-method` on every path so a method the
 * path does not have reaches the Lambda, which answers 405 with `Allow` (as in local mode)
 * instead of the gateway's 403 "Missing Authentication Token".
 */
export function gatewaySpec(openapi: JsonObject, options: GatewaySpecOptions): JsonObject {
  const doc = structuredClone(openapi);
  const integration: JsonObject = { type: 'aws_proxy', httpMethod: 'POST', uri: options.integrationUri, passthroughBehavior: 'when_no_match' };

  delete doc['security'];
  const paths: JsonObject = {};
  for (const [path, item] of Object.entries(isObject(doc['paths']) ? doc['paths'] : {})) {
    if (!isObject(item)) continue;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(item)) {
      if ((HTTP_METHODS as readonly string[]).includes(key) && isObject(value)) out[key] = gatewayOperation(value, integration);
      else if (key === 'parameters' && Array.isArray(value)) out[key] = value.map(withGatewaySchema);
      else out[key] = value;
    }
    out[ANY_METHOD] = {
      summary: 'Any other method: the Lambda answers 405 with the Allow header',
      responses: {},
      'x-amazon-apigateway-request-validator': 'params',
      'x-amazon-apigateway-integration': integration,
    };
    paths[path] = out;
  }
  // The same operations under `/api/v1`, as Kallisti serves them (operation ids stay unique).
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    paths[`${KALLISTI_PREFIX}${path}`] = Object.fromEntries(
      Object.entries(item).map(([key, value]) =>
        isObject(value) && typeof value['operationId'] === 'string' ? [key, { ...value, operationId: `${value['operationId']}V1` }] : [key, value],
      ),
    );
  }
  doc['paths'] = paths;

  if (isObject(doc['components'])) {
    const components: JsonObject = { ...doc['components'] };
    delete components['securitySchemes'];
    if ('schemas' in components) components['schemas'] = mapValues(components['schemas'], gatewaySchema);
    if ('parameters' in components) components['parameters'] = mapValues(components['parameters'], withGatewaySchema);
    if ('headers' in components) components['headers'] = mapValues(components['headers'], withGatewaySchema);
    if ('requestBodies' in components) components['requestBodies'] = mapValues(components['requestBodies'], gatewayContent);
    if ('responses' in components) components['responses'] = mapValues(components['responses'], gatewayContent);
    doc['components'] = components;
  }

  doc['x-amazon-apigateway-request-validators'] = {
    all: { validateRequestBody: true, validateRequestParameters: true },
    params: { validateRequestBody: false, validateRequestParameters: true },
  };
  doc['x-amazon-apigateway-request-validator'] = options.validateBody ? 'all' : 'params';
  doc['x-amazon-apigateway-gateway-responses'] = gatewayResponses();
  return doc;
}

/** `METHOD /path` for every operation of a document (ANY included, as `ANY`). */
export function operationKeys(doc: JsonObject): string[] {
  const keys: string[] = [];
  for (const [path, item] of Object.entries(isObject(doc['paths']) ? doc['paths'] : {})) {
    if (!isObject(item)) continue;
    for (const key of Object.keys(item)) {
      if ((HTTP_METHODS as readonly string[]).includes(key)) keys.push(`${key.toUpperCase()} ${path}`);
      else if (key === ANY_METHOD) keys.push(`ANY ${path}`);
    }
  }
  return keys.sort();
}
