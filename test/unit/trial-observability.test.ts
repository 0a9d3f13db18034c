import { jest } from '@jest/globals';
import { EmfMetrics } from '../../functions/adapters/metrics/emf-metrics.js';
import { tracingObserver } from '../../functions/adapters/tracing/xray-tracing.js';
import type { AppLogger } from '../../functions/app-logger.js';
import { makeRunTrial } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { StepFailedError, type StepModule } from '../../functions/modules/types.js';
import { metricsObserver } from '../../functions/observability/metrics-observer.js';
import { observeModules, observeRunTrial, observeTrialStore } from '../../functions/observability/observe.js';
import { terminalObserver } from '../../functions/observability/terminal-observer.js';
import { combineObservers, type TrialObserver } from '../../functions/observability/trial-observer.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore } from '../support/memory-stores.js';

const silent: AppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

function captureStdout(work: () => void): string[] {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('').split('\n').filter((line) => line.trim() !== '');
}

/** A test step that advances the fake clock (so the trial has a duration) and fails when told to. */
function testModules(clock: FakeClock): StepModule[] {
  return [
    { name: 'test.slow', description: 'advances the clock', whereSchema: { type: 'object' }, run: async () => (clock.advance(1500), { ok: true }) },
    {
      name: 'cm.http_probe',
      description: 'stands in for the HTTP probe: times out',
      whereSchema: { type: 'object' },
      run: async () => {
        throw new StepFailedError('Request to https://example.com timed out after 1 s', undefined, 'timeout');
      },
    },
  ];
}

async function runObserved(observer: TrialObserver) {
  const clock = new FakeClock();
  const trials = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const experiment = makeExperiment({ steps: [{ step: 'slow', do: 'test.slow', where: {} }, { step: 'probe', do: 'cm.http_probe', where: {} }], post_steps: [{ step: 'wait', do: 'cm.wait', where: { time_in_seconds: 0.001 } }] });
  await experiments.create(experiment);
  const trial = makeTrial(experiment.id);
  await trials.create(trial);
  const observed = observeTrialStore(trials, observer);
  const registry = new ModuleRegistry(observeModules([...DEFAULT_MODULES.filter((m) => m.name === 'cm.wait'), ...testModules(clock)], observer));
  const runTrial = observeRunTrial(makeRunTrial({ trials: observed, experiments, registry, clock, logger: silent }));
  const result = await runTrial(trial.id);
  return { result, trial, experiment, stored: trials.items.get(trial.id) };
}

