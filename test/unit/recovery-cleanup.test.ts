import { FisClient, GetExperimentCommand, StartExperimentCommand, StopExperimentCommand, type ExperimentStatus } from '@aws-sdk/client-fis';
import { CancelCommandCommand, ListCommandsCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { ExperimentDefinition, Step } from '../../functions/domain/experiment.js';
import type { Trial, TrialRecordEntry } from '../../functions/domain/trial.js';
import type { JsonObject } from '../../functions/domain/types.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { suspend, type StepModule } from '../../functions/modules/types.js';
import type { TrialStore } from '../../functions/ports.js';
import { makeWatchdog, REASONS } from '../../functions/use-cases/watchdog.js';
import { inputsOf, resetAws } from '../support/aws.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

// @aws-sdk/client-fis pins an older @smithy/types than the other clients (see aws/fis.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fis: any = mockClient(FisClient as never);
const ssm = mockClient(SSMClient);
const fisExperiment = (status: ExperimentStatus) => ({ experiment: { id: 'EXP1', experimentTemplateId: 'EXT1', state: { status } } });
const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const LINE = /^\[[^\]]+ - (INFO|ERROR)\] /;
const SLICE_MS = 14 * 60_000;
const INTERRUPTED = 'Interrupted: the worker running this step stopped; it is not run again.';

class KilledError extends Error {}

/**
 * The store as one worker invocation sees it: once the invocation is killed, nothing
 * of it reaches the store any more, as nothing of a dead Lambda can.
 */
