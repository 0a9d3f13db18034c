import { maskExperiment, maskParametersFor } from '../domain/redaction.js';
/**
 * Report — primary course:
 * 1. Check the filters: `from` and `to` are instants, `from` before `to`. An
 *    unknown `trial-id` or `experiment` is 404; a deleted experiment is known (its
 *    trials are audit records and stay reportable).
 * 2. With `trial-id`: one GetItem; that trial and its experiment are the report.
 * 3. Otherwise count first: page through the selected trials (one experiment's
 *    through the trials-by-experiment index, all of them through the by-type
 *    index, newest first, narrowed to the time range on the sort key) and tally
 *    them per experiment. More than `maxTrials` ⇒ 400 asking to narrow the
 *    selection, before anything is rendered. Memory holds one page and one tally
 *    per experiment.
 * 4. Then render lazily: experiment by experiment (in the order of their newest
 *    trial), load it (deleted ones too) and page through its trials again, one
 *    at a time into the renderer. A trial still unfinished while counting is
 *    reported as it was then, and trials created since are left out, so the
 *    counts in the report match the trials in it.
 * 5. `render` concatenates the chunks up to `maxBytes` (a REST Lambda response
 *    cannot stream); past that it is 400 as in 3.
 */
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { renderJson } from '../domain/report/json.js';
import { renderJUnit } from '../domain/report/junit.js';
import { DEFAULT_REPORT_LIMITS, ReportTooLargeError, type ReportLimits } from '../domain/report/limits.js';
import { addToTally, emptyTally, reportOf, type Report, type ReportedExperiment, type ReportSection, type StatusTally } from '../domain/report/model.js';
import { renderXml } from '../domain/report/xml.js';
import { isFinal, type Trial } from '../domain/trial.js';
import type { Clock, ExperimentStore, Page, PageRequest, TimeRange, TrialStore } from '../ports.js';

export type ReportFormat = 'xml' | 'junit' | 'json';

export const REPORT_RENDERERS: Record<ReportFormat, (report: Report) => AsyncGenerator<string>> = {
  xml: renderXml,
  junit: renderJUnit,
  json: renderJson,
};

export interface ReportQuery {
  trialId?: string;
  experiment?: string;
  /** Trials created at or after this instant (any ISO 8601 date-time). */
  from?: string;
  /** Trials created before this instant. */
  to?: string;
}

export interface ReportDeps {
  trials: TrialStore;
  experiments: ExperimentStore;
  clock: Clock;
  limits?: Partial<ReportLimits>;
}

/** Trials read per Query while counting, and while rendering (items can be large). */
const COUNT_PAGE_SIZE = 100;
const RENDER_PAGE_SIZE = 25;

/** What counting learnt about one experiment's selected trials. */
interface Plan {
  experimentId: string;
  tally: StatusTally;
  /** `created_at#id` of the newest trial counted: anything newer came later. */
  newestKey: string;
  /** Trials not finished when counted, as they were then (few: trials run one at a time). */
  unfinished: Map<string, Trial>;
}

const keyOf = (trial: Pick<Trial, 'created_at' | 'id'>): string => `${trial.created_at}#${trial.id}`;

/**
 * An instant as the store writes created_at (UTC, milliseconds). Sub-millisecond
 * digits round up, which keeps `from` inclusive and `to` exclusive at the
 * store's precision.
 */
function toStoreInstant(value: string, name: 'from' | 'to'): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationError('Invalid query parameters', [{ path: name, message: 'must be a date-time' }]);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  return new Date(ms + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0)).toISOString();
}

function rangeOf(query: ReportQuery): TimeRange {
  const range: TimeRange = {};
  if (query.from !== undefined) range.from = toStoreInstant(query.from, 'from');
  if (query.to !== undefined) range.to = toStoreInstant(query.to, 'to');
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
    throw new ValidationError('Invalid query parameters', [{ path: 'from', message: 'must be earlier than to' }]);
  }
  return range;
}

function inRange(trial: Trial, range: TimeRange): boolean {
  return (range.from === undefined || trial.created_at >= range.from) && (range.to === undefined || trial.created_at < range.to);
}

