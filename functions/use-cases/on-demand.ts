/** `T`'s methods, each answering a promise: it resolves once the code behind them has loaded. */
export type OnDemand<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * Use cases whose code is loaded (`load`, an `await import()`) the first time one of
 * them is called, then kept for the process's life. A Lambda cold start thus loads
 * only the use cases its first request needs: `GET /health` or a read of an
 * experiment never loads the schedules' cron parser and time zones, nor the reports.
 *
 * `methods` names every method (the type checker refuses a missing or unknown one),
 * so the object is a plain one: it can be spread, logged or awaited without surprises.
 */
export function onDemand<T extends object>(load: () => Promise<T>, methods: { [K in keyof T]: true }): OnDemand<T> {
  let loading: Promise<T> | undefined;
  const target = (): Promise<T> => {
    loading ??= load().catch((error: unknown) => {
      // A failed load (a broken chunk, say) is retried on the next call rather than remembered.
      loading = undefined;
      throw error;
    });
    return loading;
  };
  const entries = (Object.keys(methods) as (keyof T & string)[]).map((name) => [
    name,
    async (...args: unknown[]) => {
      const loaded = await target();
      return (loaded[name] as (...a: unknown[]) => unknown).apply(loaded, args);
    },
  ]);
  return Object.fromEntries(entries) as OnDemand<T>;
}
