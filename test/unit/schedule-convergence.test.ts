/**
 * Whatever happens to schedules, in whatever order (creates, edits, deletes of
 * schedules and of their experiment, firings, calls that fail before or after the
 * service acted, time passing beyond EndDates, reconciliations, all interleaved at
 * every store and cloud call), one reconciliation afterwards leaves exactly the
 * cloud schedules the store says should be armed, and a second finds nothing to do.
 *
 * The store is the in-memory ScheduleStore (DynamoDB's single-item conditional
 * writes); the cloud is the real EventBridge adapter on a fake Scheduler that
 * follows the service's documented behaviour (test/support/fake-eventbridge-scheduler.ts).
 */
import fc from 'fast-check';
import { EventBridgeCloudScheduler } from '../../functions/adapters/scheduler/eventbridge-scheduler.js';
import type { Schedule } from '../../functions/domain/schedule.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { makeReconcileSchedules } from '../../functions/use-cases/reconcile-schedules.js';
import { makeScheduleUseCases } from '../../functions/use-cases/schedules.js';
import { FakeEventBridgeScheduler } from '../support/fake-eventbridge-scheduler.js';
import { MemoryScheduleStore } from '../support/memory-schedule-store.js';
import { FakeClock, makeExperiment, MemoryExperimentStore, MemoryTrialStore, newId } from '../support/memory-stores.js';

const GROUP = 'kallisti-prop';
const target = { queueArn: 'arn:aws:sqs:eu-west-1:1:q.fifo', roleArn: 'arn:aws:iam::1:role/r', deadLetterArn: 'arn:aws:sqs:eu-west-1:1:dlq' };
const PATTERNS = ['* * * * *', '*/5 * * * *', '0 12 1 * 1', '0 9 * * 1-5'];
const caller = { id: 'prop' };

type Op =
  | { kind: 'create'; experiment: number; pattern: number; count: number | null }
  | { kind: 'update'; target: number; pattern?: number; count?: number | null; paused?: boolean }
  | { kind: 'delete'; target: number }
  | { kind: 'deleteExperiment'; experiment: number }
  | { kind: 'fire'; target: number }
  | { kind: 'fault'; command: 'CreateSchedule' | 'DeleteSchedule'; applied: boolean }
  | { kind: 'tick'; minutes: number }
  | { kind: 'reconcile' };

const count = fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 3 }), fc.constant(1_000_000));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), experiment: fc.nat(1), pattern: fc.nat(PATTERNS.length - 1), count }) },
  {
    weight: 3,
    arbitrary: fc.record(
      { kind: fc.constant('update' as const), target: fc.nat(), pattern: fc.nat(PATTERNS.length - 1), count, paused: fc.boolean() },
      { requiredKeys: ['kind', 'target'] },
    ),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), target: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteExperiment' as const), experiment: fc.nat(1) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('fire' as const), target: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fault' as const), command: fc.constantFrom('CreateSchedule' as const, 'DeleteSchedule' as const), applied: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), minutes: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconcile' as const) }) },
);
/** Rounds of operations; the operations of one round run at the same time. */
const rounds = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 });

/** Every async method of `target` waits for the fast-check scheduler before it runs (while `on()`), so concurrent operations interleave at every call. */
function interleaved<T extends object>(target: T, s: fc.Scheduler, on: () => boolean): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        const call = () => (value as (...a: unknown[]) => unknown).apply(object, args);
        if (!on()) return call();
        return s.schedule(Promise.resolve(String(property))).then(call);
      };
    },
  });
}

