import type { DeletionMarker } from '../../functions/domain/deletion.js';
import { ConflictError, NotFoundError } from '../../functions/domain/errors.js';
import type { FiringCounts, FiringRecord, Schedule } from '../../functions/domain/schedule.js';
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

  private view(item: Item): Schedule & Partial<DeletionMarker> {
    const { last_fired_time: _ignored, ...schedule } = structuredClone(item);
    const counts: FiringCounts = {};
    for (const record of this.firings.values()) {
      if (record.schedule_id === item.id) counts[record.outcome] = (counts[record.outcome] ?? 0) + 1;
    }
    return { ...schedule, firing_counts: counts };
  }

  private static recordKey(record: Pick<FiringRecord, 'schedule_id' | 'scheduled_time'> & Partial<FiringRecord>): string {
    return `${record.schedule_id}#${record.scheduled_time}${record.outcome === 'duplicate' ? `#duplicate#${record.schedule_arn ?? ''}` : ''}`;
  }

  async listFirings(experimentId: string, scheduleId: string, page: PageRequest): Promise<Page<FiringRecord>> {
    const records = [...this.firings.entries()]
      .filter(([, r]) => r.schedule_id === scheduleId && r.experiment_id === experimentId)
      .sort(([a], [b]) => b.localeCompare(a))
      .map(([, r]) => structuredClone(r));
    return paginate(records, page);
  }

  async create(schedule: Schedule): Promise<void> {
    if (this.items.has(schedule.id)) throw new ConflictError('exists');
    this.items.set(schedule.id, structuredClone(schedule));
  }

  async get(experimentId: string, scheduleId: string, options: { includeDeleted?: boolean } = {}): Promise<(Schedule & Partial<DeletionMarker>) | undefined> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId) return undefined;
    if (item.deleted_at !== undefined && !options.includeDeleted) return undefined;
    return this.view(item);
  }

  async update(schedule: Schedule, resetLeft: boolean): Promise<Schedule> {
    const item = this.items.get(schedule.id);
    if (!item || item.deleted_at !== undefined) throw new NotFoundError('missing');
    if (item.generation !== schedule.generation - 1) throw new ConflictError(`Schedule ${schedule.id} was changed by another request; read it again and retry`);
    Object.assign(item, structuredClone({ ...schedule, recurrence_left: resetLeft ? schedule.recurrence_left : item.recurrence_left }));
    return this.view(item);
  }

  async markDeleted(experimentId: string, scheduleId: string, by: string, at: string): Promise<Schedule> {
    const item = this.items.get(scheduleId);
    if (!item || item.experiment_id !== experimentId || item.deleted_at !== undefined) throw new NotFoundError('missing');
    Object.assign(item, { deleted_at: at, deleted_by: by, updated_at: at, updated_by: by, generation: item.generation + 1 });
    return this.view(item);
  }

  async listByExperiment(experimentId: string, page: PageRequest): Promise<Page<Schedule>> {
    return paginate(
      this.live()
        .filter((s) => s.experiment_id === experimentId)
        .map((item) => this.view(item)),
      page,
    );
  }

  async listAll(page: PageRequest): Promise<Page<Schedule>> {
    return paginate(this.live().map((item) => this.view(item)), page);
  }

  async recordFiring(record: FiringRecord): Promise<FiringRecord> {
    const key = MemoryScheduleStore.recordKey(record);
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
    const schedule = this.view(item);
    if (item.generation !== (firing.generation ?? 0)) return { outcome: 'superseded', schedule };
    const last = item.last_fired_time;
    if (last === firing.scheduled_time) return { outcome: 'already-applied', schedule };
    if (last !== undefined && last > firing.scheduled_time) return { outcome: 'stale', schedule };
    if (item.recurrence_left !== null && item.recurrence_left <= 0) return { outcome: 'exhausted', schedule };
    item.last_fired_time = firing.scheduled_time;
    if (item.recurrence_left !== null) item.recurrence_left -= 1;
    return { outcome: 'applied', schedule: this.view(item) };
  }
}
