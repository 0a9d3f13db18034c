import { FisClient, GetExperimentCommand, StartExperimentCommand, StopExperimentCommand, type ExperimentStatus } from '@aws-sdk/client-fis';
import { mockClient } from 'aws-sdk-client-mock';
import type { ExperimentDefinition } from '../../functions/domain/experiment.js';
import type { Trial, TrialRecordEntry } from '../../functions/domain/trial.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';
import { inputsOf, resetAws } from '../support/aws.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

// @aws-sdk/client-fis pins an older @smithy/types than the other clients (see aws/fis.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fis: any = mockClient(FisClient as never);
const experiment = (status: ExperimentStatus) => ({ experiment: { id: 'EXP1', experimentTemplateId: 'EXT1', state: { status } } });
const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const LINE = /^\[[^\]]+ - (INFO|ERROR)\] /;
const fisStep = { step: 'az outage', do: 'aws.fis.start_experiment', where: { region: 'us-east-1', experiment_template_id: 'EXT1' } };

/** `test.undo` records that the post step ran. */
function undo(calls: string[]): StepModule {
  return { name: 'test.undo', description: 'undo', whereSchema: { type: 'object' }, maxRunMs: () => 1000, run: async () => (calls.push('undo'), { ok: true }) };
}

async function setup(definition: Pick<ExperimentDefinition, 'steps' | 'post_steps'>) {
  const clock = new FakeClock();
  const trials = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const calls: string[] = [];
  const stored = makeExperiment(definition);
  await experiments.create(stored);
  const trial = makeTrial(stored.id);
  await trials.create(trial);
  const registry = new ModuleRegistry([...DEFAULT_MODULES, undo(calls)]);
  const runTrial = makeRunTrial({ trials, experiments, registry, clock, stopPollMs: 20, logger: silent });
  return { clock, trials, calls, trial, runTrial, stored: () => trials.items.get(trial.id) as Trial };
}

const messages = (entry: TrialRecordEntry | undefined): string[] => (entry?.logs ?? []).map((line) => line.replace(LINE, ''));

beforeEach(() => {
  fis.reset();
  resetAws();
});

describe('a stopped trial undoes what its suspended step left running', () => {
  it('stops the FIS experiment of a step parked between polls when the trial is stopped, then runs the post steps', async () => {
    const f = await setup({ steps: [fisStep], post_steps: [{ step: 'undo', do: 'test.undo', where: {} }] });
    fis.on(StartExperimentCommand).resolves(experiment('initiating'));
    fis.on(GetExperimentCommand).callsFake(() => {
      f.clock.advance(30_000);
      return experiment('running');
    });
    fis.on(StopExperimentCommand).resolves(experiment('stopping'));

    const first = await f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 14 * 60_000 });
    expect(first).toMatchObject({ outcome: 'parked', status: 'In Progress' });
    expect(f.stored().runtime?.checkpoint.step_state).toMatchObject({ experiment_id: 'EXP1', status: 'running' });
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);

    f.trials.requestStop(f.trial.id);
    await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 14 * 60_000 })).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

    expect(inputsOf(fis, StartExperimentCommand)).toEqual([{ experimentTemplateId: 'EXT1' }]);
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(messages(f.stored().trial_record.steps[0]).slice(-2)).toEqual(['Stopped: a stop was requested while the step waited.', 'Stopped FIS experiment EXP1.']);
    expect(f.calls).toEqual(['undo']);
  });

  it('waits for the FIS experiment to be stopped when a stop interrupts a poll, before it moves on', async () => {
    const f = await setup({ steps: [fisStep], post_steps: [{ step: 'undo', do: 'test.undo', where: {} }] });
    let polls = 0;
    fis.on(StartExperimentCommand).resolves(experiment('initiating'));
    fis.on(GetExperimentCommand).callsFake(() => {
      polls += 1;
      if (polls === 2) f.trials.requestStop(f.trial.id);
      return experiment('running');
    });
    // StopExperiment answers slowly: the executor must not end the trial before it has.
    fis.on(StopExperimentCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve(experiment('stopping')), 300)));

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(messages(f.stored().trial_record.steps[0]).slice(-2)).toEqual(['Stopped FIS experiment EXP1.', 'Stopped: a stop was requested while the step ran.']);
    expect(f.calls).toEqual(['undo']);
  });
});
