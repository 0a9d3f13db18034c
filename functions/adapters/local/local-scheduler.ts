import { hasFiringsLeft, type Schedule } from '../../domain/schedule.js';
import { upcomingFireTimes } from '../../domain/schedule-preview.js';
import type { Clock, CloudScheduleEntry, CloudScheduler, ScheduleFiring, ScheduleStore } from '../../ports.js';
import { cloudScheduleName, parseCloudScheduleName } from '../scheduler/cloud-schedule-name.js';

/** setTimeout cannot wait longer than ~24.8 days; longer waits are taken in hops. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const PAGE_SIZE = 500;
/** Local firings name their "cloud schedule" like this, as EventBridge names it by ARN. */
const LOCAL_ARN_PREFIX = 'local:';

/** When an armed schedule fires next. */
export interface NextFiring {
  scheduleId: string;
  experimentId: string;
  at: Date;
}

export interface LocalSchedulerDeps {
  clock: Clock;
  /** Where a firing goes: the local sequential worker, as EventBridge sends to the FIFO queue. */
  fire: (firing: ScheduleFiring) => void;
  /** 0 <= x < 1, for the jitter delay; Math.random unless a test pins it. */
  random?: () => number;
}

interface Armed {
  timer: NodeJS.Timeout;
  next: NextFiring;
  armedAt: Date;
}

/**
 * Local mode's stand-in for EventBridge Scheduler: one timer per schedule
 * generation (named like that generation's cloud schedule), firing at the fire
 * times of its Unix pattern in its time zone, within its dates, with
 * EventBridge's daylight-saving rules (domain/fire-times.ts), and the same
 * firing message the cloud sends. A paused schedule, or one with nothing left
 * to fire, has no timer. A schedule with jitter fires a random
 * 0..jitter_seconds after its time (the flexible time window), with its
 * scheduled time in the message. Firings missed while the process was down are
 * found at start-up (use-cases/missed-firings.ts): recorded as missed, the latest
 * run once with `catch_up: latest`.
 */
export class LocalScheduler implements CloudScheduler {
  private readonly timers = new Map<string, Armed>();
  private stopped = false;

  constructor(private readonly deps: LocalSchedulerDeps) {}

  /** Arms every stored schedule that has firings left (what reconciliation does at start-up, without its checks). */
  async armAll(store: ScheduleStore): Promise<number> {
    let armed = 0;
    let nextToken: string | undefined;
    do {
      const page = await store.listAll({ limit: PAGE_SIZE, nextToken });
      for (const schedule of page.items) {
        if (schedule.state === 'ENABLED' && hasFiringsLeft(schedule)) {
          this.schedule(schedule);
          armed += 1;
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return armed;
  }

  /** The message this scheduler sends for `schedule` at `scheduledTime`. */
  firingOf(schedule: Schedule, scheduledTime: Date): ScheduleFiring {
    return {
      kind: 'schedule-firing',
      schedule_id: schedule.id,
      experiment_id: schedule.experiment_id,
      generation: schedule.generation,
      schedule_arn: `${LOCAL_ARN_PREFIX}${cloudScheduleName(schedule.id, schedule.generation, 0)}`,
      scheduled_time: scheduledTime.toISOString(),
    };
  }

  async arm(schedule: Schedule, replaces = true): Promise<void> {
    if (!this.timers.has(cloudScheduleName(schedule.id, schedule.generation, 0))) this.schedule(schedule);
    if (replaces && schedule.generation > 0) this.clear(cloudScheduleName(schedule.id, schedule.generation - 1, 0));
  }

  async disarm(schedule: Pick<Schedule, 'id' | 'generation'>): Promise<void> {
    this.clear(cloudScheduleName(schedule.id, schedule.generation, 0));
    if (schedule.generation > 0) this.clear(cloudScheduleName(schedule.id, schedule.generation - 1, 0));
  }

  async remove(nameOrArn: string): Promise<void> {
    this.clear(nameOrArn.startsWith(LOCAL_ARN_PREFIX) ? nameOrArn.slice(LOCAL_ARN_PREFIX.length) : nameOrArn);
  }

  /** The timer names this schedule should have: one while it has a fire time ahead (enabled, firings left, within its dates). */
  expectedNames(schedule: Schedule): string[] {
    return hasFiringsLeft(schedule) && upcomingFireTimes(schedule, this.deps.clock.now(), 1).length > 0 ? [cloudScheduleName(schedule.id, schedule.generation, 0)] : [];
  }

  async *list(): AsyncIterable<CloudScheduleEntry[]> {
    yield [...this.timers.entries()].map(([name, armed]) => ({ name, ...parseCloudScheduleName(name), modifiedAt: armed.armedAt }));
  }

  /** Every armed schedule's next firing, soonest first. */
  nextFirings(): NextFiring[] {
    return [...this.timers.values()].map((armed) => armed.next).sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /** Number of armed timers (one per armed schedule generation). */
  get size(): number {
    return this.timers.size;
  }

  /** Whether this generation of the schedule is armed. */
  isArmed(schedule: Pick<Schedule, 'id' | 'generation'>): boolean {
    return this.timers.has(cloudScheduleName(schedule.id, schedule.generation, 0));
  }

  stop(): void {
    this.stopped = true;
    for (const armed of this.timers.values()) clearTimeout(armed.timer);
    this.timers.clear();
  }

  private clear(name: string): void {
    const armed = this.timers.get(name);
    if (armed) clearTimeout(armed.timer);
    this.timers.delete(name);
  }

  private schedule(schedule: Schedule, after?: Date, armedAt?: Date): void {
    const name = cloudScheduleName(schedule.id, schedule.generation, 0);
    this.clear(name);
    if (this.stopped) return;
    const from = after ?? this.deps.clock.now();
    const [next] = upcomingFireTimes(schedule, from, 1);
    if (!next) return;
    const delay = schedule.jitter_seconds > 0 ? Math.floor((this.deps.random ?? Math.random)() * schedule.jitter_seconds * 1000) : 0;
    const due = next.getTime() + delay;
    const wait = due - this.deps.clock.now().getTime();
    const timer = setTimeout(() => {
      if (due > this.deps.clock.now().getTime()) {
        // A long wait taken in hops: not there yet.
        this.schedule(schedule, from, armedAt);
        return;
      }
      this.deps.fire({ ...this.firingOf(schedule, next), fired_at: this.deps.clock.now().toISOString() });
      // The firing may have removed this timer (an exhausted or orphaned schedule): then it stays removed.
      if (this.timers.get(name)?.timer === timer) this.schedule(schedule, next, armedAt);
    }, Math.min(Math.max(0, wait), MAX_TIMER_MS));
    timer.unref?.();
    this.timers.set(name, { timer, next: { scheduleId: schedule.id, experimentId: schedule.experiment_id, at: next }, armedAt: armedAt ?? this.deps.clock.now() });
  }
}
