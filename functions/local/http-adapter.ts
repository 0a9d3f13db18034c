import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';

/** Past this much discarded body after a 413, the connection is cut: nobody sends that much by mistake. */
const MAX_DISCARDED_BYTES = 16 * 1024 * 1024;

/**
 * The request body, or undefined when it is larger than `limit` bytes: known
 * from Content-Length before reading anything, or as soon as the chunks pass
 * the limit. Nothing past the limit is buffered; the rest is read and dropped
 * (so the client reads the 413 rather than a reset connection), up to a cap.
 */
export function readRequestBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let discarded = 0;
    const discard = (chunk: Buffer): void => {
      discarded += chunk.length;
      if (discarded > MAX_DISCARDED_BYTES) request.destroy();
    };
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.on('data', discard);
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      request.off('data', onData);
      request.off('end', onEnd);
      request.on('data', discard);
      resolve(undefined);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', (error) => reject(request.readableAborted || request.socket.destroyed ? new ClientGoneError(error.message) : error));
  });
}

/** The client closed the connection (or sent a body HTTP cannot frame) before its body was read: there is nobody to answer. */
export class ClientGoneError extends Error {}

/** Content codings the local server decodes: none (as API Gateway without payload compression). */
const IDENTITY = new Set(['', 'identity']);

/** Why a body labelled with a content or transfer coding cannot be read, or undefined when it can. */
export function unsupportedEncoding(request: IncomingMessage): string | undefined {
  const coding = (request.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (!IDENTITY.has(coding)) return `Content-Encoding ${JSON.stringify(coding.slice(0, 40))} is not supported: send the JSON body uncompressed`;
  // Node's parser decodes `chunked` only; any other transfer coding would reach the API still encoded.
  const transfer = (request.headers['transfer-encoding'] ?? '').toLowerCase().split(',').map((t) => t.trim()).filter((t) => t !== '' && t !== 'chunked');
  if (transfer.length > 0) return `Transfer-Encoding ${JSON.stringify(transfer.join(', ').slice(0, 40))} is not supported: send the body plain or chunked`;
  return undefined;
}

/** Node's HTTP parser errors, as answers in the API's error shape. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers are too large.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'Chunk extensions are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time.'],
};

/**
 * A request HTTP cannot parse (a malformed chunk, both Content-Length and
 * Transfer-Encoding, a bad Content-Length, oversized headers) is answered 4xx
 * with `{ "message" }` like every other refusal, then the connection is closed
 * (the rest of the stream cannot be trusted). Node's default answers a bare 400.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request', `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}).`];
    const body = JSON.stringify({ message });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

/** Builds the API Gateway (REST, proxy integration) event the Lambda would receive for this request. */
export function toApiGatewayEvent(request: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(', ');
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const method = request.method ?? 'GET';
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    // Bytes that are not UTF-8 go on as they are (base64, as API Gateway passes binary): the handler refuses them.
    body: body.length > 0 ? (isUtf8(body) ? body.toString('utf8') : body.toString('base64')) : null,
    isBase64Encoded: body.length > 0 && !isUtf8(body),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: url.pathname,
    },
  };
}

/** A real Lambda Context, so handlers see the same contract as on AWS. */
export function localContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function writeResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  response.writeHead(result.statusCode, headers);
  response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
}

/** The answer to a HEAD request: the GET's status and headers, its length, no body. */
export function writeHead(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  headers['Content-Length'] = String(result.isBase64Encoded ? Buffer.from(result.body, 'base64').length : Buffer.byteLength(result.body));
  response.writeHead(result.statusCode, headers);
  response.end();
}