async function run(s: fc.Scheduler, plan: Op[][]): Promise<void> {
  const clock = new FakeClock('2027-03-01T10:00:30.000Z');
  const aws = new FakeEventBridgeScheduler(() => clock.now());
  let racing = true;
  const on = () => racing;
  const rawClient = aws.client();
  const client = interleaved(rawClient, s, on);
  const cloud = new EventBridgeCloudScheduler(client, { groupName: GROUP, target, clock });
  const experimentStore = new MemoryExperimentStore();
  const scheduleStore = new MemoryScheduleStore();
  const experiments = interleaved(experimentStore, s, on);
  const schedules = interleaved(scheduleStore, s, on);
  const trials = new MemoryTrialStore();
  const deps = { schedules, experiments, trials, cloud, clock, ids: { newId } };
  const api = makeScheduleUseCases(deps);
  const fire = makeFireSchedule(deps);
  const reconcile = makeReconcileSchedules({ schedules, experiments, cloud, clock, graceMs: 0 });
  const experimentIds: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const experiment = makeExperiment({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    await experimentStore.create(experiment);
    experimentIds.push(experiment.id);
  }
  const known: Schedule[] = [];
  const pick = <T>(list: T[], index: number): T | undefined => (list.length === 0 ? undefined : list[index % list.length]);

  async function execute(o: Op): Promise<void> {
    switch (o.kind) {
      case 'create': {
        const view = await api.create(experimentIds[o.experiment] as string, { recurrence_pattern: PATTERNS[o.pattern] as string, recurrence_count: o.count }, caller);
        known.push(view);
        return;
      }
      case 'update': {
        const s0 = pick(known, o.target);
        if (!s0) return;
        const input = {
          ...(o.pattern !== undefined && { recurrence_pattern: PATTERNS[o.pattern] as string }),
          ...(o.count !== undefined && { recurrence_count: o.count }),
          ...(o.paused !== undefined && { state: o.paused ? ('DISABLED' as const) : ('ENABLED' as const) }),
        };
        await api.update(s0.experiment_id, s0.id, Object.keys(input).length > 0 ? input : { ticket: { n: 1 } }, caller, 'patch');
        return;
      }
      case 'delete': {
        const s0 = pick(known, o.target);
        if (s0) await api.delete(s0.experiment_id, s0.id, caller);
        return;
      }
      case 'deleteExperiment': {
        // What the experiment delete does: its schedules first, then the experiment.
        const id = experimentIds[o.experiment] as string;
        await api.deleteAllOf(id, caller);
        await experiments.markDeleted(id);
        return;
      }
      case 'fire': {
        const name = pick(aws.names(GROUP), o.target);
        if (!name) return;
        clock.advance(60_000);
        await fire(aws.firing(GROUP, name, clock.now()));
        return;
      }
      case 'fault':
        aws.failNext(o.command, new Error('Task timed out'), { applied: o.applied });
        return;
      case 'tick':
        clock.advance(o.minutes * 60_000);
        aws.advanceTo(clock.now());
        return;
      case 'reconcile':
        await reconcile();
        return;
    }
  }

  for (const round of plan) {
    // A failed operation is what a failed request or a retried message leaves: the property is about what follows.
    let done = false;
    const settled = Promise.allSettled(round.map((o) => execute(o))).then(() => {
      done = true;
    });
    // Release scheduled calls until every operation has finished; a released call may schedule more after waitAll returns.
    while (!done) {
      await s.waitAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await settled;
  }

  racing = false;
  aws.clearFaults();
  const report = await reconcile();
  expect(report.failures).toBe(0);

  const expected: string[] = [];
  let token: string | undefined;
  do {
    const page = await scheduleStore.listAll({ limit: 100, nextToken: token });
    for (const schedule of page.items) {
      expect(await experimentStore.get(schedule.experiment_id)).toBeDefined();
      expected.push(...cloud.expectedNames(schedule));
    }
    token = page.nextToken;
  } while (token);
  expect(aws.names(GROUP)).toEqual(expected.sort());
  const again = await reconcile();
  expect(again).toMatchObject({ orphan: 0, missing: 0, stale: 0, cascaded: 0, failures: 0 });
}

describe('schedules converge: after a final reconciliation the cloud is what the store says', () => {
  it('holds over random interleavings of creates, edits, deletes, firings, failed calls, time and reconciliations', async () => {
    await fc.assert(fc.asyncProperty(fc.scheduler(), rounds, async (s, plan) => run(s, plan)), { numRuns: 150 });
  });
});
