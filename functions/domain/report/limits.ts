import { ValidationError } from '../errors.js';

export interface ReportLimits {
  /** Most trials one report holds; a larger selection is refused before anything is rendered. */
  maxTrials: number;
  /** Most UTF-8 bytes of one rendered report (a Lambda response carries at most 6 MB, JSON-escaped). */
  maxBytes: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = { maxTrials: 500, maxBytes: 4 * 1024 * 1024 };

/** The selection is too big for one response (400): the caller narrows it with from/to, experiment or trial-id. */
export class ReportTooLargeError extends ValidationError {}
