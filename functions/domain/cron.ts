/**
 * Unix cron for recurring experiments: validation (cron-validation.ts) and
 * conversion to EventBridge Scheduler expressions (cron-conversion.ts).
 */
export { InvalidCronError, nextFireTimes, parseUnixCron, type ParsedCron } from './cron-validation.js';
export { assertEventBridgeGrammar, toEventBridgeExpressions } from './cron-conversion.js';