function killable(store: MemoryTrialStore): { trials: TrialStore; kill(): void } {
  let dead = false;
  const trials = new Proxy(store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (dead ? Promise.reject(new KilledError('dead invocation')) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { trials, kill: () => (dead = true) };
}

interface Cleanup {
  where: JsonObject;
  state: JsonObject;
}

/**
 * `test.long`: a resumable step that leaves something (`where.handle`) running between
 * calls and ends after `where.calls` calls; its cleanup is observed. `test.undo`: a post step.
 */
function testModules(world: { events: string[]; cleanups: Cleanup[]; cleanupFails: boolean; dieIn?: string; kill?: () => void }): StepModule[] {
  return [
    {
      name: 'test.long',
      description: 'a long step that suspends between calls',
      whereSchema: { type: 'object' },
      resumable: true,
      maxRunMs: () => 1000,
      async run(where, context) {
        const handle = String(where['handle']);
        const call = Number(context.resumed?.['calls'] ?? 0) + 1;
        const label = `${handle} call ${call}`;
        world.events.push(label);
        // `where.early`: what it leaves running is started in its first call, and its state saved at once.
        if (where['early'] === true && call === 1) await context.saveState?.({ handle, calls: 0 });
        if (world.dieIn === label) {
          // Its start is saved meanwhile (startMarkerDelayMs 0), as a long call's is.
          await new Promise((resolve) => setTimeout(resolve, 20));
          world.kill?.();
          throw new KilledError('killed here');
        }
        if (call >= Number(where['calls'])) return { done: handle };
        return suspend((context.now?.() ?? 0) + 60_000, { handle, calls: call });
      },
      async cleanup(where, state, context) {
        world.cleanups.push({ where, state });
        if (world.cleanupFails) throw new Error(`AccessDenied: ${String(where['token'])} may not stop it`);
        context.log(`Undid ${String(state['handle'])} after ${String(state['calls'])} call(s).`);
      },
    },
    { name: 'test.undo', description: 'a post step', whereSchema: { type: 'object' }, maxRunMs: () => 1000, run: async () => (world.events.push('undo'), { ok: true }) },
  ];
}

async function setup(definition: Partial<ExperimentDefinition> & Pick<ExperimentDefinition, 'steps'>, parameters: JsonObject = {}, startMarkerDelayMs = 0) {
  const clock = new FakeClock();
  const store = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const world: Parameters<typeof testModules>[0] = { events: [], cleanups: [], cleanupFails: false };
  const stored = makeExperiment(definition);
  await experiments.create(stored);
  const trial = makeTrial(stored.id, { parameters });
  await store.create(trial);
  const registry = new ModuleRegistry([...DEFAULT_MODULES, ...testModules(world)]);
  const workerOn = (trials: TrialStore) => makeRunTrial({ trials, experiments, registry, clock, logger: silent, stopPollMs: 20, startMarkerDelayMs });
  const runTrial = workerOn(store);
  const slice = (options: { recovery?: boolean } = {}) => runTrial(trial.id, { deadline: clock.now().getTime() + SLICE_MS, ...options });
  /** A slice whose worker dies at `world.kill()`: what it had written stays, nothing after. */
  const dyingSlice = async () => {
    const dying = killable(store);
    world.kill = dying.kill;
    await expect(workerOn(dying.trials)(trial.id, { deadline: clock.now().getTime() + SLICE_MS })).rejects.toThrow(KilledError);
  };
  const watchdog = makeWatchdog({ trials: store, probe: { isEmpty: async () => false }, recoveries: { enqueueRecovery: async () => undefined }, clock, logger: silent });
  return { clock, store, world, trial, slice, dyingSlice, watchdog, stored: () => store.items.get(trial.id) as Trial };
}

const messages = (entry: TrialRecordEntry | undefined): string[] => (entry?.logs ?? []).map((line) => line.replace(LINE, ''));
const long = (name: string, handle: string, calls: number, extra: JsonObject = {}): Step => ({ step: name, do: 'test.long', where: { handle, calls, ...extra } });
const undo: Step = { step: 'undo', do: 'test.undo', where: {} };

describe('recovering a trial whose worker died in a long step undoes what the step left running', () => {
  it('calls the cleanup once, with the state the checkpoint holds, when a redelivery ends the trial; never when a slice resumes the step', async () => {
    const f = await setup({ steps: [long('inject', 'H1', 10, { token: '{{ api_token }}' })], post_steps: [undo] }, { api_token: 's3cr3t-token' });
    await expect(f.slice()).resolves.toMatchObject({ outcome: 'parked' });
    // The next slice resumes the parked step: it goes on, nothing is undone.
    await expect(f.slice()).resolves.toMatchObject({ outcome: 'parked' });
    expect(f.world.cleanups).toEqual([]);
    expect(f.stored().runtime?.checkpoint.step_state).toEqual({ handle: 'H1', calls: 2 });

    f.world.dieIn = 'H1 call 3';
    await f.dyingSlice();
    expect(f.world.cleanups).toEqual([]);

    // The message comes back: the worker finds the slice that never ended and ends the trial.
    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.world.cleanups).toEqual([{ where: { handle: 'H1', calls: 10, token: 's3cr3t-token' }, state: { handle: 'H1', calls: 2 } }]);
    expect(f.world.events).toEqual(['H1 call 1', 'H1 call 2', 'H1 call 3', 'undo']);
    expect(messages(f.stored().trial_record.steps[0]).slice(-2)).toEqual([INTERRUPTED, 'Undid H1 after 2 call(s).']);
    expect(messages(f.stored().trial_record.result[0])).toEqual(['Trial Failed: the run was interrupted at step 1 ("inject") when its worker stopped; main steps are not run again.']);
  });

  it('still ends the trial Failed, with its reason and post steps, when the cleanup throws; the failure is in the step entry, scrubbed', async () => {
    const f = await setup({ steps: [long('inject', 'H1', 10, { token: '{{ api_token }}' })], post_steps: [undo] }, { api_token: 's3cr3t-token' });
    f.world.cleanupFails = true;
    await f.slice();
    f.world.dieIn = 'H1 call 2';
    await f.dyingSlice();

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.world.cleanups).toHaveLength(1);
    expect(f.world.events.at(-1)).toBe('undo');
    expect(f.stored().trial_record.steps[0]?.logs.slice(-2)).toEqual([
      expect.stringMatching(/ - ERROR\] Interrupted: the worker running this step stopped/),
      expect.stringMatching(/ - ERROR\] Could not undo what the step left running: AccessDenied: \*\*\* may not stop it$/),
    ]);
    expect(messages(f.stored().trial_record.result[0])).toEqual(['Trial Failed: the run was interrupted at step 1 ("inject") when its worker stopped; main steps are not run again.']);
    expect(f.stored().runtime).toBeUndefined();
  });

  it('undoes only the step the worker died in, never one that ended after the last checkpoint', async () => {
    const f = await setup({ steps: [long('first', 'A', 2), long('second', 'B', 5)], post_steps: [undo] });
    await f.slice();
    expect(f.stored().runtime?.checkpoint).toMatchObject({ phase: 'steps', index: 0, step_state: { handle: 'A', calls: 1 } });
    // `first` ends in this slice, and the worker dies in the first call of `second`, before it saved any state.
    f.world.dieIn = 'B call 1';
    await f.dyingSlice();
    expect(f.stored().runtime?.checkpoint).toMatchObject({ phase: 'steps', index: 0, step_state: { handle: 'A', calls: 1 } });

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.world.cleanups).toEqual([]);
    expect(messages(f.stored().trial_record.steps[1]).at(-1)).toBe(INTERRUPTED);
  });

  it('never undoes a step with the state it saved early once that step ended', async () => {
    const f = await setup({ steps: [long('first', 'A', 1, { early: true }), long('second', 'B', 5)], post_steps: [undo] });
    // `first` saves its state, then ends in the same call; the worker dies in `second` before it saved any.
    f.world.dieIn = 'B call 1';
    await f.dyingSlice();
    expect(f.stored().runtime?.checkpoint).toMatchObject({ phase: 'steps', index: 0, step_state: { handle: 'A', calls: 0 } });

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.world.cleanups).toEqual([]);
    expect(messages(f.stored().trial_record.steps[0]).at(-1)).toBe('Completed.');
    expect(messages(f.stored().trial_record.steps[1]).at(-1)).toBe(INTERRUPTED);
  });
});

