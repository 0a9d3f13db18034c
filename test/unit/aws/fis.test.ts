import { FisClient, GetExperimentCommand, StartExperimentCommand, StopExperimentCommand, type ExperimentStatus } from '@aws-sdk/client-fis';
import { mockClient } from 'aws-sdk-client-mock';
import { getExperiment } from '../../../functions/modules/aws/fis/get-experiment.js';
import { startExperiment } from '../../../functions/modules/aws/fis/start-experiment.js';
import { stopExperiment } from '../../../functions/modules/aws/fis/stop-experiment.js';
import { ModuleRegistry } from '../../../functions/modules/registry.js';
import { awsError, inputsOf, resetAws, runModule } from '../../support/aws.js';

// @aws-sdk/client-fis pins an older @smithy/types than the other clients, so its classes do not
// type-check against aws-sdk-client-mock's generics; at run time the stub is the same.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fis: any = mockClient(FisClient as never);
const experiment = (status: ExperimentStatus, reason?: string) => ({ experiment: { id: 'EXP1', experimentTemplateId: 'EXT1', state: { status, ...(reason && { reason }) } } });

beforeEach(() => {
  fis.reset();
  resetAws();
});

describe('aws.fis.start_experiment', () => {
  it('starts from the template with the tags and polls GetExperiment until it completed', async () => {
    fis.on(StartExperimentCommand).resolves({ ...experiment('initiating'), $metadata: { httpStatusCode: 200, requestId: 'req' } });
    fis.on(GetExperimentCommand).resolvesOnce(experiment('running')).resolvesOnce(experiment('running')).resolves({ experiment: { ...experiment('completed').experiment, endTime: new Date('2026-01-02T03:04:05Z') } });
    const { output, logs } = await runModule(startExperiment, { region: 'us-east-1', experiment_template_id: 'EXT1', tags: 'team=sre,run=42' });
    expect(inputsOf(fis, StartExperimentCommand)).toEqual([{ experimentTemplateId: 'EXT1', tags: { team: 'sre', run: '42' } }]);
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([{ id: 'EXP1' }, { id: 'EXP1' }, { id: 'EXP1' }]);
    expect(output).toEqual({
      experiment: { id: 'EXP1', experimentTemplateId: 'EXT1', state: { status: 'completed' }, endTime: '2026-01-02T03:04:05.000Z' },
      ResponseMetadata: { RequestId: 'req', HTTPStatusCode: 200, RetryAttempts: 0 },
    });
    expect(logs).toEqual(expect.arrayContaining(['FIS experiment EXP1 is running.', 'FIS experiment EXP1 is completed.']));
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([]);
  });

  it('passes a client token and tags given as an object', async () => {
    fis.on(StartExperimentCommand).resolves(experiment('completed'));
    await runModule(startExperiment, { region: 'us-east-1', experiment_template_id: 'EXT1', client_token: 'run-42', tags: { team: 'sre' } });
    expect(inputsOf(fis, StartExperimentCommand)).toEqual([{ experimentTemplateId: 'EXT1', clientToken: 'run-42', tags: { team: 'sre' } }]);
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([]);
  });

  it('fails the step when the experiment failed or a stop condition stopped it, with the experiment as output', async () => {
    fis.on(StartExperimentCommand).resolves(experiment('initiating'));
    fis.on(GetExperimentCommand).resolves(experiment('stopped', 'Experiment stopped by stop condition alarm'));
    const failure = runModule(startExperiment, { region: 'us-east-1', experiment_template_id: 'EXT1' });
    await expect(failure).rejects.toThrow('FIS experiment EXP1 ended stopped: Experiment stopped by stop condition alarm.');
    await expect(failure).rejects.toMatchObject({ output: { experiment: { id: 'EXP1', state: { status: 'stopped' } } } });
  });

  it('stops the FIS experiment when the trial is stopped while it runs', async () => {
    const controller = new AbortController();
    let polls = 0;
    fis.on(StartExperimentCommand).resolves(experiment('initiating'));
    fis.on(GetExperimentCommand).callsFake(() => {
      polls += 1;
      if (polls === 3) controller.abort(new Error('Trial stop requested'));
      return experiment('running');
    });
    fis.on(StopExperimentCommand).resolves(experiment('stopping'));
    await expect(runModule(startExperiment, { region: 'us-east-1', experiment_template_id: 'EXT1' }, controller.signal)).rejects.toThrow('Trial stop requested');
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
  });

  it('returns at once with wait: false (chaosaws behaviour)', async () => {
    fis.on(StartExperimentCommand).resolves(experiment('initiating'));
    const { output } = await runModule(startExperiment, { region: 'us-east-1', experiment_template_id: 'EXT1', wait: false });
    expect(output).toEqual(experiment('initiating'));
    expect(fis.commandCalls(GetExperimentCommand)).toHaveLength(0);
  });

  it('explains a template without the chaos tag', async () => {
    fis.on(StartExperimentCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: fis:StartExperiment on resource: experiment-template/EXT9', 403));
    await expect(runModule(startExperiment, { region: 'us-east-1', experiment_template_id: 'EXT9' })).rejects.toThrow(/AWS denied fis:StartExperiment .*tagged chaos-allowed=true/);
  });

  it('rejects malformed tags when the experiment is saved', async () => {
    const registry = new ModuleRegistry([startExperiment]);
    expect(await registry.validateWhere('aws.fis.start_experiment', { experiment_template_id: 'EXT1', tags: 'team' }, 'w', true)).toEqual([{ path: 'w.tags', message: 'tags must be "key=value,…" pairs, got "team".' }]);
  });
});

describe('aws.fis.stop_experiment and get_experiment', () => {
  it('send the experiment id and return the response', async () => {
    fis.on(StopExperimentCommand).resolves(experiment('stopping'));
    fis.on(GetExperimentCommand).resolves(experiment('running'));
    expect((await runModule(stopExperiment, { region: 'us-east-1', experiment_id: 'EXP1' })).output).toEqual(experiment('stopping'));
    expect((await runModule(getExperiment, { region: 'us-east-1', experiment_id: 'EXP1' })).output).toEqual(experiment('running'));
    expect(inputsOf(fis, StopExperimentCommand)).toEqual([{ id: 'EXP1' }]);
    expect(inputsOf(fis, GetExperimentCommand)).toEqual([{ id: 'EXP1' }]);
  });

  it('names an unknown experiment', async () => {
    fis.on(GetExperimentCommand).rejects(awsError('ResourceNotFoundException', 'Experiment not found', 404));
    await expect(runModule(getExperiment, { region: 'us-east-1', experiment_id: 'EXP0' })).rejects.toThrow('Not found: fis:GetExperiment in us-east-1 (ResourceNotFoundException): Experiment not found.');
  });
});
