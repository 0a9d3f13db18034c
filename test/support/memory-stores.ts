import type { DeletionMarker } from '../../functions/domain/deletion.js';
import { ConflictError, NotFoundError } from '../../functions/domain/errors.js';
import type { Experiment, ExperimentDefinition } from '../../functions/domain/experiment.js';
import { normaliseDefinition } from '../../functions/domain/experiment.js';
import type { ScheduleTrialSummary } from '../../functions/domain/schedule.js';
import { emptyTrialRecord, isFinal, RECORD_PHASES, type RecordPhase, type Trial, type TrialRecordEntry, type TrialRuntime, type TrialState, type TrialStatus } from '../../functions/domain/trial.js';
import { RecordRejectedError } from '../../functions/domain/errors.js';
import type { Clock, ExperimentStore, Page, PageRequest, RuntimeUpdateOptions, TimeRange, TrialChanges, TrialStore } from '../../functions/ports.js';

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: string | number = '2024-05-01T12:00:00.000Z') {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(at: number): void {
    this.current = at;
  }
}

function paginate<T>(items: T[], page: PageRequest): Page<T> {
  const start = page.nextToken ? Number(page.nextToken) : 0;
  const slice = items.slice(start, start + page.limit);
  const next = start + page.limit;
  return next < items.length ? { items: slice, nextToken: String(next) } : { items: slice };
}

/** ExperimentStore in memory; deleted experiments stay, marked, like the real one. */
export class MemoryExperimentStore implements ExperimentStore {
  readonly items = new Map<string, { experiment: Experiment; deleted: boolean; marker?: DeletionMarker }>();

  async create(experiment: Experiment): Promise<void> {
    if (this.items.has(experiment.id)) throw new ConflictError(`Experiment ${experiment.id} exists`);
    this.items.set(experiment.id, { experiment: structuredClone(experiment), deleted: false });
  }

  async get(id: string, options?: { includeDeleted?: boolean }): Promise<(Experiment & Partial<DeletionMarker>) | undefined> {
    const entry = this.items.get(id);
    if (!entry || (entry.deleted && !options?.includeDeleted)) return undefined;
    return structuredClone({ ...entry.experiment, ...entry.marker });
  }

  async replace(experiment: Experiment): Promise<void> {
    const entry = this.items.get(experiment.id);
    if (!entry || entry.deleted) throw new NotFoundError(`Experiment ${experiment.id} not found`);
    entry.experiment = structuredClone(experiment);
  }

  async markDeleted(id: string, by = 'tester', at = '2024-05-01T00:00:00.000Z'): Promise<void> {
    const entry = this.items.get(id);
    if (!entry || entry.deleted) throw new NotFoundError(`Experiment ${id} not found`);
    entry.deleted = true;
    entry.marker = { deleted_at: at, deleted_by: by };
  }

  async list(page: PageRequest): Promise<Page<Experiment>> {
    const live = [...this.items.values()].filter((e) => !e.deleted).map((e) => structuredClone(e.experiment));
    return paginate(live, page);
  }
}

/** A store call that fails like an unreachable database. */
export class StoreUnavailableError extends Error {}

function stateOf(trial: Trial): TrialState {
  const { trial_record: _record, experiment_snapshot: _snapshot, ...state } = structuredClone(trial);
  return state;
}

/** DynamoDB's item limit, which the real store enforces on each record entry. */
const MAX_ITEM_BYTES = 400 * 1024;

/** TrialStore in memory with the same conditional-write rules as the real one (`items` holds each trial assembled). */
export class MemoryTrialStore implements TrialStore {
  readonly items = new Map<string, Trial>();
  /** Every status change, in order, for assertions. */
  readonly transitions: { id: string; from: TrialStatus; to: TrialStatus }[] = [];
  /** Every record entry written, in order: `phase[index]`. */
  readonly entryWrites: string[] = [];
  /** Number of runtime writes (slice starts, checkpoints). */
  runtimeWrites = 0;
  /** When set, every call throws (a store outage). */
  failing = false;
  /** Called before each read of a trial (tests use it to inject a stop at a chosen moment). */
  onGet?: (id: string) => void;

  private check(): void {
    if (this.failing) throw new StoreUnavailableError('trial store unavailable');
  }

  async create(trial: Trial): Promise<void> {
    this.check();
    if (this.items.has(trial.id)) throw new ConflictError(`Trial ${trial.id} exists`);
    this.items.set(trial.id, structuredClone(trial));
  }

  async get(id: string): Promise<Trial | undefined> {
    this.check();
    this.onGet?.(id);
    const trial = this.items.get(id);
    return trial && structuredClone(trial);
  }

  async getState(id: string): Promise<TrialState | undefined> {
    this.check();
    this.onGet?.(id);
    const trial = this.items.get(id);
    return trial && stateOf(trial);
  }

