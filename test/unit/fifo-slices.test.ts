import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { ExperimentDefinition, Step } from '../../functions/domain/experiment.js';
import { RecordRejectedError } from '../../functions/domain/errors.js';
import { snapshotOf, type Trial } from '../../functions/domain/trial.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import type { TrialStore } from '../../functions/ports.js';
import { makeWorkerHandler } from '../../functions/worker/handler.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';
import { SqsFifoHarness } from '../support/sqs-fifo-harness.js';

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MINUTE = 60_000;

/** Which worker invocation a piece of code runs in, so a killed one can be cut off from the world. */
const invocation = new AsyncLocalStorage<number>();

class KilledError extends Error {}

/**
 * Kill points: before every store write and inside every step call. At the chosen
 * one the invocation dies: the harness drops it, and whatever of it still runs can
 * neither reach the store nor the queue, nor run a step, as a dead Lambda cannot.
 */
class KillSwitch {
  points = 0;
  private readonly dead = new Set<number>();
  private kills = new Map<number, () => void>();
  constructor(private readonly target: number | undefined) {}

  /** The kill promise the harness races each invocation against. */
  forInvocation(n: number): Promise<void> {
    return new Promise((resolve) => this.kills.set(n, resolve));
  }

  get isDead(): boolean {
    const current = invocation.getStore();
    return current !== undefined && this.dead.has(current);
  }

  /** Passes a kill point; throws (and kills the invocation) at the target. */
  point(): void {
    if (this.isDead) throw new KilledError('dead invocation');
    this.points += 1;
    if (this.points !== this.target) return;
    const current = invocation.getStore() as number;
    this.dead.add(current);
    this.kills.get(current)?.();
    throw new KilledError('killed here');
  }
}

/** The store as a killable invocation sees it. */
function killableStore(store: MemoryTrialStore, kill: KillSwitch): TrialStore {
  const guard =
    <K extends keyof TrialStore>(name: K, write: boolean) =>
    async (...args: Parameters<TrialStore[K]>): Promise<Awaited<ReturnType<TrialStore[K]>>> => {
      if (write) kill.point();
      else if (kill.isDead) throw new KilledError('dead invocation');
      // Looked up at call time, so a test can replace a method of the store.
      const method = store[name] as (...a: Parameters<TrialStore[K]>) => Promise<Awaited<ReturnType<TrialStore[K]>>>;
      return method.apply(store, args);
    };
  return {
    create: guard('create', true),
    get: guard('get', false),
    getState: guard('getState', false),
    list: guard('list', false),
    listBySchedule: guard('listBySchedule', false),
    transition: guard('transition', true),
    putRecordEntry: guard('putRecordEntry', true),
    updateRuntime: guard('updateRuntime', true),
    listUnfinished: guard('listUnfinished', false),
  };
}

interface World {
  clock: FakeClock;
  store: MemoryTrialStore;
  queue: SqsFifoHarness;
  calls: Map<string, number>;
  kill: KillSwitch;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  addTrial(definition: Partial<ExperimentDefinition> & Pick<ExperimentDefinition, 'steps'>): Promise<Trial>;
  drain(): Promise<void>;
  trial(id: string): Trial;
}

/** `test.work`: takes `ms` of (fake) time; `test.big`: answers `bytes` of text and logs a line as long. */
function testModules(world: Pick<World, 'clock' | 'calls' | 'kill'>): StepModule[] {
  // A kill inside a step comes after the step began: it counts as run.
  const counted = (name: string) => {
    if (world.kill.isDead) throw new KilledError('dead invocation');
    world.calls.set(name, (world.calls.get(name) ?? 0) + 1);
    world.kill.point();
  };
  return [
    {
      name: 'test.work',
      description: 'takes some time',
      whereSchema: { type: 'object' },
      maxRunMs: (where) => Number(where['ms'] ?? 0) + 1000,
      async run(where) {
        counted(String(where['name']));
        world.clock.advance(Number(where['ms'] ?? 0));
        return { status_code: 200 };
      },
    },
    {
      name: 'test.big',
      description: 'a huge answer',
      whereSchema: { type: 'object' },
      maxRunMs: () => 30_000,
      async run(where, context) {
        counted(String(where['name']));
        const text = 'x'.repeat(Number(where['bytes']));
        context.log(`Body: ${text}`);
        return { status_code: 200, response_text: text };
      },
    },
  ];
}

