import { FisClient, GetExperimentCommand, StartExperimentCommand, StopExperimentCommand, type ExperimentStatus } from '@aws-sdk/client-fis';
import { mockClient } from 'aws-sdk-client-mock';
import { startExperiment } from '../../../functions/modules/aws/fis/start-experiment.js';
import { StepFailedError, StepSuspension, type StepContext } from '../../../functions/modules/types.js';
import { inputsOf, resetAws } from '../../support/aws.js';
import { stepContext } from '../../support/step-context.js';

// @aws-sdk/client-fis pins an older @smithy/types than the other clients (see fis.test.ts).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fis: any = mockClient(FisClient as never);
const experiment = (status: ExperimentStatus, reason?: string) => ({ experiment: { id: 'EXP1', experimentTemplateId: 'EXT1', state: { status, ...(reason && { reason }) } } });
const T0 = Date.parse('2026-03-01T10:00:00Z');
const where = { region: 'us-east-1', experiment_template_id: 'EXT1' };

let clock = T0;
const sliced = (overrides: Partial<StepContext> = {}): StepContext => stepContext({ now: () => clock, sliceDeadline: clock + 14 * 60_000, ...overrides });

beforeEach(() => {
  fis.reset();
  resetAws();
  clock = T0;
});

describe('aws.fis.start_experiment across slices', () => {
  it('starts once, polls for a minute of the slice, suspends with the experiment id, and ends in a later slice', async () => {
    fis.on(StartExperimentCommand).resolves({ ...experiment('initiating'), $metadata: { httpStatusCode: 200, requestId: 'req' } });
    // Each poll takes 30 s of the (fake) clock; the experiment runs for 30 minutes.
    fis.on(GetExperimentCommand).callsFake(() => {
      clock += 30_000;
      return experiment(clock - T0 >= 30 * 60_000 ? 'completed' : 'running');
    });

    const first = await startExperiment.run(where, sliced());
    expect(first).toBeInstanceOf(StepSuspension);
    const suspended = first as StepSuspension;
    expect(suspended.state).toEqual({ experiment_id: 'EXP1', started_at: T0, status: 'running', response_metadata: { RequestId: 'req', HTTPStatusCode: 200, RetryAttempts: 0 } });
    expect(suspended.resumeAt).toBe(clock + 1);
    expect(inputsOf(fis, StartExperimentCommand)).toEqual([{ experimentTemplateId: 'EXT1' }]);
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([{ id: 'EXP1' }, { id: 'EXP1' }]);

    // Later slices: each resumes with the state it was given, polls at once, and never starts again.
    let state = suspended.state;
    let slices = 1;
    let output: unknown;
    for (;;) {
      clock += 1;
      const next = await startExperiment.run(where, sliced({ resumed: state }));
      slices += 1;
      if (!(next instanceof StepSuspension)) {
        output = next;
        break;
      }
      state = next.state;
    }
    // 60 polls of 30 s: 2 in the first slice, then 3 per slice (one at once, two more within the minute).
    expect(slices).toBe(21);
    expect(inputsOf(fis, GetExperimentCommand)).toHaveLength(60);
    expect(inputsOf(fis, StartExperimentCommand)).toHaveLength(1);
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);
    expect(output).toEqual({ experiment: { id: 'EXP1', experimentTemplateId: 'EXT1', state: { status: 'completed' } }, ResponseMetadata: { RequestId: 'req', HTTPStatusCode: 200, RetryAttempts: 0 } });
  });

  it('leaves the start to the next slice when too little of this one is left, sending nothing', async () => {
    const out = await startExperiment.run(where, sliced({ sliceDeadline: clock + 10_000 }));
    expect(out).toEqual(new StepSuspension(clock, {}));
    expect(fis.calls()).toHaveLength(0);
  });

  it('suspends at once when told to yield (the worker shutting down), keeping the experiment id', async () => {
    const yielding = new AbortController();
    fis.on(StartExperimentCommand).callsFake(() => {
      yielding.abort();
      return experiment('initiating');
    });
    const out = await startExperiment.run(where, sliced({ yieldSignal: yielding.signal }));
    expect(out).toEqual(new StepSuspension(clock, { experiment_id: 'EXP1', started_at: T0, status: 'initiating' }));
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([]);
  });

  it('fails a resumed step whose experiment was stopped by a stop condition, with the experiment as output', async () => {
    fis.on(GetExperimentCommand).resolves(experiment('stopped', 'Experiment stopped by stop condition alarm'));
    const run = startExperiment.run(where, sliced({ resumed: { experiment_id: 'EXP1', started_at: T0, status: 'running' } }));
    await expect(run).rejects.toThrow('FIS experiment EXP1 ended stopped: Experiment stopped by stop condition alarm.');
    await expect(run).rejects.toMatchObject({ output: { experiment: { id: 'EXP1', state: { status: 'stopped' } } } });
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);
  });

  it('stops the experiment and fails once wait_timeout_seconds has passed', async () => {
    fis.on(GetExperimentCommand).resolves(experiment('running'));
    fis.on(StopExperimentCommand).resolves(experiment('stopping'));
    clock = T0 + 600_000;
    const run = startExperiment.run({ ...where, wait_timeout_seconds: 600 }, sliced({ resumed: { experiment_id: 'EXP1', started_at: T0, status: 'running' } }));
    await expect(run).rejects.toThrow(new StepFailedError('FIS experiment EXP1 had not ended after wait_timeout_seconds (600 s); it was stopped.'));
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
  });

  it('suspends no later than the wait timeout, so the timeout is noticed on time', async () => {
    fis.on(GetExperimentCommand).resolves(experiment('running'));
    const out = await startExperiment.run({ ...where, wait_timeout_seconds: 600 }, sliced({ resumed: { experiment_id: 'EXP1', started_at: T0, status: 'running' }, sliceDeadline: clock + 5000 }));
    expect(out).toEqual(new StepSuspension(T0 + 1, { experiment_id: 'EXP1', started_at: T0, status: 'running' }));
  });

  it('cleanup stops the experiment of a suspended step (a trial stopped while parked)', async () => {
    fis.on(StopExperimentCommand).resolves(experiment('stopping'));
    const logs: string[] = [];
    await startExperiment.cleanup?.(where, { experiment_id: 'EXP1', started_at: T0, status: 'running' }, stepContext({ log: (line) => logs.push(line) }));
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(logs).toEqual(['Stopped FIS experiment EXP1.']);
  });

  it('cleanup of a step that had not started anything sends nothing', async () => {
    await startExperiment.cleanup?.(where, {}, stepContext());
    expect(fis.calls()).toHaveLength(0);
  });

  it('cleanup records an experiment that had already ended (StopExperiment refused) without failing', async () => {
    fis.on(StopExperimentCommand).rejects(Object.assign(new Error('Experiment EXP1 is not running'), { name: 'ConflictException', $metadata: { httpStatusCode: 409 } }));
    const logs: string[] = [];
    await expect(startExperiment.cleanup?.(where, { experiment_id: 'EXP1', started_at: T0, status: 'running' }, stepContext({ log: (line) => logs.push(line) }))).resolves.toBeUndefined();
    expect(logs).toEqual(['Could not stop FIS experiment EXP1: fis:StopExperiment failed in us-east-1 (ConflictException): Experiment EXP1 is not running.']);
  });

  it('is resumable, with a cleanup, and one call fits well inside a slice', () => {
    expect(startExperiment.resumable).toBe(true);
    expect(typeof startExperiment.cleanup).toBe('function');
    expect(startExperiment.maxRunMs?.(where)).toBeLessThanOrEqual(5 * 60_000);
  });

  it('declares exactly the IAM actions its calls need: start (and tag), poll, stop', async () => {
    // The start takes 26 s: too little of the slice is left to poll, so the step suspends.
    fis.on(StartExperimentCommand).callsFake(() => ((clock += 26_000), experiment('initiating')));
    fis.on(GetExperimentCommand).resolves(experiment('running'));
    fis.on(StopExperimentCommand).resolves(experiment('stopping'));
    const first = (await startExperiment.run({ ...where, tags: { team: 'sre' } }, sliced({ sliceDeadline: clock + 40_000 }))) as StepSuspension;
    expect(first.state).toMatchObject({ experiment_id: 'EXP1' });
    await startExperiment.run(where, sliced({ resumed: first.state, sliceDeadline: clock + 1 }));
    await startExperiment.cleanup?.(where, first.state, stepContext());
    const used = new Set<string>(fis.calls().map((call: { args: [{ constructor: { name: string } }] }) => `fis:${call.args[0].constructor.name.replace(/Command$/, '')}`));
    // Tags given to StartExperiment are applied to the new experiment: AWS authorizes that as fis:TagResource.
    used.add('fis:TagResource');
    const declared = new Set((startExperiment.iam ?? []).flatMap((grant) => grant.actions));
    expect([...used].sort()).toEqual([...declared].sort());
  });
});
