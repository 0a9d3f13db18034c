import { NotFoundError } from './errors.js';

/** Soft deletion: the record stays for audit, marked with who deleted it and when. */
export interface DeletionMarker {
  deleted_at: string;
  deleted_by: string;
}

export function isDeleted(record: Partial<DeletionMarker>): record is DeletionMarker {
  return typeof record.deleted_at === 'string';
}

/** The 404 for a soft-deleted record says who deleted it and when, so the audit trail is visible through the API. */
export function deletedError(kind: string, id: string, marker: DeletionMarker): NotFoundError {
  return new NotFoundError(`${kind} ${id} not found: it was deleted by ${marker.deleted_by} at ${marker.deleted_at}`);
}
