import { NotFoundError, ValidationError } from '../../functions/domain/errors.js';
import { ReportTooLargeError } from '../../functions/domain/report/limits.js';
import type { Report } from '../../functions/domain/report/model.js';
import type { Trial } from '../../functions/domain/trial.js';
import type { Page, PageRequest, TimeRange } from '../../functions/ports.js';
import { makeReportUseCases, type ReportQuery } from '../../functions/use-cases/report.js';
import { FakeClock, makeExperiment, MemoryExperimentStore, MemoryTrialStore, newId } from '../support/memory-stores.js';
import { trialIn } from '../support/report-fixtures.js';

/** The memory store, recording every list call (a Query on DynamoDB). */
class RecordingTrialStore extends MemoryTrialStore {
  readonly lists: { experiment?: string; range?: TimeRange; limit: number }[] = [];
  override list(filter: { experiment?: string; range?: TimeRange }, page: PageRequest): Promise<Page<Trial>> {
    this.lists.push({ ...filter, limit: page.limit });
    return super.list(filter, page);
  }
}

const step = { step: 'wait', do: 'cm.wait', where: { time_in_seconds: 1 } };

async function setup(limits: { maxTrials?: number; maxBytes?: number } = {}) {
  const experiments = new MemoryExperimentStore();
  const trials = new RecordingTrialStore();
  const clock = new FakeClock('2024-06-01T00:00:00.000Z');
  const report = makeReportUseCases({ experiments, trials, clock, limits });
  const experiment = async (name: string) => {
    const e = makeExperiment({ name, steps: [step] });
    await experiments.create(e);
    return e;
  };
  const trial = async (experimentId: string, status: Trial['status'], createdAt: string) => {
    const t = trialIn(experimentId, status, createdAt);
    await trials.create(t);
    return t;
  };
  return { experiments, trials, clock, report, experiment, trial };
}

/** Reads a report fully: experiment names with their trials' ids, and the tallies. */
async function read(report: Report) {
  const sections: { name: string; total: number; trials: Trial[] }[] = [];
  for await (const section of report.sections) {
    const trials: Trial[] = [];
    for await (const trial of section.trials) trials.push(trial);
    sections.push({ name: section.experiment.name, total: section.tally.total, trials });
  }
  return { total: report.tally.total, sections };
}

const ids = (trials: Trial[]) => trials.map((t) => t.id).sort();

