import { Logger } from '@aws-lambda-powertools/logger';
import type { AppLogger } from './app-logger.js';

export type { AppLogger } from './app-logger.js';

/** Structured JSON logs (Powertools) behind the narrow interface. */
export function createLogger(serviceName: string, logLevel?: string): AppLogger {
  const logger = new Logger({ serviceName, ...(logLevel ? { logLevel: logLevel as 'INFO' } : {}) });
  const extra = (value?: object) => (value ? { ...value } : {});
  return {
    info: (message, value) => logger.info(message, extra(value)),
    warn: (message, value) => logger.warn(message, extra(value)),
    error: (message, value) => logger.error(message, extra(value)),
  };
}
