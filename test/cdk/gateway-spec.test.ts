import openapi from '../../openapi.json' with { type: 'json' };
import { API_PREFIX } from '../../functions/api/http.js';
import { ANY_METHOD, gatewayResponses, gatewaySchema, gatewaySpec, KALLISTI_PREFIX, operationKeys } from '../../lib/gateway-spec.js';

const URI = 'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:api/invocations';
const spec = () => gatewaySpec(openapi as Record<string, unknown>, { integrationUri: URI, validateBody: true });

function* walk(node: unknown, path: string[] = []): Generator<[string[], unknown]> {
  yield [path, node];
  if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* walk(v, [...path, String(i)]);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* walk(v, [...path, k]);
}

describe('gatewaySpec', () => {
  it('leaves openapi.json untouched', () => {
    const before = JSON.stringify(openapi);
    spec();
    expect(JSON.stringify(openapi)).toBe(before);
  });

  it('keeps every operation, also under Kallisti\'s /api/v1 as the Lambda routes them, and adds ANY to every path', () => {
    expect(KALLISTI_PREFIX).toBe(API_PREFIX);
    const paths = Object.keys(openapi.paths);
    const own = operationKeys(openapi as Record<string, unknown>);
    const prefixed = own.map((key) => key.replace(' ', ` ${API_PREFIX}`));
    const any = [...paths, ...paths.map((p) => `${API_PREFIX}${p}`)].map((p) => `ANY ${p}`);
    expect(operationKeys(spec())).toEqual([...own, ...prefixed, ...any].sort());
    const ids = Object.values(spec()['paths'] as Record<string, Record<string, { operationId?: string }>>).flatMap((item) => Object.values(item).map((op) => op.operationId).filter(Boolean));
    expect(new Set(ids).size).toBe(ids.length);
    expect(operationKeys(openapi as Record<string, unknown>).length).toBeGreaterThanOrEqual(20);
  });

  it('integrates every operation with the Lambda through a proxy integration', () => {
    for (const item of Object.values(spec()['paths'] as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        expect(operation['x-amazon-apigateway-integration']).toEqual({ type: 'aws_proxy', httpMethod: 'POST', uri: URI, passthroughBehavior: 'when_no_match' });
      }
    }
    expect((spec()['paths'] as Record<string, Record<string, unknown>>)['/trial']?.[ANY_METHOD]).toMatchObject({ 'x-amazon-apigateway-request-validator': 'params' });
  });

  it('leaves authentication to the Lambda: no security requirements or schemes reach the gateway', () => {
    const doc = spec();
    for (const [path] of walk(doc)) expect(path[path.length - 1]).not.toBe('security');
    expect((doc['components'] as Record<string, unknown>)['securitySchemes']).toBeUndefined();
  });

  it('drops keywords API Gateway cannot import, only where they are schema keywords', () => {
    const doc = spec();
    const schemaKeywords = ['readOnly', 'nullable', 'discriminator', 'exclusiveMinimum', 'exclusiveMaximum'];
    for (const [path] of walk(doc)) {
      const key = path[path.length - 1] ?? '';
      const parent = path[path.length - 2];
      if (parent !== 'properties' && parent !== 'examples') expect(schemaKeywords).not.toContain(key);
    }
    // Inside a schema, `example` goes; a property that happens to be named so stays.
    expect(gatewaySchema({ type: 'object', example: { a: 1 }, properties: { example: { type: 'string', example: 'x' } } })).toEqual({
      type: 'object',
      properties: { example: { type: 'string' } },
    });
  });

  it('lets null through where openapi.json allows it, instead of rejecting it as draft-04 would', () => {
    const components = spec()['components'] as { schemas: Record<string, Record<string, unknown>> };
    expect(openapi.components.schemas.RecurrenceCount).toMatchObject({ type: 'integer', nullable: true });
    const relaxed = components.schemas['RecurrenceCount'];
    expect(relaxed).toMatchObject({ minimum: 1 });
    expect(relaxed?.['type']).toBeUndefined();
    expect(relaxed?.['nullable']).toBeUndefined();
    expect(gatewaySchema({ type: 'string', enum: ['a'], nullable: true, maxLength: 3 })).toEqual({ maxLength: 3 });
    expect(() => gatewaySchema({ nullable: true, oneOf: [{ type: 'string' }] })).toThrow(/nullable/);
  });

  it('uses model names and path segments API Gateway accepts', () => {
    const components = spec()['components'] as { schemas: Record<string, unknown> };
    for (const name of Object.keys(components.schemas)) expect(name).toMatch(/^[A-Za-z0-9]+$/);
    for (const path of Object.keys(openapi.paths)) expect(path).toMatch(/^(\/([A-Za-z0-9._:,-]+|\{[A-Za-z0-9_]+\}))+$/);
  });

  it('selects the body validator only when asked to', () => {
    expect(spec()['x-amazon-apigateway-request-validator']).toBe('all');
    expect(gatewaySpec(openapi as Record<string, unknown>, { integrationUri: URI, validateBody: false })['x-amazon-apigateway-request-validator']).toBe('params');
  });
});

describe('gatewayResponses', () => {
  it('renders valid JSON with a message once API Gateway substitutes its quoted variables', () => {
    for (const [type, response] of Object.entries(gatewayResponses() as Record<string, { responseTemplates: Record<string, string> }>)) {
      const rendered = response.responseTemplates['application/json']?.replace(/\$context\.error\.messageString/g, JSON.stringify('Missing "quote"')) ?? '';
      expect([type, JSON.parse(rendered)]).toEqual([type, { message: expect.any(String) }]);
    }
  });
});
