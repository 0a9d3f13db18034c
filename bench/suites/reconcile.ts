/**
 * Schedule reconciliation's cost as schedules grow (10 / 1,000 / 100,000): store
 * reads, EventBridge Scheduler calls by command, and time, against in-memory
 * fakes that count every call (the store pages 100 schedules a query, as the
 * DynamoDB adapter does; the Scheduler fake pages ListSchedules at most 100, as the
 * service does). Two runs per size: everything in line, and 1 % drifted (a third
 * missing, a third stale, a third orphans). Also: creating a schedule with
 * recurrence_count 1,000,000 through the real EventBridge adapter (its EndDate is
 * bounded), and the worst bounded case, 1,000 firings left.
 */
import { EventBridgeCloudScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import type { Page, PageRequest } from '../../functions/ports.js';
import { makeReconcileSchedules, type ReconcileReport } from '../../functions/use-cases/reconcile-schedules.js';
import { makeScheduleUseCases } from '../../functions/use-cases/schedules.js';
import { FakeEventBridgeScheduler } from '../../test/support/fake-eventbridge-scheduler.js';
import { MemoryScheduleStore } from '../../test/support/memory-schedule-store.js';
import { makeExperiment, MemoryExperimentStore, MemoryTrialStore, newId } from '../../test/support/memory-stores.js';
import { ms, verdict, type Row } from '../lib/report.js';
import { round, rounded, summarize, type Summary } from '../lib/stats.js';
import type { SuiteContext, SuiteResult } from './suite.js';

const SIZES = [10, 1_000, 100_000];
const GROUP = 'kallisti-bench';
const target = { queueArn: 'arn:aws:sqs:eu-west-1:1:q.fifo', roleArn: 'arn:aws:iam::1:role/r', deadLetterArn: 'arn:aws:sqs:eu-west-1:1:dlq' };
const PATTERNS = ['*/15 * * * *', '0 9 * * 1-5', '30 2 1 * *', '0 12 1 * 1'];
/** Target: at most one ListSchedules call per this many schedules. */
const SCHEDULES_PER_LIST = 100;
const CREATE_TARGET_MS = 100;

/** The memory store, paging a snapshot so 100,000 schedules page in linear time, and counting its reads. */
class CountingScheduleStore extends MemoryScheduleStore {
  reads = 0;
  private snapshot: Schedule[] = [];
  override async listAll(page: PageRequest): Promise<Page<Schedule>> {
    this.reads += 1;
    if (!page.nextToken) this.snapshot = [...this.items.values()].filter((s) => s.deleted_at === undefined);
    const start = page.nextToken ? Number(page.nextToken) : 0;
    const next = start + page.limit;
    return { items: this.snapshot.slice(start, next).map((s) => structuredClone(s)), ...(next < this.snapshot.length && { nextToken: String(next) }) };
  }
  override async get(...args: Parameters<MemoryScheduleStore['get']>) {
    this.reads += 1;
    return super.get(...args);
  }
}

/** The memory experiment store, counting its reads. */
class CountingExperimentStore extends MemoryExperimentStore {
  reads = 0;
  override async list(...args: Parameters<MemoryExperimentStore['list']>) {
    this.reads += 1;
    return super.list(...args);
  }
  override async get(...args: Parameters<MemoryExperimentStore['get']>) {
    this.reads += 1;
    return super.get(...args);
  }
}

interface Run {
  report: ReconcileReport;
  storeReads: number;
  scheduler: Record<string, number>;
  ms: number;
}

interface SizeResult {
  schedules: number;
  inLine: Run;
  drifted: Run;
}

function schedule(experimentId: string, index: number): Schedule {
  const at = '2027-03-01T00:00:00.000Z';
  return {
    id: newId(),
    experiment_id: experimentId,
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: PATTERNS[index % PATTERNS.length] as string,
    recurrence_count: index % 3 === 0 ? 100 : null,
    recurrence_left: index % 3 === 0 ? 100 : null,
    generation: 1,
    ...SCHEDULE_DEFAULTS,
    created_by: 'bench',
    created_at: at,
    updated_by: 'bench',
    updated_at: at,
  };
}

async function measureSize(size: number, context: SuiteContext): Promise<SizeResult> {
  context.progress(`reconcile: ${size.toLocaleString('en-US')} schedules`);
  const now = new Date('2027-03-01T10:00:00.000Z');
  const clock = { now: () => now };
  const aws = new FakeEventBridgeScheduler(() => new Date(now.getTime() - 3600_000));
  const cloud = new EventBridgeCloudScheduler(aws.client(), { groupName: GROUP, target, clock });
  const experiments = new CountingExperimentStore();
  const schedules = new CountingScheduleStore();
  const experiment = makeExperiment({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
  await experiments.create(experiment);
  const all: Schedule[] = [];
  for (let i = 0; i < size; i += 1) {
    const s = schedule(experiment.id, i);
    all.push(s);
    await schedules.create(s);
    await cloud.arm(s, false);
  }
  const reconcile = makeReconcileSchedules({ schedules, experiments, cloud, clock });
  const measure = async (): Promise<Run> => {
    schedules.reads = 0;
    experiments.reads = 0;
    for (const key of Object.keys(aws.calls) as (keyof typeof aws.calls)[]) aws.calls[key] = 0;
    const start = performance.now();
    const report = await reconcile();
    return { report, ms: round(performance.now() - start, 1), storeReads: schedules.reads + experiments.reads, scheduler: { ...aws.calls } };
  };
  const inLine = await measure();

  // 1 % drift: missing (cloud schedule deleted), stale (an older generation left behind), orphans (record gone).
  const drift = Math.max(3, Math.floor(size / 100));
  for (let i = 0; i < drift; i += 1) {
    const s = all[(i * 7919) % size] as Schedule;
    if (i % 3 === 0) await cloud.disarm(s);
    else if (i % 3 === 1) await cloud.arm({ ...s, generation: 0 }, false);
    else {
      const orphan = { ...s, id: newId() };
      await cloud.arm(orphan, false);
    }
  }
  const drifted = await measure();
  return { schedules: size, inLine, drifted };
}

async function measureCreate(context: SuiteContext): Promise<{ million: Summary; thousand: Summary; endDateThousand: boolean; endDateMillion: boolean }> {
  context.progress('reconcile: creating schedules with large recurrence_count');
  const clock = { now: () => new Date() };
  const aws = new FakeEventBridgeScheduler(() => new Date());
  const cloud = new EventBridgeCloudScheduler(aws.client(), { groupName: GROUP, target, clock });
  const experiments = new MemoryExperimentStore();
  const experiment = makeExperiment({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
  await experiments.create(experiment);
  const api = makeScheduleUseCases({ schedules: new MemoryScheduleStore(), experiments, trials: new MemoryTrialStore(), cloud, clock, ids: { newId } });
  const samples: Record<'million' | 'thousand', number[]> = { million: [], thousand: [] };
  const ends: Record<'million' | 'thousand', boolean> = { million: false, thousand: false };
  const rounds = context.rounds(30);
  for (let i = 0; i < rounds + 3; i += 1) {
    for (const [kind, count] of i % 2 === 0 ? ([['million', 1_000_000], ['thousand', 1000]] as const) : ([['thousand', 1000], ['million', 1_000_000]] as const)) {
      const start = performance.now();
      const view = await api.create(experiment.id, { recurrence_pattern: '* * * * *', recurrence_count: count }, { id: 'bench' });
      const elapsed = performance.now() - start;
      if (i >= 3) samples[kind].push(elapsed);
      ends[kind] = aws.get(GROUP, `${view.id}-g1-0`)?.EndDate !== undefined;
    }
  }
  return { million: rounded(summarize(samples.million)), thousand: rounded(summarize(samples.thousand)), endDateMillion: ends.million, endDateThousand: ends.thousand };
}

export async function runReconcile(context: SuiteContext): Promise<SuiteResult> {
  const sizes: SizeResult[] = [];
  for (const size of SIZES) sizes.push(await measureSize(size, context));
  const create = await measureCreate(context);
  const rows: Row[] = [];
  const label = (n: number) => n.toLocaleString('en-US');
  const calls = (run: Run) =>
    `${run.storeReads} store reads, ${run.scheduler['ListSchedules']} List${run.scheduler['CreateSchedule'] ? ` + ${run.scheduler['CreateSchedule']} Create` : ''}${run.scheduler['DeleteSchedule'] ? ` + ${run.scheduler['DeleteSchedule']} Delete` : ''}, ${run.scheduler['GetSchedule']} Get`;
  for (const r of sizes) {
    const ok = (run: Run) => (run.scheduler['ListSchedules'] as number) <= Math.ceil(run.report.cloudSchedules / SCHEDULES_PER_LIST) && run.scheduler['GetSchedule'] === 0;
    rows.push({
      benchmark: `Reconcile ${label(r.schedules)} schedules, in line`,
      measured: `${ms(r.inLine.ms)}; ${calls(r.inLine)}`,
      target: `≤ 1 List per ${SCHEDULES_PER_LIST}, no Get`,
      result: verdict(ok(r.inLine) && r.inLine.report.missing + r.inLine.report.orphan + r.inLine.report.stale === 0),
    });
    const d = r.drifted.report;
    rows.push({
      benchmark: `Reconcile ${label(r.schedules)} schedules, 1 % drifted (${d.missing} missing, ${d.stale} stale, ${d.orphan} orphans)`,
      measured: `${ms(r.drifted.ms)}; ${calls(r.drifted)}`,
      target: `≤ 1 List per ${SCHEDULES_PER_LIST}, no Get, all repaired`,
      result: verdict(ok(r.drifted) && d.failures === 0),
    });
  }
  const first = sizes[0] as SizeResult;
  const last = sizes.at(-1) as SizeResult;
  const perSchedule = (r: SizeResult) => (r.inLine.ms * 1000) / r.schedules;
  rows.push({
    benchmark: `Reconcile time per schedule, ${label(first.schedules)} → ${label(last.schedules)}`,
    measured: sizes.map((r) => `${perSchedule(r).toFixed(1)} µs`).join(' / '),
    target: 'linear',
    result: 'info',
  });
  rows.push({
    benchmark: 'Create a schedule, recurrence_count 1,000,000 (use case + EventBridge adapter; open-ended, no EndDate walk)',
    measured: `${ms(create.million.median)} / ${ms(create.million.p95)}`,
    target: `< ${CREATE_TARGET_MS} ms`,
    result: verdict(create.million.p95 < CREATE_TARGET_MS && !create.endDateMillion),
  });
  rows.push({
    benchmark: 'Create a schedule, recurrence_count 1,000 (the largest with an exact EndDate)',
    measured: `${ms(create.thousand.median)} / ${ms(create.thousand.p95)}`,
    target: `< ${CREATE_TARGET_MS} ms`,
    result: verdict(create.thousand.p95 < CREATE_TARGET_MS && create.endDateThousand),
  });
  return { rows, data: { sizes, create } };
}