function buildWorld(target?: number, options: { maxReceiveCount?: number } = {}): World {
  const clock = new FakeClock('2024-05-01T12:00:00.000Z');
  const store = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const calls = new Map<string, number>();
  const kill = new KillSwitch(target);
  const queue = new SqsFifoHarness({ clock, ...(options.maxReceiveCount !== undefined && { maxReceiveCount: options.maxReceiveCount }) });
  const registry = new ModuleRegistry([...DEFAULT_MODULES, ...testModules({ clock, calls, kill })]);
  const trials = killableStore(store, kill);
  const runTrial = makeRunTrial({ trials, experiments, registry, clock, logger: silent, stopPollMs: 60_000, startMarkerDelayMs: 60_000 });
  const visibility = { setVisibility: async (receipt: string, seconds: number) => (kill.isDead ? Promise.reject(new KilledError('dead')) : queue.setVisibility(receipt, seconds)) };
  const worker = makeWorkerHandler({ runTrial, logger: silent, visibility, now: () => clock.now().getTime() });
  let invocations = 0;
  const handler = (event: SQSEvent, context: Context) => {
    invocations += 1;
    return invocation.run(invocations, () => worker(event, context));
  };
  return {
    clock,
    store,
    queue,
    calls,
    kill,
    handler,
    async addTrial(definition) {
      const experiment = makeExperiment(definition);
      await experiments.create(experiment);
      const trial = makeTrial(experiment.id, { created_at: clock.now().toISOString(), experiment_snapshot: snapshotOf(experiment) });
      await store.create(trial);
      queue.send(JSON.stringify({ trial_id: trial.id }));
      return trial;
    },
    drain: () => queue.drain(handler, { kill: (n) => kill.forInvocation(n) }),
    trial: (id) => store.items.get(id) as Trial,
  };
}

const work = (name: string, ms: number): Step => ({ step: name, do: 'test.work', where: { name, ms } });
const wait = (name: string, seconds: number): Step => ({ step: name, do: 'cm.wait', where: { time_in_seconds: seconds } });

