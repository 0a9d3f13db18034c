import { FisClient, GetExperimentCommand, StartExperimentCommand, StopExperimentCommand } from '@aws-sdk/client-fis';
import { mockClient } from 'aws-sdk-client-mock';
import type { ExperimentDefinition, Step } from '../../functions/domain/experiment.js';
import type { Guard } from '../../functions/domain/guards.js';
import type { Trial, TrialRecordEntry } from '../../functions/domain/trial.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { StepFailedError, type StepModule } from '../../functions/modules/types.js';
import { inputsOf, resetAws } from '../support/aws.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

// @aws-sdk/client-fis pins an older @smithy/types than the other clients (see aws/fis.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fis: any = mockClient(FisClient as never);
const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const LINE = /^\[[^\]]+ - (INFO|ERROR)\] /;
const SLICE_MS = 14 * 60_000;

/** The target the guard watches, and what ran. */
const world = { healthy: true, checks: 0, calls: [] as string[] };

const testModules: StepModule[] = [
  {
    name: 'test.health',
    description: 'health probe',
    whereSchema: { type: 'object' },
    probe: true,
    async run() {
      world.checks += 1;
      if (!world.healthy) throw new StepFailedError('status 503', { status_code: 503 });
      return { status_code: 200 };
    },
  },
  { name: 'test.undo', description: 'undo', whereSchema: { type: 'object' }, maxRunMs: () => 1000, run: async () => (world.calls.push('undo'), { ok: true }) },
];

const healthGuard = (over: Partial<Guard> = {}): Guard => ({ step: 'API healthy', do: 'test.health', where: {}, when: ['during'], interval_seconds: 600, tolerance: 2, ...over });
const undo: Step = { step: 'undo', do: 'test.undo', where: {} };

async function setup(definition: Pick<ExperimentDefinition, 'steps' | 'post_steps' | 'guards'>) {
  const clock = new FakeClock();
  const trials = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const experiment = makeExperiment(definition);
  await experiments.create(experiment);
  const trial = makeTrial(experiment.id);
  await trials.create(trial);
  const runTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry([...DEFAULT_MODULES, ...testModules]), clock, stopPollMs: 20, logger: silent });
  const slice = () => runTrial(trial.id, { deadline: clock.now().getTime() + SLICE_MS });
  const within = (ms: number) => runTrial(trial.id, { deadline: clock.now().getTime() + ms });
  return { clock, trials, trial, slice, within, start: clock.now().getTime(), stored: () => trials.items.get(trial.id) as Trial };
}

const messages = (entry: TrialRecordEntry | undefined): string[] => (entry?.logs ?? []).map((line) => line.replace(LINE, ''));

beforeEach(() => {
  world.healthy = true;
  world.checks = 0;
  world.calls = [];
  fis.reset();
  resetAws();
});

describe('during guards of a trial parked in a long wait', () => {
  it('bring the parked trial back for each check, and trip on the second failure in a row across slices', async () => {
    const f = await setup({ steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: 3600 } }], post_steps: [undo], guards: [healthGuard()] });

    // The wait alone would park for an hour: the guard brings the trial back after 600 s.
    await expect(f.slice()).resolves.toEqual({ outcome: 'parked', status: 'In Progress', resumeAt: f.start + 600_000 });
    expect(f.stored().runtime?.checkpoint.guards).toEqual({ next: { '0': f.start + 600_000 }, failing: {} });
    expect(world.checks).toBe(0);

    f.clock.advance(600_000);
    world.healthy = false;
    await expect(f.slice()).resolves.toEqual({ outcome: 'parked', status: 'In Progress', resumeAt: f.start + 1_200_000 });
    expect(world.checks).toBe(1);
    expect(f.stored().runtime?.checkpoint.guards?.failing['0']).toMatchObject({ count: 1, recent: [{ summary: expect.stringContaining('status 503') }] });

    f.clock.advance(600_000);
    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });
    expect(world.checks).toBe(2);
    expect(world.calls).toEqual(['undo']);
    expect(messages(f.stored().trial_record.steps[0]).at(-1)).toBe('Stopped: a stop was requested while the step waited.');
    const result = messages(f.stored().trial_record.result[0]);
    expect(result[0]).toBe('Trial Stopped: guard 1 ("API healthy", test.health, checked every 600 s) tripped during the trial after 2 consecutive failed check(s) (tolerance 2); the post steps ran.');
    expect(result.slice(1, 3)).toEqual([expect.stringMatching(/^Guard "API healthy" check 1 of 2 at 2024-05-01T12:10:00.000Z failed: status 503/), expect.stringMatching(/^Guard "API healthy" check 2 of 2 at 2024-05-01T12:20:00.000Z failed: status 503/)]);
  });

  it('keep a pass between two failures resetting the count across slices, and let the wait end Succeeded', async () => {
    const f = await setup({ steps: [{ step: 'hold', do: 'cm.wait', where: { time_in_seconds: 1800 } }], post_steps: [undo], guards: [healthGuard()] });
    await f.slice();
    for (const healthy of [false, true]) {
      f.clock.advance(600_000);
      world.healthy = healthy;
      await expect(f.slice()).resolves.toMatchObject({ outcome: 'parked' });
    }
    f.clock.advance(600_000);
    world.healthy = false;
    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
    expect(world.checks).toBe(3);
    expect(world.calls).toEqual(['undo']);
  });

  it('stop the FIS experiment of a parked step when they trip', async () => {
    fis.on(GetExperimentCommand).resolves({ experiment: { id: 'EXP1', state: { status: 'running' } } });
    fis.on(StopExperimentCommand).resolves({ experiment: { id: 'EXP1', state: { status: 'stopping' } } });
    const fisStep: Step = { step: 'az outage', do: 'aws.fis.start_experiment', where: { region: 'us-east-1', experiment_template_id: 'EXT1' } };
    const f = await setup({ steps: [fisStep], post_steps: [undo], guards: [healthGuard({ interval_seconds: 120, tolerance: 1 })] });
    // The start takes 26 s of a 40 s slice: the step then suspends at once, parked between polls.
    fis.on(StartExperimentCommand).callsFake(() => (f.clock.advance(26_000), { experiment: { id: 'EXP1', state: { status: 'initiating' } } }));
    await expect(f.within(40_000)).resolves.toMatchObject({ outcome: 'parked' });
    expect(f.stored().runtime?.checkpoint.step_state).toMatchObject({ experiment_id: 'EXP1' });

    f.clock.set(f.start + 120_000);
    world.healthy = false;
    await expect(f.slice()).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(messages(f.stored().trial_record.steps[0]).slice(-2)).toEqual(['Stopped: a stop was requested while the step waited.', 'Stopped FIS experiment EXP1.']);
    expect(world.calls).toEqual(['undo']);
  });
});