async function* allPages(fetchPage: (page: PageRequest) => Promise<Page<Trial>>, limit: number): AsyncGenerator<Trial> {
  let nextToken: string | undefined;
  do {
    const page = await fetchPage(nextToken === undefined ? { limit } : { limit, nextToken });
    yield* page.items;
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
}

function tooLarge(what: string): ReportTooLargeError {
  return new ReportTooLargeError(`${what}; narrow the report with from and to (or with experiment or trial-id).`);
}

export function makeReportUseCases(deps: ReportDeps) {
  const { trials, experiments, clock } = deps;
  const limits: ReportLimits = { ...DEFAULT_REPORT_LIMITS, ...deps.limits };

  /** The experiment as stored, deleted or not; a placeholder if its record is gone, so its trials still show. */
  async function experimentOf(id: string): Promise<ReportedExperiment> {
    const found = await experiments.get(id, { includeDeleted: true });
    if (found) return found;
    const at = new Date(0).toISOString();
    return {
      id,
      name: `Experiment ${id} (record not found)`,
      description: '',
      metadata: {},
      parameters: {},
      pre_steps: [],
      steps: [],
      post_steps: [],
      created_by: '',
      created_at: at,
      updated_by: '',
      updated_at: at,
    };
  }

  async function knownExperiment(id: string): Promise<ReportedExperiment> {
    const experiment = await experiments.get(id, { includeDeleted: true });
    if (!experiment) throw new NotFoundError(`Experiment ${id} not found`);
    return experiment;
  }

  /** Step 4: an experiment's trials again, newest first, exactly those counted in `plan`. */
  async function* trialsOf(plan: Plan, range: TimeRange): AsyncGenerator<Trial> {
    let left = plan.tally.total;
    if (left === 0) return;
    const newestFirst = (a: Trial, b: Trial): number => (keyOf(a) < keyOf(b) ? 1 : -1);
    const snapshots = [...plan.unfinished.values()].sort(newestFirst);
    const store = allPages((page) => trials.list({ experiment: plan.experimentId, range }, page), RENDER_PAGE_SIZE);
    for await (const trial of store) {
      const key = keyOf(trial);
      // Unfinished ones come from the snapshot; any other unfinished or newer one was created after counting.
      if (plan.unfinished.has(trial.id) || !isFinal(trial.status) || key > plan.newestKey) continue;
      while (left > 0 && snapshots[0] && keyOf(snapshots[0]) > key) {
        yield snapshots.shift() as Trial;
        left -= 1;
      }
      if (left === 0) return;
      yield trial;
      left -= 1;
      if (left === 0) return;
    }
    for (const snapshot of snapshots) {
      if (left === 0) return;
      yield snapshot;
      left -= 1;
    }
  }

  async function* masked(trialList: AsyncIterable<Trial>, experiment: ReportedExperiment): AsyncGenerator<Trial> {
    for await (const trial of trialList) yield { ...trial, parameters: maskParametersFor(trial.parameters, experiment) };
  }

  async function* sectionsOf(plans: Plan[], range: TimeRange): AsyncGenerator<ReportSection> {
    for (const plan of plans) {
      const experiment = await experimentOf(plan.experimentId);
      // The one redaction rule, as in every other view.
      yield { experiment: maskExperiment(experiment), tally: plan.tally, trials: masked(trialsOf(plan, range), experiment) };
    }
  }

  /** Step 2. */
  async function reportOfTrial(trialId: string, query: ReportQuery, range: TimeRange, generatedAt: string): Promise<Report> {
    const trial = await trials.get(trialId);
    if (!trial) throw new NotFoundError(`Trial ${trialId} not found`);
    const experiment = query.experiment !== undefined ? await knownExperiment(query.experiment) : await experimentOf(trial.experiment);
    const selected = trial.experiment === experiment.id && inRange(trial, range);
    const trialView = { ...trial, parameters: maskParametersFor(trial.parameters, trial.experiment === experiment.id ? experiment : await experimentOf(trial.experiment)) };
    return reportOf(generatedAt, [{ experiment: maskExperiment(experiment), trials: selected ? [trialView] : [] }]);
  }

  /** Steps 1 to 4: counts done, rendering left to whoever iterates the report. */
  async function open(query: ReportQuery, options: { maxTrials?: number } = {}): Promise<Report> {
    const maxTrials = options.maxTrials ?? limits.maxTrials;
    const range = rangeOf(query);
    const generatedAt = clock.now().toISOString();
    if (query.trialId !== undefined) return reportOfTrial(query.trialId, query, range, generatedAt);

    const plans = new Map<string, Plan>();
    const planOf = (experimentId: string): Plan => {
      let plan = plans.get(experimentId);
      if (!plan) {
        plan = { experimentId, tally: emptyTally(), newestKey: '', unfinished: new Map() };
        plans.set(experimentId, plan);
      }
      return plan;
    };
    // The experiment asked for is in the report even with no trial in the range.
    if (query.experiment !== undefined) planOf((await knownExperiment(query.experiment)).id);

    const tally = emptyTally();
    const selection = allPages((page) => trials.list({ experiment: query.experiment, range }, page), COUNT_PAGE_SIZE);
    for await (const trial of selection) {
      if (tally.total >= maxTrials) throw tooLarge(`The report would hold more than ${maxTrials} trials`);
      const plan = planOf(trial.experiment);
      addToTally(plan.tally, trial);
      addToTally(tally, trial);
      const key = keyOf(trial);
      if (key > plan.newestKey) plan.newestKey = key;
      if (!isFinal(trial.status)) plan.unfinished.set(trial.id, trial);
    }
    return { generatedAt, tally, sections: sectionsOf([...plans.values()], range) };
  }

  return {
    open,

    /** The report as one string in `format`, within the limits (step 5). */
    async render(query: ReportQuery, format: ReportFormat): Promise<string> {
      const report = await open(query);
      const chunks: string[] = [];
      let bytes = 0;
      for await (const chunk of REPORT_RENDERERS[format](report)) {
        bytes += Buffer.byteLength(chunk, 'utf8');
        if (bytes > limits.maxBytes) throw tooLarge(`The report is larger than ${limits.maxBytes} bytes`);
        chunks.push(chunk);
      }
      return chunks.join('');
    },
  };
}

export type ReportUseCases = ReturnType<typeof makeReportUseCases>;