describe('trials in slices through SQS FIFO and the Lambda event source mapping', () => {
  it('runs a 2-hour trial in slices of at most 15 minutes, and the next trial only after it', async () => {
    const world = buildWorld();
    const steps: Step[] = [work('probe-1', 20_000), wait('settle-1', 30 * 60), work('probe-2', 20_000), wait('settle-2', 30 * 60)];
    for (let i = 1; i <= 6; i += 1) steps.push(work(`load-${i}`, 4 * MINUTE));
    steps.push(wait('settle-3', 36 * 60), work('probe-3', 20_000));
    const long = await world.addTrial({ steps, post_steps: [work('undo', 10_000)] });
    const next = await world.addTrial({ steps: [work('after', 1000)] });
    const started = world.clock.now().getTime();

    await world.drain();

    const first = world.trial(long.id);
    const second = world.trial(next.id);
    expect(first.status).toBe('Succeeded');
    expect(Date.parse(first.completed_at as string) - started).toBeGreaterThanOrEqual(2 * 60 * MINUTE);
    expect(second.status).toBe('Succeeded');
    expect(Date.parse(second.executed_at as string)).toBeGreaterThanOrEqual(Date.parse(first.completed_at as string));
    for (const run of world.queue.invocations) {
      expect(run.outcome).toBe('ok');
      expect(run.endedAt - run.startedAt).toBeLessThanOrEqual(15 * MINUTE);
    }
    expect(first.invocations).toBeGreaterThanOrEqual(5);
    expect(first.invocations).toBe(world.queue.invocations.filter((run) => run.messageIds.includes('msg-1')).length);
    expect([...world.calls.values()].every((n) => n === 1)).toBe(true);
    expect(first.trial_record.steps).toHaveLength(steps.length);
    // Waits cost no worker time: the trial used far less invocation time than it lasted.
    const busy = world.queue.invocations.reduce((sum, run) => sum + run.endedAt - run.startedAt, 0);
    expect(busy).toBeLessThan(40 * MINUTE);
    expect(world.queue.deadLetters).toEqual([]);
  });

  describe('killing the worker at every step boundary and inside every step', () => {
    const definition = { pre_steps: [work('pre', 1000)], steps: [work('one', 1000), work('two', 1000), work('three', 1000)], post_steps: [work('undo-1', 1000), work('undo-2', 1000)] };
    it('never runs a step twice, never loses a trial, and runs every post step once', async () => {
      // A run without a kill counts the kill points there are.
      const probe = buildWorld();
      await probe.addTrial(definition);
      await probe.drain();
      const total = probe.kill.points;
      expect(total).toBeGreaterThanOrEqual(12);

      for (let target = 1; target <= total; target += 1) {
        const world = buildWorld(target);
        const trial = await world.addTrial(definition);
        const behind = await world.addTrial({ steps: [work('behind', 1000)] });
        await world.drain();

        const where = `kill point ${target} of ${total}`;
        const stored = world.trial(trial.id);
        expect([where, ['Succeeded', 'Failed'].includes(stored.status)]).toEqual([where, true]);
        for (const name of ['pre', 'one', 'two', 'three']) expect([where, name, (world.calls.get(name) ?? 0) <= 1]).toEqual([where, name, true]);
        for (const name of ['undo-1', 'undo-2']) expect([where, name, world.calls.get(name)]).toEqual([where, name, 1]);
        expect([where, stored.trial_record.post_steps.length]).toEqual([where, 2]);
        expect([where, world.trial(behind.id).status]).toEqual([where, 'Succeeded']);
        expect(Date.parse(world.trial(behind.id).executed_at as string)).toBeGreaterThanOrEqual(Date.parse(stored.completed_at as string));
        expect(world.queue.pending).toEqual([]);
        expect(world.queue.deadLetters).toEqual([]);
      }
    });
  });

  it('ends a trial whose record entry the store refuses Failed with the reason, without holding the group', async () => {
    const world = buildWorld();
    const put = world.store.putRecordEntry.bind(world.store);
    world.store.putRecordEntry = async (id, phase, index, entry) => {
      if (entry.step_name === 'poison') throw new RecordRejectedError('One or more parameter values were invalid');
      return put(id, phase, index, entry);
    };
    const trial = await world.addTrial({ steps: [work('poison', 1000)] });
    const next = await world.addTrial({ steps: [work('next', 1000)] });

    await world.drain();

    expect(world.trial(trial.id).status).toBe('Failed');
    expect(world.trial(trial.id).trial_record.result[0]?.logs.join(' ')).toContain('its record could not be saved');
    expect(world.trial(next.id).status).toBe('Succeeded');
    expect(world.queue.invocations).toHaveLength(2);
  });

  it('keeps a step answering 1 MB to a bounded record entry, marked truncated', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [{ step: 'big', do: 'test.big', where: { name: 'big', bytes: 1024 * 1024 } }] });

    await world.drain();

    const stored = world.trial(trial.id);
    expect(stored.status).toBe('Succeeded');
    const entry = stored.trial_record.steps[0] as { logs: string[]; truncated?: boolean };
    expect(entry.truncated).toBe(true);
    expect(JSON.stringify(entry).length).toBeLessThan(100 * 1024);
    expect(entry.logs.some((line) => line.includes('[truncated:'))).toBe(true);
  });

  it('retries through a store outage after short backoffs, then runs the group on', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [work('one', 1000)] });
    const next = await world.addTrial({ steps: [work('next', 1000)] });
    world.store.failing = true;
    const outageEnds = world.clock.now().getTime() + 60_000;
    const handler = world.handler;
    const healing = async (event: SQSEvent, context: Context) => {
      if (world.clock.now().getTime() >= outageEnds) world.store.failing = false;
      return handler(event, context);
    };

    await world.queue.drain(healing);

    expect(world.trial(trial.id).status).toBe('Succeeded');
    expect(world.trial(next.id).status).toBe('Succeeded');
    // 15 s, 30 s, 60 s: the group waited about as long as the outage, not 16 minutes per attempt.
    expect(world.queue.visibilityCalls.map((call) => call.seconds)).toEqual([15, 30, 60]);
    expect(Date.parse(world.trial(next.id).completed_at as string) - Date.parse('2024-05-01T12:00:00.000Z')).toBeLessThan(3 * MINUTE);
  });

  it('wakes a trial parked in a long wait when it is stopped, and ends it Stopped with its post steps', async () => {
    const world = buildWorld();
    const trial = await world.addTrial({ steps: [wait('long', 6 * 3600), work('after', 1000)], post_steps: [work('undo', 1000)] });
    const first = await world.queue.poll(world.handler);
    expect(first).toBe(true);
    expect(world.store.items.get(trial.id)?.runtime?.slice).toBe('parked');
    const receipt = world.store.items.get(trial.id)?.runtime?.receipt as string;

    // What PUT /trial/{id}/stop does: Stop Initiated, then the parked message made visible.
    world.store.requestStop(trial.id);
    await world.queue.setVisibility(receipt, 0);
    world.clock.advance(1000);
    await world.queue.poll(world.handler);

    expect(world.trial(trial.id).status).toBe('Stopped');
    expect(world.calls.get('undo')).toBe(1);
    expect(world.calls.get('after')).toBeUndefined();
  });
});

