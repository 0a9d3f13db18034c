import type { Clock } from '../ports.js';

export type TrialLogLevel = 'INFO' | 'ERROR';

/** `[2024-05-01T12:00:00.000Z - INFO] message`, the line format of Kallisti trial records, on one line. */
export function formatLogLine(at: Date, level: TrialLogLevel, message: string): string {
  return `[${at.toISOString()} - ${level}] ${message.replace(/\s*\r?\n\s*/g, ' ')}`;
}

/** Stamps trial-record log lines with the clock's time. */
export class TrialLog {
  constructor(private readonly clock: Clock) {}

  info(message: string): string {
    return formatLogLine(this.clock.now(), 'INFO', message);
  }

  error(message: string): string {
    return formatLogLine(this.clock.now(), 'ERROR', message);
  }
}

/** Whether a record line was written at ERROR level. */
export function isErrorLine(line: string): boolean {
  return /^\[[^\]]* - ERROR\] /.test(line);
}