describe('a trial run, observed', () => {
  it('publishes its metrics as EMF: names, units, dimensions and the experiment as a property', async () => {
    const metrics = new EmfMetrics({ serviceName: 'kallisti-test' });
    const { result, trial, experiment } = await runObserved(metricsObserver(metrics));
    expect(result).toEqual({ outcome: 'ran', status: 'Failed' });

    const docs = captureStdout(() => metrics.flush()).map((line) => JSON.parse(line) as EmfDocument);
    const shape = (doc: EmfDocument) => ({ dimensions: doc._aws.CloudWatchMetrics[0]?.Dimensions, metrics: doc._aws.CloudWatchMetrics[0]?.Metrics });
    const find = (name: string, dimension?: [string, string]) => docs.filter((d) => name in d && (!dimension || d[dimension[0]] === dimension[1]));
    for (const doc of docs) {
      expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('Kallisti');
      expect(doc['service']).toBe('kallisti-test');
      expect(JSON.stringify(doc)).not.toContain(trial.id); // trial ids are never a dimension nor a property
    }

    const [finished] = find('TrialsFinished');
    expect(shape(finished as EmfDocument)).toEqual({ dimensions: [['service', 'Status']], metrics: [{ Name: 'TrialsFinished', Unit: 'Count' }] });
    expect(finished).toMatchObject({ TrialsFinished: 1, Status: 'Failed', experiment: experiment.id });

    const [duration] = find('TrialDuration');
    expect(shape(duration as EmfDocument)).toEqual({ dimensions: [['service', 'Status']], metrics: [{ Name: 'TrialDuration', Unit: 'Milliseconds' }] });
    expect(duration).toMatchObject({ TrialDuration: 1500, Status: 'Failed' });

    for (const module of ['test.slow', 'cm.http_probe', 'cm.wait']) {
      const [step] = find('StepDuration', ['Module', module]);
      expect(step?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'Module']]);
      expect(step?._aws.CloudWatchMetrics[0]?.Metrics).toEqual(expect.arrayContaining([{ Name: 'StepDuration', Unit: 'Milliseconds' }]));
      expect(typeof step?.['StepDuration']).toBe('number');
    }
    const [failed] = find('StepsFailed');
    expect(failed).toMatchObject({ StepsFailed: 1, Module: 'cm.http_probe' });
    const [httpError] = find('HttpStepErrors');
    expect(shape(httpError as EmfDocument)).toEqual({ dimensions: [['service', 'Kind']], metrics: [{ Name: 'HttpStepErrors', Unit: 'Count' }] });
    expect(httpError).toMatchObject({ HttpStepErrors: 1, Kind: 'timeout' });
    expect(find('StepsFailed', ['Module', 'test.slow'])).toEqual([]);
  });

  it('prints a line when the trial starts, when each step ends and when the trial ends', async () => {
    const lines: string[] = [];
    const logger: AppLogger = { info: (message, extra) => lines.push(`${message} ${JSON.stringify(extra ?? {})}`), warn: silent.warn, error: silent.error };
    const { trial, experiment } = await runObserved(terminalObserver(logger, () => 0));
    expect(lines).toEqual([
      `Trial started ${JSON.stringify({ trial: trial.id, experiment: experiment.id })}`,
      `  Step test.slow done in 0 ms ${JSON.stringify({ trial: trial.id })}`,
      `  Step cm.http_probe failed in 0 ms ${JSON.stringify({ trial: trial.id })}`,
      `  Step cm.wait done in 0 ms ${JSON.stringify({ trial: trial.id })}`,
      `Trial Failed in 1.5 s ${JSON.stringify({ trial: trial.id, experiment: experiment.id })}`,
    ]);
  });

  it('traces one subsegment per step, annotated with trial, experiment, command and status', async () => {
    interface FakeSegment {
      name: string;
      annotations: Record<string, string>;
      errors: string[];
      closed: boolean;
      children: FakeSegment[];
      addNewSubsegment(name: string): FakeSegment;
      addAnnotation(key: string, value: string): void;
      addError(error: string): void;
      close(): void;
    }
    const segment = (name: string): FakeSegment => ({
      name,
      annotations: {},
      errors: [],
      closed: false,
      children: [],
      addNewSubsegment(child) {
        const sub = segment(child);
        this.children.push(sub);
        return sub;
      },
      addAnnotation(key, value) {
        this.annotations[key] = value;
      },
      addError(error) {
        this.errors.push(error);
      },
      close() {
        this.closed = true;
      },
    });
    const root = segment('## handler');
    let current = root;
    // The Tracer methods the observer uses, over fake segments that record what they are given.
    const tracer = {
      isTracingEnabled: () => true,
      getSegment: () => current,
      setSegment: (s: FakeSegment) => (current = s),
      putAnnotation: (key: string, value: string) => current.addAnnotation(key, value),
    };
    const { trial, experiment } = await runObserved(tracingObserver(tracer as unknown as Parameters<typeof tracingObserver>[0]));
    expect(current).toBe(root);
    expect(root.children.map((c) => [c.name, c.annotations, c.closed, c.errors])).toEqual([
      ['step test.slow', { step_command: 'test.slow', trial_id: trial.id, experiment_id: experiment.id, status: 'ok' }, true, []],
      ['step cm.http_probe', { step_command: 'cm.http_probe', trial_id: trial.id, experiment_id: experiment.id, status: 'failed' }, true, ['StepFailedError']],
      ['step cm.wait', { step_command: 'cm.wait', trial_id: trial.id, experiment_id: experiment.id, status: 'ok' }, true, []],
    ]);
    expect(root.annotations).toEqual({ trial_id: trial.id, experiment_id: experiment.id, status: 'Failed' });
  });

  it('keeps everything else a step command declares', () => {
    const module = { ...(DEFAULT_MODULES[0] as StepModule), probe: true, checkWhere: () => [{ path: 'x', message: 'no' }] };
    const [observed] = observeModules([module], {});
    expect(observed).toMatchObject({ name: module.name, description: module.description, whereSchema: module.whereSchema, probe: true });
    expect(observed?.checkWhere?.({}, false)).toEqual([{ path: 'x', message: 'no' }]);
    expect(observed?.run).not.toBe(module.run);
  });

  it('leaves the store as it was for every other call, and reports nothing for a status change that did not happen', async () => {
    const seen: string[] = [];
    const trials = new MemoryTrialStore();
    const observed = observeTrialStore(trials, combineObservers({ trialFinished: (e) => seen.push(e.status) }));
    const trial = makeTrial('exp');
    await observed.create(trial);
    expect(await observed.get(trial.id)).toEqual(trial);
    await expect(observed.transition(trial.id, ['In Progress'], 'Failed')).resolves.toBeUndefined();
    await observed.transition(trial.id, ['Scheduled'], 'Stop Initiated');
    await observed.transition(trial.id, ['Stop Initiated'], 'Stopped', { completed_at: '2024-05-01T12:00:00.000Z' });
    expect(seen).toEqual(['Stopped']);
  });
});