describe('aws.fis.start_experiment: a worker dies mid-experiment', () => {
  const fisStep: Step = { step: 'az outage', do: 'aws.fis.start_experiment', where: { region: 'us-east-1', experiment_template_id: 'EXT1' } };

  beforeEach(() => {
    fis.reset();
    resetAws();
  });

  it('stops the FIS experiment when the watchdog takes the trial over and its recovery ends it', async () => {
    const f = await setup({ steps: [fisStep], post_steps: [undo] });
    let dieOnPoll = Number.POSITIVE_INFINITY;
    let polls = 0;
    fis.on(StartExperimentCommand).resolves(fisExperiment('initiating'));
    fis.on(GetExperimentCommand).callsFake(() => {
      polls += 1;
      if (polls === dieOnPoll) {
        f.world.kill?.();
        throw new KilledError('killed while polling');
      }
      f.clock.advance(30_000);
      return fisExperiment('running');
    });
    fis.on(StopExperimentCommand).resolves(fisExperiment('stopping'));

    await expect(f.slice()).resolves.toMatchObject({ outcome: 'parked' });
    expect(f.stored().runtime?.checkpoint.step_state).toMatchObject({ experiment_id: 'EXP1', status: 'running' });
    dieOnPoll = polls + 1;
    await f.dyingSlice();
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);

    // Nothing touches the trial past its lease: the watchdog takes it over and sends a recovery delivery.
    f.clock.set(Date.parse(f.stored().runtime?.lease_until as string) + 1);
    await expect(f.watchdog()).resolves.toMatchObject({ findings: [{ trialId: f.trial.id, action: 'recovery', reason: REASONS.noWorker }] });
    await expect(f.slice({ recovery: true })).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(inputsOf(fis, StartExperimentCommand)).toEqual([{ experimentTemplateId: 'EXT1' }]);
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(messages(f.stored().trial_record.steps[0]).slice(-2)).toEqual([INTERRUPTED, 'Stopped FIS experiment EXP1.']);
    expect(f.world.events).toEqual(['undo']);
    expect(messages(f.stored().trial_record.result[0])[0]).toBe(`Trial Failed: ${REASONS.noWorker} The run was interrupted at step 1 ("az outage") when its worker stopped; main steps are not run again.`);
  });

  it('stops the FIS experiment when the redelivered message finds the slice that never ended', async () => {
    const f = await setup({ steps: [fisStep], post_steps: [undo] });
    let dying = false;
    fis.on(StartExperimentCommand).resolves(fisExperiment('initiating'));
    fis.on(GetExperimentCommand).callsFake(() => {
      if (dying) {
        f.world.kill?.();
        throw new KilledError('killed while polling');
      }
      f.clock.advance(30_000);
      return fisExperiment('running');
    });
    fis.on(StopExperimentCommand).resolves(fisExperiment('stopping'));

    await f.slice();
    dying = true;
    await f.dyingSlice();
    dying = false;

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(messages(f.stored().trial_record.steps[0]).at(-1)).toBe('Stopped FIS experiment EXP1.');
  });
});