  async list(filter: { experiment?: string; range?: TimeRange }, page: PageRequest): Promise<Page<Trial>> {
    this.check();
    const { from, to } = filter.range ?? {};
    const all = [...this.items.values()].filter(
      (t) => (!filter.experiment || t.experiment === filter.experiment) && (from === undefined || t.created_at >= from) && (to === undefined || t.created_at < to),
    );
    return paginate(all.map((t) => structuredClone(t)), page);
  }

  async listBySchedule(scheduleId: string, page: PageRequest): Promise<Page<ScheduleTrialSummary>> {
    this.check();
    const all = [...this.items.values()].filter((t) => t.schedule_id === scheduleId);
    return paginate(all.map((t) => ({ id: t.id, status: t.status, executed_at: t.executed_at })), page);
  }

  async transition(id: string, from: readonly TrialStatus[], to: TrialStatus, changes: TrialChanges = {}): Promise<TrialState | undefined> {
    this.check();
    const trial = this.items.get(id);
    if (!trial || isFinal(trial.status) || !from.includes(trial.status)) return undefined;
    const { trial_record: entries, ...fields } = structuredClone(changes);
    for (const phase of RECORD_PHASES) for (const [index, entry] of (entries?.[phase] ?? []).entries()) this.writeEntry(trial, phase, index, entry);
    this.transitions.push({ id, from: trial.status, to });
    Object.assign(trial, fields, { status: to });
    if (isFinal(to) && fields.runtime === undefined) delete trial.runtime;
    return stateOf(trial);
  }

  async putRecordEntry(id: string, phase: RecordPhase, index: number, entry: TrialRecordEntry): Promise<void> {
    this.check();
    const trial = this.items.get(id);
    if (!trial) return;
    if (JSON.stringify(entry).length > MAX_ITEM_BYTES) throw new RecordRejectedError(`Item size has exceeded the maximum allowed size (${phase}[${index}])`);
    this.writeEntry(trial, phase, index, structuredClone(entry));
  }

  private writeEntry(trial: Trial, phase: RecordPhase, index: number, entry: TrialRecordEntry): void {
    this.entryWrites.push(`${phase}[${index}]`);
    trial.trial_record[phase][index] = entry;
  }

  async updateRuntime(id: string, runtime: Partial<TrialRuntime>, options: RuntimeUpdateOptions = {}): Promise<TrialState | undefined> {
    this.check();
    const trial = this.items.get(id);
    if (!trial || (trial.status !== 'In Progress' && trial.status !== 'Stop Initiated')) return undefined;
    if (!options.replace && !trial.runtime) return undefined;
    const orphaned = trial.runtime?.orphaned !== undefined;
    if (options.ifLease !== undefined ? trial.runtime?.lease_until !== options.ifLease : orphaned !== (options.recovery === true)) return undefined;
    const before = stateOf(trial);
    this.runtimeWrites += 1;
    const patch = Object.fromEntries(Object.entries(structuredClone(runtime)).filter(([, value]) => value !== undefined));
    trial.runtime = options.replace ? (patch as unknown as TrialRuntime) : { ...(trial.runtime as TrialRuntime), ...patch };
    if (options.countInvocation) trial.invocations = (trial.invocations ?? 0) + 1;
    return before;
  }

  async listUnfinished(page: PageRequest): Promise<Page<TrialState>> {
    this.check();
    const unfinished = [...this.items.values()]
      .filter((t) => !isFinal(t.status))
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map(stateOf);
    return paginate(unfinished, page);
  }

  /** What the stop API does to a running trial: a direct status change, outside the executor. */
  requestStop(id: string): void {
    const trial = this.items.get(id);
    if (trial && (trial.status === 'Scheduled' || trial.status === 'In Progress')) {
      this.transitions.push({ id, from: trial.status, to: 'Stop Initiated' });
      trial.status = 'Stop Initiated';
    }
  }
}

let counter = 0;

/** A unique UUID-shaped id, deterministic within a run. */
export function newId(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

export function makeExperiment(definition: Partial<ExperimentDefinition> & Pick<ExperimentDefinition, 'steps'>, id = newId()): Experiment {
  const at = '2024-05-01T00:00:00.000Z';
  return {
    ...normaliseDefinition({ name: 'experiment', ...definition }),
    id,
    created_by: 'tester',
    created_at: at,
    updated_by: 'tester',
    updated_at: at,
  };
}

export function makeTrial(experimentId: string, overrides: Partial<Trial> = {}): Trial {
  return {
    id: newId(),
    experiment: experimentId,
    parameters: {},
    metadata: {},
    ticket: {},
    status: 'Scheduled',
    trial_record: emptyTrialRecord(),
    created_at: '2024-05-01T11:00:00.000Z',
    executed_at: null,
    completed_at: null,
    initiated_by: 'tester',
    initiated_from: 'api',
    schedule_id: null,
    ...overrides,
  };
}
