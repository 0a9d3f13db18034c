import type { AppLogger } from '../app-logger.js';
import { missedFireTimes } from '../domain/firing-policy.js';
import { hasFiringsLeft, type Schedule } from '../domain/schedule.js';
import type { Clock, ScheduleFiring, ScheduleStore } from '../ports.js';

export interface MissedFiringsDeps {
  schedules: ScheduleStore;
  clock: Clock;
  /** The firing message local mode's scheduler would have sent for this schedule at this time. */
  firingOf: (schedule: Schedule, scheduledTime: Date) => ScheduleFiring;
  /** Where a caught-up firing goes: the sequential queue, like any firing. */
  enqueueFiring: (firing: ScheduleFiring) => void;
  logger?: AppLogger;
}

export interface MissedFiringsSummary {
  /** Firings recorded as `missed` (those counted in a record's reason included). */
  missed: number;
  /** Firings run late because their schedule says `catch_up: latest`. */
  caughtUp: number;
}

const PAGE_SIZE = 100;

/**
 * Local mode, at start-up, before the schedules are armed again: for every
 * enabled schedule, the fire times it passed while the server was not running
 * (after the later of its newest firing record and its last change) are
 * recorded as `missed`, with the reason. With `catch_up: latest` the most recent
 * of them is not recorded but queued as a firing, so it runs once (and is judged
 * like any firing: a starting deadline it is already past makes it
 * `skipped_deadline`). At most MAX_MISSED_RECORDS records per schedule; the
 * oldest one's reason counts any earlier ones.
 */
export function makeRecordMissedFirings(deps: MissedFiringsDeps) {
  const { schedules, clock, logger } = deps;

  async function sinceFor(schedule: Schedule): Promise<Date> {
    const [newest] = (await schedules.listFirings(schedule.experiment_id, schedule.id, { limit: 1 })).items;
    const candidates = [schedule.created_at, schedule.updated_at, newest?.scheduled_time].filter((t): t is string => t !== undefined).map((t) => Date.parse(t));
    return new Date(Math.max(...candidates));
  }

  async function handle(schedule: Schedule, now: Date): Promise<MissedFiringsSummary> {
    if (schedule.state !== 'ENABLED' || !hasFiringsLeft(schedule)) return { missed: 0, caughtUp: 0 };
    const since = await sinceFor(schedule);
    const { times, more } = missedFireTimes(schedule, since, now);
    if (times.length === 0) return { missed: 0, caughtUp: 0 };
    const latest = schedule.catch_up === 'latest' ? times.pop() : undefined;
    for (const [i, time] of times.entries()) {
      const earlier = i === 0 && more > 0 ? `; ${more} earlier firing${more === 1 ? '' : 's'} since ${since.toISOString()} were missed too` : '';
      const firing = deps.firingOf(schedule, time);
      await schedules.recordFiring({
        schedule_id: schedule.id,
        experiment_id: schedule.experiment_id,
        scheduled_time: firing.scheduled_time,
        schedule_arn: firing.schedule_arn,
        generation: schedule.generation,
        outcome: 'missed',
        reason: `local mode was not running at ${firing.scheduled_time}${earlier}${latest ? ' (catch_up: latest runs only the most recent)' : ''}`,
        received_at: now.toISOString(),
      });
    }
    if (latest) deps.enqueueFiring({ ...deps.firingOf(schedule, latest), fired_at: now.toISOString() });
    const missed = times.length + more;
    logger?.info('Firings missed while local mode was down', { scheduleId: schedule.id, missed, caughtUp: latest ? latest.toISOString() : null });
    return { missed, caughtUp: latest ? 1 : 0 };
  }

  return async function recordMissedFirings(): Promise<MissedFiringsSummary> {
    const now = clock.now();
    const total: MissedFiringsSummary = { missed: 0, caughtUp: 0 };
    let nextToken: string | undefined;
    do {
      const page = await schedules.listAll({ limit: PAGE_SIZE, nextToken });
      for (const schedule of page.items) {
        const one = await handle(schedule, now);
        total.missed += one.missed;
        total.caughtUp += one.caughtUp;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return total;
  };
}
