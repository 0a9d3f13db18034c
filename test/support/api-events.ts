import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** An API Gateway REST proxy event as the gateway sends it (stage `prod`). */
export function apiEvent(method: string, pathWithQuery: string, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  const url = new URL(pathWithQuery, 'http://example.test');
  const query = Object.fromEntries(url.searchParams);
  const hasQuery = Object.keys(query).length > 0;
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: method,
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: {},
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: null,
    stageVariables: null,
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {} as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/prod${url.pathname}`,
      stage: 'prod',
      requestId: 'req',
      requestTimeEpoch: 0,
      resourceId: 'res',
      resourcePath: url.pathname,
    },
  };
}

export const lambdaContext = {
  functionName: 'api',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;
