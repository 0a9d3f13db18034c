import type { DeletionMarker } from '../../functions/domain/deletion.js';
import { ConflictError, NotFoundError } from '../../functions/domain/errors.js';
import type { FiringRecord, Schedule } from '../../functions/domain/schedule.js';
import type { FiringOutcome, Page, PageRequest, ScheduleFiring, ScheduleStore } from '../../functions/ports.js';

type Item = Schedule & Partial<DeletionMarker> & { last_fired_time?: string };

function paginate<T>(items: T[], page: PageRequest): Page<T> {
  const start = page.nextToken ? Number(page.nextToken) : 0;
  const next = start + page.limit;
  return next < items.length ? { items: items.slice(start, next), nextToken: String(next) } : { items: items.slice(start) };
}

/** ScheduleStore in memory, with the DynamoDB adapter's generation, firing and soft-delete rules. */
export class MemoryScheduleStore implements ScheduleStore {
  readonly items = new Map<string, Item>();
  readonly firings = new Map<string, FiringRecord>();

  private live(): Item[] {
    return [...this.items.values()].filter((s) => s.deleted_at === undefined);
  }

  private static view(item: Item): Schedule & Partial<DeletionMarker> {
    const { last_fired_time: _ignored, ...schedule } = structuredClone(item);
    return schedule;
  }

  async create(schedule: Schedule): Promise<void> {
    if (this.items.has(schedule.id)) throw new ConflictError('exists');
    this.items.set(schedule.id, structuredClone(schedule));
  }

  async get(experimentId: string, scheduleId: string, options: { includeDeleted?: boolean } = {}): Promise<(Schedule & Partial<DeletionMarker>) | undefined> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId) return undefined;
    if (item.deleted_at !== undefined && !options.includeDeleted) return undefined;
    return MemoryScheduleStore.view(item);
  }

  async update(schedule: Schedule, resetLeft: boolean): Promise<Schedule> {
    const item = this.items.get(schedule.id);
    if (!item || item.deleted_at !== undefined) throw new NotFoundError('missing');
    if (item.generation !== schedule.generation - 1) throw new ConflictError(`Schedule ${schedule.id} was changed by another request; read it again and retry`);
    Object.assign(item, structuredClone({ ...schedule, recurrence_left: resetLeft ? schedule.recurrence_left : item.recurrence_left }));
    return MemoryScheduleStore.view(item);
  }

  async markDeleted(experimentId: string, scheduleId: string, by: string, at: string): Promise<Schedule> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId || item.deleted_at !== undefined) throw new NotFoundError('missing');
    Object.assign(item, { deleted_at: at, deleted_by: by, updated_at: at, updated_by: by, generation: item.generation + 1 });
    return MemoryScheduleStore.view(item);
  }

  async listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>> {
    return paginate(
      this.live()
        .filter((s) => s.experiment_id === experimentId)
        .map(MemoryScheduleStore.view),
      page,
    );
  }

  async listAll(page: PageRequest): Promise<Page<Schedule>> {
    return paginate(this.live().map(MemoryScheduleStore.view), page);
  }

  async recordFiring(record: FiringRecord): Promise<FiringRecord> {
    const key = `${record.schedule_id}#${record.scheduled_time}`;
    if (!this.firings.has(key)) this.firings.set(key, structuredClone(record));
    return structuredClone(this.firings.get(key) as FiringRecord);
  }

  async settleFiring(firing: ScheduleFiring, outcome: FiringRecord['outcome'], reason: string): Promise<void> {
    const record = this.firings.get(`${firing.schedule_id}#${firing.scheduled_time}`);
    if (record) Object.assign(record, { outcome, reason });
  }

  async applyFiring(firing: ScheduleFiring): Promise<{ outcome: FiringOutcome; schedule?: Schedule }> {
    const item = this.items.get(firing.schedule_id);
    if (!item || item.deleted_at !== undefined) return { outcome: 'missing' };
    const schedule = MemoryScheduleStore.view(item);
    if (item.generation !== (firing.generation ?? 0)) return { outcome: 'superseded', schedule };
    const last = item.last_fired_time;
    if (last === firing.scheduled_time) return { outcome: 'already-applied', schedule };
    if (last !== undefined && last > firing.scheduled_time) return { outcome: 'stale', schedule };
    if (item.recurrence_left !== null && item.recurrence_left <= 0) return { outcome: 'exhausted', schedule };
    item.last_fired_time = firing.scheduled_time;
    if (item.recurrence_left !== null) item.recurrence_left -= 1;
    return { outcome: 'applied', schedule: MemoryScheduleStore.view(item) };
  }
}