describe('a worker that dies in the call that started what the step waits for, before the step ever suspended', () => {
  const fisStep: Step = { step: 'az outage', do: 'aws.fis.start_experiment', where: { region: 'us-east-1', experiment_template_id: 'EXT1' } };
  const ssmStep: Step = { step: 'cpu stress', do: 'aws.ssm.send_command', where: { region: 'us-east-1', document_name: 'AWS-RunShellScript', instance_ids: ['i-1'] } };

  beforeEach(() => {
    fis.reset();
    ssm.reset();
    resetAws();
  });

  it('stops the FIS experiment it started: its id was saved as soon as StartExperiment answered', async () => {
    const f = await setup({ steps: [fisStep], post_steps: [undo] });
    fis.on(StartExperimentCommand).resolves({ experiment: { id: 'EXP-EARLY', experimentTemplateId: 'EXT1', state: { status: 'initiating' } } });
    // The first poll of the first call: the worker dies before the step could suspend.
    fis.on(GetExperimentCommand).callsFake(() => {
      f.world.kill?.();
      throw new KilledError('killed while polling');
    });
    fis.on(StopExperimentCommand).resolves(fisExperiment('stopping'));

    await f.dyingSlice();
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([{ id: 'EXP-EARLY' }]);
    expect(f.stored().runtime).toMatchObject({ slice: 'running', checkpoint: { phase: 'steps', index: 0, step_state: { experiment_id: 'EXP-EARLY', status: 'initiating' } } });
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);

    // The message comes back: the slice that never ended is recovered, and the experiment stopped.
    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(inputsOf(fis, StartExperimentCommand)).toEqual([{ experimentTemplateId: 'EXT1' }]);
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP-EARLY' }]);
    expect(messages(f.stored().trial_record.steps[0])).toEqual(['Starting aws.fis.start_experiment step "az outage".', 'Started FIS experiment EXP-EARLY from template EXT1.', INTERRUPTED, 'Stopped FIS experiment EXP-EARLY.']);
    expect(f.world.events).toEqual(['undo']);
    expect(messages(f.stored().trial_record.result[0])).toEqual(['Trial Failed: the run was interrupted at step 1 ("az outage") when its worker stopped; main steps are not run again.']);
  });

  it('saves the step\'s start before its state: a recovery undoes only a step whose entry says it started', async () => {
    // The start marker would be written only after a minute: the early save writes it first.
    const f = await setup({ steps: [long('inject', 'H1', 10, { early: true })], post_steps: [undo] }, {}, 60_000);
    f.world.dieIn = 'H1 call 1';
    await f.dyingSlice();

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.world.cleanups).toEqual([{ where: { handle: 'H1', calls: 10, early: true }, state: { handle: 'H1', calls: 0 } }]);
    expect(messages(f.stored().trial_record.steps[0])).toEqual(['Starting test.long step "inject".', INTERRUPTED, 'Undid H1 after 0 call(s).']);
  });

  it('goes on polling when the store fails to save the id: the step still ends as its experiment does', async () => {
    const f = await setup({ steps: [fisStep], post_steps: [undo] });
    const updateRuntime = f.store.updateRuntime.bind(f.store);
    let refused = 0;
    f.store.updateRuntime = async (id, runtime, options) => {
      // Only the write of a running step's state fails (the park and the claims carry more).
      if (Object.keys(runtime).join() === 'checkpoint') {
        refused += 1;
        throw new Error('ProvisionedThroughputExceededException');
      }
      return updateRuntime(id, runtime, options);
    };
    fis.on(StartExperimentCommand).resolves({ experiment: { id: 'EXP-EARLY', experimentTemplateId: 'EXT1', state: { status: 'initiating' } } });
    fis.on(GetExperimentCommand).resolves({ experiment: { id: 'EXP-EARLY', experimentTemplateId: 'EXT1', state: { status: 'completed' } } });

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });

    expect(refused).toBe(1);
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);
    expect(messages(f.stored().trial_record.steps[0])).toEqual(expect.arrayContaining(['FIS experiment EXP-EARLY is completed.', 'Completed.']));
    expect(f.world.events).toEqual(['undo']);
  });

  it('cancels the SSM command it sent: its id was saved as soon as SendCommand answered', async () => {
    const f = await setup({ steps: [ssmStep], post_steps: [undo] });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-early', DocumentName: 'AWS-RunShellScript', Status: 'Pending' } });
    ssm.on(ListCommandsCommand).callsFake(() => {
      f.world.kill?.();
      throw new KilledError('killed while polling');
    });
    ssm.on(CancelCommandCommand).resolves({});

    await f.dyingSlice();
    expect(inputsOf(ssm, ListCommandsCommand)).toEqual([{ CommandId: 'cmd-early' }]);
    expect(inputsOf(ssm, CancelCommandCommand)).toEqual([]);

    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(inputsOf(ssm, SendCommandCommand)).toHaveLength(1);
    expect(inputsOf(ssm, CancelCommandCommand)).toEqual([{ CommandId: 'cmd-early' }]);
    expect(messages(f.stored().trial_record.steps[0]).slice(-2)).toEqual([INTERRUPTED, 'Cancelled SSM command cmd-early.']);
    expect(f.world.events).toEqual(['undo']);
  });
});