describe('report use case', () => {
  it('reports every experiment that has trials, deleted ones included, with tallies that match', async () => {
    const f = await setup();
    const a = await f.experiment('a');
    const b = await f.experiment('b');
    await f.experiment('no trials');
    const a1 = await f.trial(a.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const a2 = await f.trial(a.id, 'Failed', '2024-05-01T11:00:00.000Z');
    const b1 = await f.trial(b.id, 'Aborted', '2024-05-01T12:00:00.000Z');
    await f.experiments.markDeleted(b.id);

    const report = await f.report.open({});
    expect(report.generatedAt).toBe('2024-06-01T00:00:00.000Z');
    expect(report.tally.byStatus).toMatchObject({ Succeeded: 1, Failed: 1, Aborted: 1 });
    const { total, sections } = await read(report);
    expect(total).toBe(3);
    expect(sections.map((s) => s.name).sort()).toEqual(['a', 'b']);
    const byName = Object.fromEntries(sections.map((s) => [s.name, s]));
    expect(ids(byName['a']?.trials ?? [])).toEqual(ids([a1, a2]));
    expect(ids(byName['b']?.trials ?? [])).toEqual([b1.id]);
    for (const s of sections) expect(s.trials).toHaveLength(s.total);
  });

  it('reports one experiment, even with no trial in the range, and 404s an unknown one', async () => {
    const f = await setup();
    const a = await f.experiment('a');
    const b = await f.experiment('b');
    await f.trial(a.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const b1 = await f.trial(b.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
    expect((await read(await f.report.open({ experiment: b.id }))).sections).toEqual([{ name: 'b', total: 1, trials: [b1] }]);
    expect((await read(await f.report.open({ experiment: b.id, from: '2024-05-02T00:00:00Z' }))).sections).toEqual([{ name: 'b', total: 0, trials: [] }]);
    await expect(f.report.open({ experiment: newId() })).rejects.toBeInstanceOf(NotFoundError);
    expect(f.trials.lists.every((l) => l.experiment === b.id)).toBe(true);
  });

  it('reports one trial by id with its experiment, and 404s an unknown id', async () => {
    const f = await setup();
    const a = await f.experiment('a');
    const b = await f.experiment('b');
    const a1 = await f.trial(a.id, 'Failed', '2024-05-01T10:00:00.000Z');
    await f.trial(a.id, 'Succeeded', '2024-05-01T11:00:00.000Z');
    expect((await read(await f.report.open({ trialId: a1.id }))).sections).toEqual([{ name: 'a', total: 1, trials: [a1] }]);
    // Filters combine: another experiment, or a range that leaves the trial out, select nothing.
    expect((await read(await f.report.open({ trialId: a1.id, experiment: b.id }))).sections).toEqual([{ name: 'b', total: 0, trials: [] }]);
    expect((await read(await f.report.open({ trialId: a1.id, to: '2024-05-01T10:00:00.000Z' }))).sections).toEqual([{ name: 'a', total: 0, trials: [] }]);
    await expect(f.report.open({ trialId: newId() })).rejects.toBeInstanceOf(NotFoundError);
    expect(f.trials.lists).toEqual([]);
  });

  it('keeps trials created in [from, to), at the store precision whatever the input precision', async () => {
    const f = await setup();
    const a = await f.experiment('a');
    const early = await f.trial(a.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const edge = await f.trial(a.id, 'Succeeded', '2024-05-01T10:00:00.123Z');
    const late = await f.trial(a.id, 'Succeeded', '2024-05-01T12:00:00.000Z');
    const select = async (query: ReportQuery) => ids((await read(await f.report.open(query))).sections.flatMap((s) => s.trials));
    expect(await select({ from: '2024-05-01T10:00:00Z' })).toEqual(ids([early, edge, late]));
    expect(await select({ from: '2024-05-01T10:00:00.123Z', to: '2024-05-01T12:00:00Z' })).toEqual([edge.id]);
    expect(await select({ from: '2024-05-01T10:00:00.1231Z' })).toEqual([late.id]);
    expect(await select({ to: '2024-05-01T10:00:00.1231Z' })).toEqual(ids([early, edge]));
    expect(await select({ from: '2024-05-01T12:00:00+02:00' })).toEqual(ids([early, edge, late]));
    expect(f.trials.lists.at(-1)?.range).toEqual({ from: '2024-05-01T10:00:00.000Z' });
  });

  it('answers 400 when from is not before to', async () => {
    const f = await setup();
    await expect(f.report.open({ from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' })).rejects.toMatchObject({
      constructor: ValidationError,
      errors: [{ path: 'from', message: 'must be earlier than to' }],
    });
    await expect(f.report.open({ from: '2024-05-01T00:00:00Z', to: '2024-05-01T00:00:00.000Z' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a selection of more than maxTrials before rendering anything', async () => {
    const f = await setup({ maxTrials: 3 });
    const a = await f.experiment('a');
    for (let i = 0; i < 4; i += 1) await f.trial(a.id, 'Succeeded', `2024-05-01T1${i}:00:00.000Z`);
    await expect(f.report.open({})).rejects.toThrow(new ReportTooLargeError('The report would hold more than 3 trials; narrow the report with from and to (or with experiment or trial-id).'));
    await expect(f.report.render({ experiment: a.id }, 'junit')).rejects.toBeInstanceOf(ReportTooLargeError);
    expect((await read(await f.report.open({ from: '2024-05-01T11:00:00Z' }))).total).toBe(3);
    expect((await read(await f.report.open({}, { maxTrials: Number.POSITIVE_INFINITY }))).total).toBe(4);
  });

  it('refuses a report larger than maxBytes and renders one within it', async () => {
    const f = await setup({ maxBytes: 9000 });
    const a = await f.experiment('a');
    const t = await f.trial(a.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const xml = await f.report.render({}, 'xml');
    expect(xml).toContain(t.id);
    for (let i = 0; i < 3; i += 1) await f.trial(a.id, 'Failed', `2024-05-01T11:0${i}:00.000Z`);
    await expect(f.report.render({}, 'xml')).rejects.toThrow(/The report is larger than 9000 bytes; narrow the report/);
    await expect(f.report.render({}, 'junit')).rejects.toBeInstanceOf(ReportTooLargeError);
    expect(JSON.parse(await f.report.render({ trialId: t.id }, 'json'))).toHaveLength(1);
  });

  it('reports a trial that finished while rendering as counted, and leaves out trials created since', async () => {
    const f = await setup();
    const a = await f.experiment('a');
    const done = await f.trial(a.id, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const running = await f.trial(a.id, 'In Progress', '2024-05-01T11:00:00.000Z');
    const report = await f.report.open({});
    await f.trials.transition(running.id, ['In Progress'], 'Succeeded', { completed_at: '2024-05-01T11:05:00.000Z' });
    await f.trial(a.id, 'Scheduled', '2024-05-01T12:00:00.000Z');
    await f.trial(a.id, 'Failed', '2024-05-01T13:00:00.000Z');
    const { sections } = await read(report);
    expect(sections).toHaveLength(1);
    expect(sections[0]?.total).toBe(2);
    expect(ids(sections[0]?.trials ?? [])).toEqual(ids([done, running]));
    expect(sections[0]?.trials.find((t) => t.id === running.id)?.status).toBe('In Progress');
  });

  it('pages through the store with bounded Query pages', async () => {
    const f = await setup();
    const a = await f.experiment('a');
    for (let i = 0; i < 130; i += 1) await f.trial(a.id, 'Succeeded', new Date(Date.parse('2024-05-01T00:00:00.000Z') + i * 1000).toISOString());
    const { total, sections } = await read(await f.report.open({}));
    expect(total).toBe(130);
    expect(sections[0]?.trials).toHaveLength(130);
    // Counting: two pages of at most 100 over every trial; rendering: pages of 25 over the experiment's.
    expect(f.trials.lists.filter((l) => l.experiment === undefined).map((l) => l.limit)).toEqual([100, 100]);
    expect(f.trials.lists.filter((l) => l.experiment === a.id).map((l) => l.limit)).toEqual([25, 25, 25, 25, 25, 25]);
  });
});
