/** The narrow logging interface the use cases, executor and HTTP layer depend on. */
export interface AppLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

/** The fallback when a component is built without a logger (entries always pass one). */
export const consoleLogger: AppLogger = {
  info: (message, extra) => console.info(message, extra ?? {}),
  warn: (message, extra) => console.warn(message, extra ?? {}),
  error: (message, extra) => console.error(message, extra ?? {}),
};
