/** One bad field in a request, named by its path (e.g. `steps[0].do`). */
export interface FieldError {
  path: string;
  message: string;
}

/** Base of every error the domain and use cases raise on purpose. */
export class KallistiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed or violates the contract (400). */
export class ValidationError extends KallistiError {
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The resource does not exist or was deleted (404). */
export class NotFoundError extends KallistiError {}

/** The action is not allowed in the resource's current state (403, as Kallisti answers a late stop). */
export class ForbiddenError extends KallistiError {
  constructor(
    message: string,
    /** A more precise explanation than `message` when `message` keeps Kallisti's wording. */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller is not authenticated (401). */
export class UnauthorizedError extends KallistiError {}

/** A concurrent change won the race, or the write would clobber data (409). */
export class ConflictError extends KallistiError {}

/** The request body is larger than allowed (413). */
export class PayloadTooLargeError extends KallistiError {}

/** The HTTP method is not defined for an existing path (405). */
export class MethodNotAllowedError extends KallistiError {
  constructor(
    message: string,
    readonly allow: string[],
    readonly method = '',
  ) {
    super(message);
  }
}

/** A downstream dependency (scheduler, queue) failed; nothing was left half-written (503). */
export class DependencyError extends KallistiError {}

/**
 * The store refused a trial record entry itself (DynamoDB's ValidationException):
 * writing it again cannot succeed, so the trial ends Failed with this reason.
 */
export class RecordRejectedError extends KallistiError {}
