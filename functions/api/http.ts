import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Caller } from '../ports.js';

/** Kallisti serves its API under this prefix; every route answers there as well as at the root. */
export const API_PREFIX = '/api/v1';

export type Query = Record<string, string | number | boolean | undefined>;

/** A request after parsing and validation against openapi.json. */
export interface ApiRequest<B = unknown> {
  body: B;
  query: Query;
  params: Record<string, string>;
  headers: Record<string, string>;
  caller: Caller;
  event: APIGatewayProxyEvent;
}

export type ApiResponse = APIGatewayProxyResult;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function noContent(): ApiResponse {
  return { statusCode: 204, headers: {}, body: '' };
}

/** Lower-cased header map (API Gateway keeps the client's casing). */
export function lowerHeaders(event: APIGatewayProxyEvent): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
  return headers;
}
