import {
  ConflictError,
  DependencyError,
  ForbiddenError,
  KallistiError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  ValidationError,
} from '../domain/errors.js';
import { bearerChallenge } from './auth/challenge.js';
import { json, type ApiResponse } from './http.js';

const STATUS: [new (...args: never[]) => KallistiError, number][] = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [DependencyError, 503],
];

export interface ErrorLogger {
  error(message: string, extra?: object): void;
}

/**
 * The `detail` Django REST framework answers (Kallisti clients read it), beside
 * our own `message`. A ForbiddenError may carry its own detail.
 */
function kallistiDetail(error: KallistiError): string | undefined {
  if (error instanceof NotFoundError) return 'Not found.';
  if (error instanceof ForbiddenError) return error.detail ?? 'You do not have permission to perform this action.';
  if (error instanceof UnauthorizedError) return 'Authentication credentials were not provided or are invalid.';
  if (error instanceof MethodNotAllowedError) return `Method "${error.method}" not allowed.`;
  return undefined;
}

/** The one place an error becomes an HTTP status: messages are shown below 500, hidden above. */
export function errorResponse(error: unknown, logger?: ErrorLogger): ApiResponse {
  const match = STATUS.find(([type]) => error instanceof type);
  if (!match || !(error instanceof KallistiError)) {
    logger?.error('Unhandled error', { error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
    return json(500, { message: 'Internal server error' });
  }
  const [, status] = match;
  const headers: Record<string, string> = {};
  if (error instanceof MethodNotAllowedError) headers['Allow'] = error.allow.join(', ');
  const challenge = bearerChallenge(error);
  if (challenge) headers['WWW-Authenticate'] = challenge;
  if (status >= 500) logger?.error('Dependency failure', { error: error.message, cause: String(error.cause) });
  const body: { message: string; detail?: string; errors?: unknown } = { message: error.message };
  const detail = kallistiDetail(error);
  if (detail) body.detail = detail;
  if (error instanceof ValidationError && error.errors.length > 0) body.errors = error.errors;
  return json(status, body, headers);
}
