import type { ExperimentDefinition, Step } from '../../functions/domain/experiment.js';
import type { Trial, TrialRecordEntry } from '../../functions/domain/trial.js';
import type { JsonObject } from '../../functions/domain/types.js';
import { makeRunTrial, type ExecutorLogger } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import { StepFailedError, type StepModule } from '../../functions/modules/types.js';
import { FakeClock, makeExperiment, makeTrial, MemoryExperimentStore, MemoryTrialStore, StoreUnavailableError } from '../support/memory-stores.js';

const LINE = /^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z - (INFO|ERROR)\] /;

const silent: ExecutorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Fixture {
  clock: FakeClock;
  trials: MemoryTrialStore;
  experiments: MemoryExperimentStore;
  calls: string[];
  trial: Trial;
  runTrial: ReturnType<typeof makeRunTrial>;
  stored(): Trial;
}

/** Test commands: `test.ok` echoes its where, `test.fail` fails, `test.advance` moves the fake clock, `test.stop` asks for a stop, `test.hang` ignores its signal. */
function testModules(calls: string[], clock: FakeClock, trials: MemoryTrialStore, trialId: () => string): StepModule[] {
  const loose = { type: 'object' };
  return [
    {
      name: 'test.ok',
      description: 'ok',
      whereSchema: loose,
      maxRunMs: () => 1000,
      async run(where, context) {
        calls.push(String(where['name'] ?? 'ok'));
        context.log(`echo ${JSON.stringify(where)}`);
        return { ok: true, echo: where };
      },
    },
    {
      name: 'test.fail',
      description: 'fail',
      whereSchema: loose,
      maxRunMs: () => 1000,
      async run(where) {
        calls.push(String(where['name'] ?? 'fail'));
        throw new StepFailedError('boom', { status_code: 500 });
      },
    },
    {
      name: 'test.advance',
      description: 'advance',
      whereSchema: { type: 'object', required: ['ms'], properties: { ms: { type: 'number' } } },
      maxRunMs: (where) => Number(where['ms']),
      async run(where) {
        calls.push(`advance ${String(where['ms'])}`);
        clock.advance(Number(where['ms']));
        return { advanced: where['ms'] ?? 0 };
      },
    },
    {
      name: 'test.stop',
      description: 'requests a stop of the running trial',
      whereSchema: loose,
      async run() {
        calls.push('stop');
        trials.requestStop(trialId());
        return 'stop requested';
      },
    },
    {
      name: 'test.hang',
      description: 'never ends and ignores its signal',
      whereSchema: loose,
      maxRunMs: () => 10,
      async run() {
        calls.push('hang');
        return new Promise(() => undefined);
      },
    },
  ];
}

function s(name: string, command = 'test.ok', where: JsonObject = {}, expect?: Step['expect']): Step {
  return { step: name, do: command, where: { name, ...where }, ...(expect ? { expect } : {}) };
}

async function setup(definition: Partial<ExperimentDefinition> & Pick<ExperimentDefinition, 'steps'>, trialOverrides: Partial<Trial> = {}, stopPollMs = 20): Promise<Fixture> {
  const clock = new FakeClock();
  const trials = new MemoryTrialStore();
  const experiments = new MemoryExperimentStore();
  const calls: string[] = [];
  const experiment = makeExperiment(definition);
  await experiments.create(experiment);
  const trial = makeTrial(experiment.id, trialOverrides);
  await trials.create(trial);
  const registry = new ModuleRegistry([...DEFAULT_MODULES, ...testModules(calls, clock, trials, () => trial.id)]);
  const runTrial = makeRunTrial({ trials, experiments, registry, clock, stopPollMs, logger: silent });
  return { clock, trials, experiments, calls, trial, runTrial, stored: () => trials.items.get(trial.id) as Trial };
}

function allLines(trial: Trial): string[] {
  const r = trial.trial_record;
  return [...r.pre_steps, ...r.steps, ...r.post_steps, ...r.result].flatMap((e) => e.logs);
}

function messages(entry: TrialRecordEntry | undefined): string[] {
  return (entry?.logs ?? []).map((line) => line.replace(LINE, ''));
}

function resultMessages(trial: Trial): string[] {
  return messages(trial.trial_record.result[0]);
}

