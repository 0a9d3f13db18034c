import type { CloudScheduler } from '../../ports.js';

/**
 * A CloudScheduler whose real adapter is loaded and built on first use, then kept for
 * the container's life. The worker touches cloud schedules rarely (an orphan or stale
 * firing), the API only on schedule writes: their cold starts then load neither the
 * Scheduler client nor the cron code the adapter needs to arm.
 */
export function lazyCloudScheduler(load: () => Promise<CloudScheduler>): CloudScheduler {
  let loading: Promise<CloudScheduler> | undefined;
  const scheduler = (): Promise<CloudScheduler> => {
    loading ??= load().catch((error: unknown) => {
      // A failed load (a broken chunk, say) is retried on the next call rather than remembered.
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return {
    arm: async (schedule, replaces) => (await scheduler()).arm(schedule, replaces),
    disarm: async (schedule) => (await scheduler()).disarm(schedule),
    remove: async (nameOrArn) => (await scheduler()).remove(nameOrArn),
    async *list() {
      yield* (await scheduler()).list();
    },
  };
}
