import type { Schedule } from '../../domain/schedule.js';
import { upcomingFireTimes } from '../../domain/schedule-preview.js';
import type { Clock, CloudScheduler, ScheduleFiring, ScheduleStore } from '../../ports.js';

/** setTimeout cannot wait longer than ~24.8 days; longer waits are taken in hops. */
const MAX_TIMER_MS = 2 **31 - 1;
const PAGE_SIZE = 500;

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

/**
 * Local mode's stand-in for EventBridge Scheduler: one timer per schedule,
 * firing at the fire times of its Unix pattern in its time zone, within its
 * dates, with EventBridge's daylight-saving rules (domain/fire-times.ts), and
 * the same firing message the cloud sends. A paused schedule has no timer. A
 * schedule with jitter fires a random 0..jitter_seconds after its time (the
 * flexible time window), with its scheduled time in the message. Firings missed while the process was down are not
 * replayed (EventBridge does not replay a window it was not running in either).
 */
export class LocalScheduler implements CloudScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly next = new Map<string, NextFiring>();
  private stopped = false;

  constructor(private readonly deps: LocalSchedulerDeps) {}

  /** Arms every stored schedule that has firings left (local start-up). */
  async armAll(store: ScheduleStore): Promise<number> {
    let armed = 0;
    let nextToken: string | undefined;
    do {
      const page = await store.listAll({ limit: PAGE_SIZE, nextToken });
      for (const schedule of page.items) {
        if (schedule.state === 'ENABLED' && (schedule.recurrence_left === null || schedule.recurrence_left > 0)) {
          this.schedule(schedule);
          armed += 1;
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return armed;
  }

  async arm(schedule: Schedule): Promise<void> {
    this.schedule(schedule);
  }

  async disarm(schedule: Pick<Schedule, 'id'>): Promise<void> {
    const timer = this.timers.get(schedule.id);
    if (timer) clearTimeout(timer);
    this.timers.delete(schedule.id);
    this.next.delete(schedule.id);
  }

  /** Every armed schedule's next firing, soonest first. */
  nextFirings(): NextFiring[] {
    return [...this.next.values()].sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /** Number of armed schedules. */
  get size(): number {
    return this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.next.clear();
  }

  private schedule(schedule: Schedule, after?: Date): void {
    void this.disarm(schedule);
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
        this.schedule(schedule, from);
        return;
      }
      this.deps.fire({
        kind: 'schedule-firing',
        schedule_id: schedule.id,
        experiment_id: schedule.experiment_id,
        schedule_arn: `local:${schedule.id}`,
        scheduled_time: next.toISOString(),
      });
      this.schedule(schedule, next);
    }, Math.min(Math.max(0, wait), MAX_TIMER_MS));
    timer.unref?.();
    this.timers.set(schedule.id, timer);
    this.next.set(schedule.id, { scheduleId: schedule.id, experimentId: schedule.experiment_id, at: next });
  }
}
