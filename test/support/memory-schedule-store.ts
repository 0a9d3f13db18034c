import type { DeletionMarker } from '../../functions/domain/deletion.js';
import { ConflictError, NotFoundError } from '../../functions/domain/errors.js';
import type { Schedule } from '../../functions/domain/schedule.js';
import type { FiringOutcome, Page, PageRequest, ScheduleFiring, ScheduleStore } from '../../functions/ports.js';

type Item = Schedule & Partial<DeletionMarker> & { last_fired_time?: string };

/** ScheduleStore in memory, with the DynamoDB adapter's firing and soft-delete rules. */
export class MemoryScheduleStore implements ScheduleStore {
  readonly items = new Map<string, Item>();
  readonly firings = new Map<string, string>();

  private live(): Item[] {
    return [...this.items.values()].filter((s) => s.deleted_at === undefined);
  }

  async create(schedule: Schedule): Promise<void> {
    if (this.items.has(schedule.id)) throw new ConflictError('exists');
    this.items.set(schedule.id, structuredClone(schedule));
  }

  async get(experimentId: string, scheduleId: string, options: { includeDeleted?: boolean } = {}): Promise<(Schedule & Partial<DeletionMarker>) | undefined> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId) return undefined;
    if (item.deleted_at !== undefined && !options.includeDeleted) return undefined;
    const { last_fired_time: _ignored, ...schedule } = structuredClone(item);
    return schedule;
  }

  async update(schedule: Schedule, expectedUpdatedAt: string, resetLeft: boolean): Promise<Schedule> {
    const item = this.items.get(schedule.id);
    if (!item || item.deleted_at !== undefined) throw new NotFoundError('missing');
    if (item.updated_at !== expectedUpdatedAt) throw new ConflictError('changed');
    Object.assign(item, structuredClone({ ...schedule, recurrence_left: resetLeft ? schedule.recurrence_left : item.recurrence_left }));
    return (await this.get(schedule.experiment_id, schedule.id)) as Schedule;
  }

  async markDeleted(experimentId: string, scheduleId: string, by: string, at: string): Promise<void> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId || item.deleted_at !== undefined) throw new NotFoundError('missing');
    Object.assign(item, { deleted_at: at, deleted_by: by, updated_at: at, updated_by: by });
  }

  async restore(schedule: Schedule): Promise<void> {
    const item = this.items.get(schedule.id);
    if (!item) throw new NotFoundError('missing');
    delete item.deleted_at;
    delete item.deleted_by;
    Object.assign(item, { updated_at: schedule.updated_at, updated_by: schedule.updated_by });
  }

  async delete(_experimentId: string, scheduleId: string): Promise<void> {
    if (!this.items.delete(scheduleId)) throw new NotFoundError('missing');
  }

  async listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>> {
    return { items: this.live().filter((s) => s.experiment_id === experimentId).slice(0, page.limit) };
  }

  async listAll(page: PageRequest): Promise<Page<Schedule>> {
    return { items: this.live().slice(0, page.limit) };
  }

  async claimFiring(firing: ScheduleFiring, trialId: string): Promise<string> {
    const key = `${firing.schedule_id}#${firing.scheduled_time}`;
    if (!this.firings.has(key)) this.firings.set(key, trialId);
    return this.firings.get(key) as string;
  }

  async applyFiring(firing: ScheduleFiring): Promise<{ outcome: FiringOutcome; schedule?: Schedule }> {
    const item = this.items.get(firing.schedule_id);
    if (!item || item.deleted_at !== undefined) return { outcome: 'missing' };
    const last = item.last_fired_time;
    if (last === firing.scheduled_time) return { outcome: 'already-applied', schedule: structuredClone(item) };
    if (last !== undefined && last > firing.scheduled_time) return { outcome: 'stale', schedule: structuredClone(item) };
    if (item.recurrence_left !== null && item.recurrence_left <= 0) return { outcome: 'exhausted', schedule: structuredClone(item) };
    item.last_fired_time = firing.scheduled_time;
    if (item.recurrence_left !== null) item.recurrence_left -= 1;
    return { outcome: 'applied', schedule: structuredClone(item) };
  }
}
