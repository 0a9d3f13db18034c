import type { AppLogger } from '../app-logger.js';

/** Powertools' level names, lowest first; SILENT prints nothing. */
export const TERMINAL_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type TerminalLevel = (typeof TERMINAL_LEVELS)[number];

export class InvalidLogLevelError extends Error {}

export function parseLevel(value: string): TerminalLevel {
  const level = TERMINAL_LEVELS.find((l) => l === value.trim().toUpperCase());
  if (!level) throw new InvalidLogLevelError(`LOG_LEVEL must be one of ${TERMINAL_LEVELS.join(', ')}, got "${value}"`);
  return level;
}

export interface TerminalLoggerOptions {
  level: TerminalLevel;
  /** Where lines go (stdout for INFO, stderr for WARN and ERROR by default). */
  write?: (line: string, level: 'INFO' | 'WARN' | 'ERROR') => void;
  now?: () => Date;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

function defaultWrite(line: string, level: 'INFO' | 'WARN' | 'ERROR'): void {
  (level === 'INFO' ? process.stdout : process.stderr).write(`${line}\n`);
}

/**
 * Local mode's logger: one readable line per event, `12:00:01.234 INFO  message key=value …`,
 * filtered by LOG_LEVEL like the Lambda's JSON logs (LOG_LEVEL=WARN keeps warnings and errors only).
 */
export function createTerminalLogger(options: TerminalLoggerOptions): AppLogger {
  const threshold = TERMINAL_LEVELS.indexOf(options.level);
  const write = options.write ?? defaultWrite;
  const now = options.now ?? (() => new Date());
  const emit = (level: 'INFO' | 'WARN' | 'ERROR', message: string, extra?: object) => {
    if (TERMINAL_LEVELS.indexOf(level) < threshold) return;
    const fields = Object.entries(extra ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${formatValue(value)}`);
    const time = now().toISOString().slice(11, 23);
    write([time, level.padEnd(5), message, ...fields].join(' '), level);
  };
  return {
    info: (message, extra) => emit('INFO', message, extra),
    warn: (message, extra) => emit('WARN', message, extra),
    error: (message, extra) => emit('ERROR', message, extra),
  };
}