describe('runTrial', () => {
  it('runs pre_steps, steps and post_steps in order and ends Succeeded', async () => {
    const f = await setup({ pre_steps: [s('pre')], steps: [s('one'), s('two')], post_steps: [s('post')] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });

    expect(f.calls).toEqual(['pre', 'one', 'two', 'post']);
    const trial = f.stored();
    expect(trial.status).toBe('Succeeded');
    expect(trial.executed_at).toBe('2024-05-01T12:00:00.000Z');
    expect(trial.completed_at).toBe('2024-05-01T12:00:00.000Z');
    expect(f.trials.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['Scheduled→In Progress', 'In Progress→Succeeded']);
    expect(trial.trial_record.steps.map((e) => e.step_name)).toEqual(['one', 'two']);
    expect(messages(trial.trial_record.steps[0])).toEqual(['Starting test.ok step "one".', 'echo {"name":"one"}', 'Result: {"ok":true}', 'Completed.']);
    expect(trial.trial_record.result).toEqual([{ step_name: 'result', step_parameters: {}, logs: ['[2024-05-01T12:00:00.000Z - INFO] Trial Succeeded.'] }]);
    for (const line of allLines(trial)) expect(line).toMatch(LINE);
  });

  it('writes the record entry of each step once, when it ends, and the result last', async () => {
    const f = await setup({ steps: [s('one'), s('two')] });

    await f.runTrial(f.trial.id);

    expect(f.trials.entryWrites).toEqual(['steps[0]', 'steps[1]', 'result[0]']);
  });

  it('also saves the start of a step that is still running after a moment, so GET /trial shows it in progress', async () => {
    const f = await setup({ steps: [{ step: 'long', do: 'cm.wait', where: { time_in_seconds: 0.2 } }] });
    const runTrial = makeRunTrial({ trials: f.trials, experiments: f.experiments, registry: new ModuleRegistry(DEFAULT_MODULES), clock: f.clock, stopPollMs: 1000, startMarkerDelayMs: 20, logger: silent });
    const seen: string[][] = [];
    const put = f.trials.putRecordEntry.bind(f.trials);
    f.trials.putRecordEntry = async (id, phase, index, entry) => {
      if (phase === 'steps') seen.push(messages(entry));
      return put(id, phase, index, entry);
    };

    await runTrial(f.trial.id);

    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual(['Starting cm.wait step "long".', 'Waiting 0.2 second(s).']);
    expect(seen[1]?.at(-1)).toBe('Completed.');
  });

  it('ends Failed, skips the remaining steps and still runs post steps when a step fails', async () => {
    const f = await setup({ steps: [s('one'), s('bad', 'test.fail'), s('three')], post_steps: [s('post')] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.calls).toEqual(['one', 'bad', 'post']);
    const trial = f.stored();
    expect(messages(trial.trial_record.steps[1])).toEqual(['Starting test.fail step "bad".', 'Result: {"status_code":500}', 'boom']);
    expect(trial.trial_record.steps[1]?.logs.at(-1)).toMatch(/ - ERROR\] boom$/);
    expect(resultMessages(trial)).toEqual(['Trial Failed: step 2 ("bad") failed.']);
  });

  it('ends Failed when an expectation is not met and logs expected vs actual', async () => {
    const f = await setup({ steps: [s('check', 'test.ok', { n: 3 }, [{ operator: 'eq', 'echo.n': 4 }]), s('after')] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.calls).toEqual(['check']);
    const logs = messages(f.stored().trial_record.steps[0]);
    expect(logs).toContain('Expectation failed: echo.n expected eq 4, actual 3.');
    expect(logs.at(-1)).toBe('Step failed: 1 of 1 expectation(s) not met.');
  });

  it('passes a step whose expectations are met', async () => {
    const f = await setup({ steps: [s('check', 'test.ok', { n: '3' }, [{ operator: 'eq', 'echo.n': 3 }, { operator: 'regex', 'echo.name': '^ch' }])] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
    expect(messages(f.stored().trial_record.steps[0])).toContain('Expectation passed: echo.n eq 3 (actual "3").');
  });

  it('ends Aborted without running steps when a pre step fails, and still runs post steps', async () => {
    const f = await setup({ pre_steps: [s('pre-bad', 'test.fail'), s('pre-two')], steps: [s('main')], post_steps: [s('undo')] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Aborted' });

    expect(f.calls).toEqual(['pre-bad', 'undo']);
    expect(f.stored().trial_record.steps).toEqual([]);
    expect(resultMessages(f.stored())).toEqual(['Trial Aborted: pre step 1 ("pre-bad") failed, so the steps were not run.']);
  });

  it('ends Failed when a post step fails, running every post step', async () => {
    const f = await setup({ steps: [s('main')], post_steps: [s('undo-bad', 'test.fail'), s('undo-two')] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(f.calls).toEqual(['main', 'undo-bad', 'undo-two']);
    expect(resultMessages(f.stored())).toEqual(['Trial Failed: post step 1 ("undo-bad") failed.']);
  });

  it('ends Invalid before any step runs, naming every missing parameter', async () => {
    const f = await setup({ parameters: { host: 'h' }, pre_steps: [s('pre', 'test.ok', { a: '{{ alpha }}' })], steps: [s('main', 'test.ok', { u: 'http://{{ host }}/{{beta}}' })], post_steps: [s('post', 'test.ok', { g: '{{ gamma }}' })] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Invalid' });

    expect(f.calls).toEqual([]);
    expect(f.trials.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['Scheduled→Invalid']);
    const trial = f.stored();
    expect(resultMessages(trial)).toEqual(['Trial Invalid: no value for parameter(s) "alpha", "beta", "gamma" in the trial, schedule or experiment parameters.']);
    expect(trial.trial_record.result[0]?.logs[0]).toMatch(/ - ERROR\] /);
    expect(trial.completed_at).not.toBeNull();
  });

  it('fills templates from trial parameters over experiment parameters, keeping whole-value types', async () => {
    const f = await setup(
      { parameters: { host: 'exp-host', n: 1 }, steps: [s('main', 'test.ok', { url: 'http://{{ host }}/items?q={{ q }}', qty: '{{ n }}', obj: '{{ o }}' })] },
      { parameters: { host: 'trial-host', n: 2, q: 'x', o: { k: [1] } } },
    );

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });

    expect(f.stored().trial_record.steps[0]?.step_parameters).toEqual({ name: 'main', url: 'http://trial-host/items?q=x', qty: 2, obj: { k: [1] } });
  });

  it('fails a step whose arguments are invalid once templates are filled', async () => {
    const f = await setup({ parameters: { t: 'soon' }, steps: [{ step: 'pause', do: 'cm.wait', where: { time_in_seconds: '{{ t }}' } }] });

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

    expect(messages(f.stored().trial_record.steps[0]).at(-1)).toBe('Invalid step arguments after templating: steps[0].where.time_in_seconds must be number.');
  });

  it('redacts secrets in step parameters, module logs and results', async () => {
    const f = await setup({ steps: [s('main', 'test.ok', { headers: { Authorization: 'Bearer sekrit-value', Accept: 'json' }, authentication: { type: 'basic', username: 'admin', password: '{{ pw }}' } })] }, { parameters: { pw: 'hunter2-pass' } });

    await f.runTrial(f.trial.id);

    const trial = f.stored();
    expect(trial.trial_record.steps[0]?.step_parameters).toEqual({ name: 'main', headers: { Authorization: '***', Accept: 'json' }, authentication: { type: 'basic', username: '***', password: '***' } });
    const text = JSON.stringify(trial);
    expect(text).not.toContain('sekrit-value');
    expect(text.replace(/"parameters":\{"pw":"hunter2-pass"\}/, '')).not.toContain('hunter2-pass');
    expect(text).not.toContain('admin');
  });

  it('runs a trial whose experiment was deleted', async () => {
    const f = await setup({ steps: [s('main')] });
    await f.experiments.markDeleted(f.trial.experiment);

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
    expect(f.calls).toEqual(['main']);
  });

  it('runs the experiment snapshot the trial was created with, not the experiment as edited since', async () => {
    const f = await setup({ parameters: { who: 'old' }, steps: [s('stale')] });
    const snapshot = { name: 'as created', description: '', parameters: { who: 'snapshot' }, pre_steps: [], steps: [s('{{ who }}')], post_steps: [s('undo')], updated_at: '2024-05-01T00:00:00.000Z' };
    const stored = f.trials.items.get(f.trial.id) as Trial;
    stored.experiment_snapshot = snapshot;
    f.experiments.items.clear();

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
    expect(f.calls).toEqual(['snapshot', 'undo']);
  });

  it('ends Invalid when the experiment does not exist at all', async () => {
    const f = await setup({ steps: [s('main')] });
    f.experiments.items.clear();

    await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Invalid' });
    expect(resultMessages(f.stored())[0]).toMatch(/experiment .* does not exist/);
  });

  describe('stop', () => {
    it('stops a cm.wait of 5 s within about a second, runs post steps and ends Stopped', async () => {
      const f = await setup({ steps: [{ step: 'pause', do: 'cm.wait', where: { time_in_seconds: 5 } }, s('after')], post_steps: [s('undo')] }, {}, 1000);
      const started = Date.now();
      const running = f.runTrial(f.trial.id);
      setTimeout(() => f.trials.requestStop(f.trial.id), 100);

      await expect(running).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

      expect(Date.now() - started).toBeLessThan(1600);
      expect(f.calls).toEqual(['undo']);
      const trial = f.stored();
      expect(messages(trial.trial_record.steps[0]).at(-1)).toBe('Stopped: a stop was requested while the step ran.');
      expect(resultMessages(trial)).toEqual(['Trial Stopped: a stop was requested during step 1 ("pause").']);
      expect(f.trials.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['Scheduled→In Progress', 'In Progress→Stop Initiated', 'Stop Initiated→Stopped']);
    });

    it('does not start the next step once a stop is noticed between steps', async () => {
      const f = await setup({ steps: [s('asks', 'test.stop'), s('never')], post_steps: [s('undo')] });

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

      expect(f.calls).toEqual(['stop', 'undo']);
      expect(resultMessages(f.stored())).toEqual(['Trial Stopped: a stop was requested before step 2 ("never").']);
    });

    it('abandons a step that ignores its signal when a stop arrives', async () => {
      const f = await setup({ steps: [s('stuck', 'test.hang')], post_steps: [s('undo')] });
      const running = f.runTrial(f.trial.id);
      setTimeout(() => f.trials.requestStop(f.trial.id), 30);

      await expect(running).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });
      expect(f.calls).toEqual(['hang', 'undo']);
    });

    it('ends Stopped when the stop lands during the post steps', async () => {
      const f = await setup({ steps: [s('main')], post_steps: [s('asks', 'test.stop'), s('undo')] });

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

      expect(f.calls).toEqual(['main', 'stop', 'undo']);
      expect(resultMessages(f.stored())).toEqual(['Trial Stopped: a stop was requested before the trial could end Succeeded.']);
    });

    it('ends a trial stopped while queued as Stopped without running any step', async () => {
      const f = await setup({ pre_steps: [s('pre')], steps: [s('main')], post_steps: [s('undo')] }, { status: 'Stop Initiated' });

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

      expect(f.calls).toEqual([]);
      const trial = f.stored();
      expect(trial.executed_at).toBeNull();
      expect(trial.completed_at).not.toBeNull();
      expect(resultMessages(trial)).toEqual(['Trial Stopped: a stop was requested before the trial started; no step was run.']);
    });

    it('handles a stop that lands between reading the trial and starting it', async () => {
      const f = await setup({ steps: [s('main')] });
      let first = true;
      f.trials.onGet = (id) => {
        if (first) {
          first = false;
          queueMicrotask(() => f.trials.requestStop(id));
        }
      };

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });
      expect(f.calls).toEqual([]);
    });
  });

  describe('redelivery', () => {
    it('acknowledges a duplicate delivery of a finished trial without running anything', async () => {
      const f = await setup({ steps: [s('main')] });
      await f.runTrial(f.trial.id);
      const before = structuredClone(f.stored());

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'skipped', status: 'Succeeded' });

      expect(f.calls).toEqual(['main']);
      expect(f.stored()).toEqual(before);
    });

    it('skips an unknown trial id', async () => {
      const f = await setup({ steps: [s('main')] });

      await expect(f.runTrial('00000000-0000-4000-8000-ffffffffffff')).resolves.toEqual({ outcome: 'skipped', status: null });
    });

    it('ends a trial left In Progress by a dead worker as Failed, running only its post steps', async () => {
      const at = '[2024-05-01T11:59:00.000Z - INFO] ';
      const f = await setup(
        { steps: [s('one'), s('two'), s('three')], post_steps: [s('undo')] },
        {
          status: 'In Progress',
          executed_at: '2024-05-01T11:59:00.000Z',
          trial_record: {
            pre_steps: [],
            steps: [
              { step_name: 'one', step_parameters: {}, logs: [`${at}Starting test.ok step "one".`, `${at}Completed.`] },
              { step_name: 'two', step_parameters: {}, logs: [`${at}Starting test.ok step "two".`] },
            ],
            post_steps: [],
            result: [],
          },
        },
      );

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

      expect(f.calls).toEqual(['undo']);
      const trial = f.stored();
      expect(messages(trial.trial_record.steps[1]).at(-1)).toBe('Interrupted: the worker running this step stopped; it is not run again.');
      expect(resultMessages(trial)).toEqual(['Trial Failed: the run was interrupted at step 2 ("two") when its worker stopped; main steps are not run again.']);
      expect(trial.executed_at).toBe('2024-05-01T11:59:00.000Z');
      expect(f.trials.transitions.map((t) => `${t.from}→${t.to}`)).toEqual(['In Progress→Failed']);
    });

    it('names the next step when the dead worker had finished the previous one', async () => {
      const at = '[2024-05-01T11:59:00.000Z - INFO] ';
      const f = await setup(
        { steps: [s('one'), s('two')] },
        { status: 'In Progress', executed_at: '2024-05-01T11:59:00.000Z', trial_record: { pre_steps: [], steps: [{ step_name: 'one', step_parameters: {}, logs: [`${at}Completed.`] }], post_steps: [], result: [] } },
      );

      await f.runTrial(f.trial.id);

      expect(resultMessages(f.stored())[0]).toContain('interrupted at step 2 ("two")');
    });

    it('never starts an interrupted post step again: marks it interrupted and runs the ones after it', async () => {
      const at = '[2024-05-01T11:59:00.000Z - INFO] ';
      const f = await setup(
        { steps: [s('main')], post_steps: [s('undo-1'), s('undo-2'), s('undo-3')] },
        {
          status: 'In Progress',
          executed_at: '2024-05-01T11:59:00.000Z',
          trial_record: {
            pre_steps: [],
            steps: [{ step_name: 'main', step_parameters: {}, logs: [`${at}Completed.`] }],
            post_steps: [
              { step_name: 'undo-1', step_parameters: {}, logs: [`${at}Completed.`] },
              { step_name: 'undo-2', step_parameters: {}, logs: [`${at}Starting test.ok step "undo-2".`] },
            ],
            result: [],
          },
        },
      );

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

      expect(f.calls).toEqual(['undo-3']);
      expect(messages(f.stored().trial_record.post_steps[1]).at(-1)).toBe('Interrupted: the worker running this step stopped; it is not run again.');
      expect(f.stored().trial_record.post_steps).toHaveLength(3);
      expect(resultMessages(f.stored())[0]).toContain('interrupted at post step 2 ("undo-2")');
    });

    it('ends a trial that was being stopped when its worker died as Stopped, after its post steps', async () => {
      const at = '[2024-05-01T11:59:00.000Z - INFO] ';
      const f = await setup(
        { steps: [s('one'), s('two')], post_steps: [s('undo')] },
        { status: 'Stop Initiated', executed_at: '2024-05-01T11:59:00.000Z', trial_record: { pre_steps: [], steps: [{ step_name: 'one', step_parameters: {}, logs: [`${at}Starting test.ok step "one".`] }], post_steps: [], result: [] } },
      );

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });

      expect(f.calls).toEqual(['undo']);
      expect(resultMessages(f.stored())).toEqual([
        'Trial Stopped: a stop was requested before the trial could end Failed.',
        'Trial Failed: the run was interrupted at step 1 ("one") when its worker stopped; main steps are not run again.',
      ]);
    });

    it('never makes a Succeeded trial In Progress again', async () => {
      const f = await setup({ steps: [s('main')] }, { status: 'Succeeded', completed_at: '2024-05-01T11:00:00.000Z' });

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'skipped', status: 'Succeeded' });
      expect(f.trials.transitions).toEqual([]);
    });
  });

  describe('slices', () => {
    it('parks between steps when the next one cannot fit, and goes on from there in the next slice', async () => {
      const f = await setup({ steps: [s('slow', 'test.advance', { ms: 15_000 }), s('next', 'test.advance', { ms: 5000 })], post_steps: [s('undo')] });

      const first = await f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 16_000, receipt: 'r-1' });
      expect(first).toEqual({ outcome: 'parked', status: 'In Progress', resumeAt: f.clock.now().getTime() });
      expect(f.stored().runtime).toMatchObject({ slice: 'parked', receipt: 'r-1', checkpoint: { phase: 'steps', index: 1 } });

      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 60_000 })).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
      expect(f.calls).toEqual(['advance 15000', 'advance 5000', 'undo']);
      expect(f.stored().invocations).toBe(2);
      expect(f.stored().runtime).toBeUndefined();
    });

    it('hands a long wait back to the queue until it ends, then finishes it', async () => {
      const f = await setup({ steps: [s('quick'), { step: 'long', do: 'cm.wait', where: { time_in_seconds: 3600 } }, s('after')], post_steps: [s('undo')] });
      const start = f.clock.now().getTime();

      await expect(f.runTrial(f.trial.id, { deadline: start + 600_000 })).resolves.toEqual({ outcome: 'parked', status: 'In Progress', resumeAt: start + 3_600_000 });
      expect(messages(f.stored().trial_record.steps[1])).toEqual(['Starting cm.wait step "long".', 'Waiting 3600 second(s).']);
      f.clock.advance(3_600_000);
      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 600_000 })).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });

      expect(f.calls).toEqual(['quick', 'after', 'undo']);
      expect(messages(f.stored().trial_record.steps[1]).slice(-2)).toEqual(['Result: {"waited_seconds":3600}', 'Completed.']);
    });

    it('ends a step still running at the end of its slice Failed, and still runs the post steps', async () => {
      const f = await setup({ steps: [s('stuck', 'test.hang')], post_steps: [s('undo')] });

      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 30 })).resolves.toMatchObject({ outcome: 'parked' });
      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 60_000 })).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

      expect(f.calls).toEqual(['hang', 'undo']);
      expect(resultMessages(f.stored())).toEqual(['Trial Failed: step 1 ("stuck") ran past the end of its slice.']);
    });

    it('fails a step that could not fit even in a fresh slice, without starting it', async () => {
      const f = await setup({ steps: [s('huge', 'test.advance', { ms: 120_000 })], post_steps: [s('undo')] });

      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 60_000 })).resolves.toEqual({ outcome: 'ran', status: 'Failed' });

      expect(f.calls).toEqual(['undo']);
      expect(resultMessages(f.stored())).toEqual(['Trial Failed: step 1 ("huge") cannot fit in one worker invocation.']);
    });

    it('runs every step in one slice when the budget is enough', async () => {
      const f = await setup({ steps: [s('a', 'test.advance', { ms: 1000 }), s('b', 'test.advance', { ms: 1000 })] });

      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 60_000 })).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
      expect(f.stored().invocations).toBe(1);
    });

    it('stops a trial parked in a long wait when it comes back, running its post steps', async () => {
      const f = await setup({ steps: [{ step: 'long', do: 'cm.wait', where: { time_in_seconds: 7200 } }, s('after')], post_steps: [s('undo')] });
      await f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 600_000 });
      f.trials.requestStop(f.trial.id);

      await expect(f.runTrial(f.trial.id, { deadline: f.clock.now().getTime() + 600_000 })).resolves.toEqual({ outcome: 'ran', status: 'Stopped' });
      expect(f.calls).toEqual(['undo']);
      expect(messages(f.stored().trial_record.steps[0]).at(-1)).toBe('Stopped: a stop was requested while the step waited.');
      expect(resultMessages(f.stored())).toEqual(['Trial Stopped: a stop was requested during step 1 ("long").']);
    });
  });

  describe('store failures', () => {
    it('throws when the store is unavailable so the message is retried', async () => {
      const f = await setup({ steps: [s('main')] });
      f.trials.failing = true;

      await expect(f.runTrial(f.trial.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    it('retries a record entry write that fails for a moment', async () => {
      const f = await setup({ steps: [s('one'), s('two')] });
      const put = f.trials.putRecordEntry.bind(f.trials);
      let failures = 1;
      f.trials.putRecordEntry = async (...args) => {
        if (failures-- > 0) throw new StoreUnavailableError('down for a moment');
        return put(...args);
      };

      await expect(f.runTrial(f.trial.id)).resolves.toEqual({ outcome: 'ran', status: 'Succeeded' });
      expect(f.stored().trial_record.steps).toHaveLength(2);
    });
  });
});
