import { ConflictError, NotFoundError } from '../../functions/domain/errors.js';
import type { Schedule } from '../../functions/domain/schedule.js';
import type { FiringOutcome, Page, PageRequest, ScheduleFiring, ScheduleStore } from '../../functions/ports.js';

/** ScheduleStore in memory, with the DynamoDB adapter's firing rules. */
export class MemoryScheduleStore implements ScheduleStore {
  readonly items = new Map<string, Schedule & { last_fired_time?: string }>();
  readonly firings = new Map<string, string>();

  async create(schedule: Schedule): Promise<void> {
    if (this.items.has(schedule.id)) throw new ConflictError('exists');
    this.items.set(schedule.id, structuredClone(schedule));
  }

  async get(experimentId: string, scheduleId: string): Promise<Schedule | undefined> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId) return undefined;
    const { last_fired_time: _ignored, ...schedule } = structuredClone(item);
    return schedule;
  }

  async update(schedule: Schedule, expectedUpdatedAt: string, resetLeft: boolean): Promise<Schedule> {
    const item = this.items.get(schedule.id);
    if (!item) throw new NotFoundError('missing');
    if (item.updated_at !== expectedUpdatedAt) throw new ConflictError('changed');
    Object.assign(item, structuredClone({ ...schedule, recurrence_left: resetLeft ? schedule.recurrence_left : item.recurrence_left }));
    return (await this.get(schedule.experiment_id, schedule.id)) as Schedule;
  }

  async delete(_experimentId: string, scheduleId: string): Promise<void> {
    if (!this.items.delete(scheduleId)) throw new NotFoundError('missing');
  }

  async listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>> {
    return { items: [...this.items.values()].filter((s) => s.experiment_id === experimentId).slice(0, page.limit) };
  }

  async listAll(page: PageRequest): Promise<Page<Schedule>> {
    return { items: [...this.items.values()].slice(0, page.limit) };
  }

  async claimFiring(firing: ScheduleFiring, trialId: string): Promise<string> {
    const key = `${firing.schedule_id}#${firing.scheduled_time}`;
    if (!this.firings.has(key)) this.firings.set(key, trialId);
    return this.firings.get(key) as string;
  }

  async applyFiring(firing: ScheduleFiring): Promise<{ outcome: FiringOutcome; schedule?: Schedule }> {
    const item = this.items.get(firing.schedule_id);
    if (!item) return { outcome: 'missing' };
    const last = item.last_fired_time;
    if (last === firing.scheduled_time) return { outcome: 'already-applied', schedule: structuredClone(item) };
    if (last !== undefined && last > firing.scheduled_time) return { outcome: 'stale', schedule: structuredClone(item) };
    if (item.recurrence_left !== null && item.recurrence_left <= 0) return { outcome: 'exhausted', schedule: structuredClone(item) };
    item.last_fired_time = firing.scheduled_time;
    if (item.recurrence_left !== null) item.recurrence_left -= 1;
    return { outcome: 'applied', schedule: structuredClone(item) };
  }
}
