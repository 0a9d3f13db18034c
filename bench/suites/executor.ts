/**
 * Executor: store calls per trial and per step (counted by a middleware on the
 * stores' document client), and the executor's own time per step (experiments of
 * 1, 10 and 100 no-op steps, slope fitted by least squares). The executor writes a
 * step's start only if the step still runs after DEFAULT_START_MARKER_DELAY_MS; it is
 * measured side by side with a prototype (bench/lib) whose progress write asks for
 * nothing back.
 */
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import { startLocalDynamo } from '../../functions/adapters/local/dynalite.js';
import type { Experiment } from '../../functions/domain/experiment.js';
import { emptyTrialRecord, type Trial } from '../../functions/domain/trial.js';
import { DEFAULT_START_MARKER_DELAY_MS, makeRunTrial, type RunTrial } from '../../functions/executor/run-trial.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';
import type { TrialStore } from '../../functions/ports.js';
import { systemClock, uuidIds } from '../../functions/wiring.js';
import { CommandCounter, type CallCounts } from '../lib/command-counter.js';
import { QuietLogger } from '../lib/env.js';
import { experimentFrom, noopModule, noopSteps } from '../lib/fixtures.js';
import { ms, verdict, type Row } from '../lib/report.js';
import { interleave, leastSquares, round, rounded, summarize } from '../lib/stats.js';
import type { SuiteContext, SuiteResult } from './suite.js';
import { measureHandOff } from './hand-off.js';

const TABLE = 'kallisti-bench-executor';
const STEP_COUNTS = [1, 10, 100] as const;
/** Trial items are projected in full (ALL) into gsi1 and gsi2, so each trial write is billed three times over. */
const TRIAL_ALL_PROJECTED_INDEXES = 2;
const TARGET_WRITES = { perStep: 1, perTrial: 2 };
const TARGET_MS_PER_STEP = 5;
/** A step at 100 costs at most this many times one at 10 (write units, time): the cost per step does not grow with the trial. */
const FLAT_RATIO = 1.1;

const VARIANTS = ['current'] as const;
type Variant = (typeof VARIANTS)[number];
const VARIANT_LABEL: Record<Variant, string> = {
  current: 'Executor',
};

export interface ExecutorCounts extends CallCounts {
  /** Bytes of the trial item at the end (its JSON), which sets the capacity units of every later write. */
  finalItemBytes: number;
  /** Table units plus the GSI copies (estimate: trial writes × 3, plus the unfinished-index removal). */
  estimatedWriteUnitsWithIndexes: number;
}

export async function runExecutor(context: SuiteContext): Promise<SuiteResult> {
  const dynamo = await startLocalDynamo({ tableName: TABLE });
  const counter = new CommandCounter().attach(dynamo.documentClient);
  const logger = new QuietLogger();
  try {
    const experiments = new DynamoExperimentStore(dynamo.documentClient, TABLE);
    const trialStore = new DynamoTrialStore(dynamo.documentClient, TABLE);
    const registry = new ModuleRegistry([...DEFAULT_MODULES, noopModule]);
    const stores: Record<Variant, TrialStore> = {
      current: trialStore,
    };
    const runners = Object.fromEntries(VARIANTS.map((v) => [v, makeRunTrial({ experiments, trials: stores[v], registry, clock: systemClock, logger })])) as Record<Variant, RunTrial>;

    const byCount = new Map<number, Experiment>();
    for (const count of STEP_COUNTS) {
      const experiment = experimentFrom({ name: `${count} no-op steps`, steps: noopSteps(count) });
      await experiments.create(experiment);
      byCount.set(count, experiment);
    }
    // The shape the cost model uses: 1 pre step, 3 steps, 1 post step.
    const typical = experimentFrom({ name: 'typical', pre_steps: noopSteps(1, 'pre'), steps: noopSteps(3), post_steps: noopSteps(1, 'post') });
    await experiments.create(typical);
    const waiting = experimentFrom({ name: 'one wait', steps: [{ step: 'wait', do: 'cm.wait', where: { time_in_seconds: 2.5 } }] });
    await experiments.create(waiting);

    const newTrial = async (experiment: Experiment): Promise<string> => {
      const trial: Trial = {
        id: uuidIds.newId(),
        experiment: experiment.id,
        parameters: {},
        metadata: {},
        ticket: {},
        status: 'Scheduled',
        trial_record: emptyTrialRecord(),
        created_at: systemClock.now().toISOString(),
        executed_at: null,
        completed_at: null,
        initiated_by: 'bench',
        initiated_from: 'api',
        schedule_id: null,
      };
      await trialStore.create(trial);
      return trial.id;
    };

    // 1. Counts, with capacity units (one run each: the counts are deterministic).
    context.progress('executor: counting store calls');
    counter.capacity = true;
    // As both queue consumers run a trial just queued: its message's first delivery.
    const countRun = async (variant: Variant, experiment: Experiment, firstDelivery = true): Promise<ExecutorCounts> => {
      const id = await newTrial(experiment);
      counter.reset();
      const result = await runners[variant](id, firstDelivery ? { firstDelivery } : {});
      if (result.outcome !== 'ran' || result.status !== 'Succeeded') throw new Error(`Benchmark trial ended ${result.status}`);
      const counts = counter.take();
      const stored = await trialStore.get(id);
      counter.reset();
      return {
        ...counts,
        finalItemBytes: Buffer.byteLength(JSON.stringify(stored)),
        estimatedWriteUnitsWithIndexes: counts.writeUnits * (1 + TRIAL_ALL_PROJECTED_INDEXES) + 1,
      };
    };
    const counts: Record<Variant, Record<string, ExecutorCounts>> = { current: {} };
    for (const variant of VARIANTS) {
      for (const count of STEP_COUNTS) counts[variant][String(count)] = await countRun(variant, byCount.get(count) as Experiment);
      counts[variant]['typical (5 steps)'] = await countRun(variant, typical);
    }
    // Stop polling: a main step checks the trial once a second while it runs.
    context.progress('executor: stop polling during a 2.5 s wait');
    const waitCounts = await countRun('current', waiting);
    // A message delivered again (its first delivery failed before the trial started): the claim is tried first and refused.
    const redelivered = await countRun('current', byCount.get(1) as Experiment, false);
    const oneStep = counts.current['1'] as ExecutorCounts;
    const pollReadsPerSecond = (waitCounts.reads - oneStep.reads) / 2.5;
    counter.capacity = false;

    const writeFit = (variant: Variant, of: 'writes' | 'writeUnits' = 'writes') => leastSquares(STEP_COUNTS.map((n) => [n, (counts[variant][String(n)] as ExecutorCounts)[of]] as const));
    const writes = Object.fromEntries(VARIANTS.map((v) => [v, writeFit(v)])) as Record<Variant, ReturnType<typeof writeFit>>;
    const units = Object.fromEntries(VARIANTS.map((v) => [v, writeFit(v, 'writeUnits')])) as Record<Variant, ReturnType<typeof writeFit>>;

    // 2. Time, interleaved: every arm runs once per round, in rotating order.
    context.progress('executor: timing 1 / 10 / 100-step trials');
    const rounds = context.rounds(25);
    const arms: Record<string, { variant: Variant; experiment: Experiment; ids: string[] }> = {};
    for (const variant of VARIANTS) {
      for (const count of STEP_COUNTS) arms[`${variant}:${count}`] = { variant, experiment: byCount.get(count) as Experiment, ids: [] };
    }
    arms['current:typical'] = { variant: 'current', experiment: typical, ids: [] };
    const warmup = 2;
    for (const arm of Object.values(arms)) for (let i = 0; i < rounds + warmup; i += 1) arm.ids.push(await newTrial(arm.experiment));
    const samples = await interleave(
      Object.fromEntries(
        Object.entries(arms).map(([name, arm]) => [
          name,
          async () => {
            const id = arm.ids.shift();
            if (!id) throw new Error('out of prepared trials');
            await runners[arm.variant](id, { firstDelivery: true });
          },
        ]),
      ),
      rounds,
      warmup,
    );

    const timing = (variant: Variant) => {
      const points = STEP_COUNTS.flatMap((n) => (samples[`${variant}:${n}`] ?? []).map((t) => [n, t] as const));
      const fit = leastSquares(points);
      const medians = Object.fromEntries(STEP_COUNTS.map((n) => [n, summarize(samples[`${variant}:${n}`] ?? [])]));
      const m = (n: number) => (medians[n] as { median: number }).median;
      return {
        fit: { msPerStep: round(fit.slope, 3), msPerTrial: round(fit.intercept, 3), r2: round(fit.r2, 4) },
        trialMs: Object.fromEntries(STEP_COUNTS.map((n) => [n, rounded(medians[n] as ReturnType<typeof summarize>)])),
        // Marginal cost per step at each size: above ~1 it grows with the record (each write carries all of it).
        msPerStepFrom1To10: round((m(10) - m(1)) / 9, 3),
        msPerStepFrom10To100: round((m(100) - m(10)) / 90, 3),
      };
    };
    const time = Object.fromEntries(VARIANTS.map((v) => [v, timing(v)])) as Record<Variant, ReturnType<typeof timing>>;
    const typicalMs = summarize(samples['current:typical'] ?? []);

    const rows: Row[] = [];
    for (const variant of VARIANTS) {
      const label = VARIANT_LABEL[variant];
      const w = writes[variant];
      const u = units[variant];
      const within = (fit: typeof w) => fit.slope <= TARGET_WRITES.perStep + 1e-9 && fit.intercept <= TARGET_WRITES.perTrial + 1e-9;
      const okWrites = within(w) && within(u);
      rows.push({
        benchmark: `${label}: store writes (calls; table write units)`,
        measured: `${round(w.slope, 2)}/step + ${round(w.intercept, 2)}/trial; ${round(u.slope, 2)} + ${round(u.intercept, 2)} WRU`,
        target: `≤ ${TARGET_WRITES.perStep}/step + ${TARGET_WRITES.perTrial}/trial`,
        result: verdict(okWrites),
      });
      const t = time[variant];
      rows.push({
        benchmark: `${label}: own time per step`,
        measured: `${ms(t.fit.msPerStep)} (1→10: ${ms(t.msPerStepFrom1To10)}, 10→100: ${ms(t.msPerStepFrom10To100)})`,
        target: `≤ ${TARGET_MS_PER_STEP} ms`,
        result: verdict(t.fit.msPerStep <= TARGET_MS_PER_STEP),
      });
    }
    const c100 = counts.current['100'] as ExecutorCounts;
    rows.push({
      benchmark: 'Executor: 100-step trial, table write units',
      measured: `${c100.writeUnits} WRU table (~${c100.estimatedWriteUnitsWithIndexes} with GSIs), assembled trial ${(c100.finalItemBytes / 1024).toFixed(1)} KiB (spread over its items)`,
      result: 'info',
    });
    rows.push({
      benchmark: 'Executor: 1-step trial on a redelivered message',
      measured: `${redelivered.writes} writes (${redelivered.failedConditionalWrites} refused), ${redelivered.writeUnits} WRU; first delivery: ${oneStep.writes} writes, ${oneStep.writeUnits} WRU`,
      result: 'info',
    });
    rows.push({ benchmark: 'Executor: stop polling while a step runs', measured: `${round(pollReadsPerSecond, 2)} reads/s`, result: 'info' });

    // Flat cost per step: what a step adds between 1 and 10 steps against between 10 and 100 (the fixed cost of a trial cancels out).
    const wu = (n: number) => (counts.current[String(n)] as ExecutorCounts).writeUnits;
    const wuPerStep10 = (wu(10) - wu(1)) / 9;
    const wuPerStep100 = (wu(100) - wu(10)) / 90;
    const wuRatio = wuPerStep100 / wuPerStep10;
    rows.push({
      benchmark: 'Executor: write units per step, at 10 and at 100 steps',
      measured: `${round(wuPerStep10, 2)} → ${round(wuPerStep100, 2)} WRU (×${round(wuRatio, 2)})`,
      target: `≤ ${FLAT_RATIO}×`,
      result: verdict(wuRatio <= FLAT_RATIO),
    });
    const cur = time.current;
    const msRatio = cur.msPerStepFrom10To100 / cur.msPerStepFrom1To10;
    rows.push({
      benchmark: 'Executor: ms per step, at 10 and at 100 steps',
      measured: `${ms(cur.msPerStepFrom1To10)} → ${ms(cur.msPerStepFrom10To100)} (×${round(msRatio, 2)})`,
      target: `≤ ${FLAT_RATIO}×`,
      result: verdict(msRatio <= FLAT_RATIO),
    });
    context.progress('executor: one slice hand-off');
    const handOff = await measureHandOff({ runTrial: runners.current, counter, newTrial: () => newTrial(byCount.get(10) as Experiment) });
    rows.push({
      benchmark: 'Executor: one slice hand-off (park, hand back, claim)',
      measured: `${handOff.storeCalls} store calls (${handOff.storeWrites} writes) + ${handOff.queueCalls} queue call, ${ms(handOff.ms)}`,
      target: '≤ 2 store calls + 1 queue call',
      result: verdict(handOff.storeCalls <= 2 && handOff.queueCalls <= 1),
    });

    return {
      rows,
      data: {
        stepModule: 'bench.noop (returns at once)',
        counts,
        variants: VARIANT_LABEL,
        writesFit: Object.fromEntries(VARIANTS.map((v) => [v, { perStep: round(writes[v].slope, 3), perTrial: round(writes[v].intercept, 3) }])),
        writeUnitsFit: Object.fromEntries(VARIANTS.map((v) => [v, { perStep: round(units[v].slope, 3), perTrial: round(units[v].intercept, 3) }])),
        redelivered,
        startMarkerDelayMs: DEFAULT_START_MARKER_DELAY_MS,
        time,
        typicalTrialMs: rounded(typicalMs),
        stopPolling: { readsPerSecondOfStep: round(pollReadsPerSecond, 2), waitTrial: waitCounts },
        flatness: { writeUnitsPerStep: { from1To10: round(wuPerStep10, 3), from10To100: round(wuPerStep100, 3), ratio: round(wuRatio, 3) }, msPerStepRatio: round(msRatio, 3) },
        handOff,
        targets: { writes: TARGET_WRITES, msPerStep: TARGET_MS_PER_STEP },
        loggedProblems: logger.problems.slice(0, 20),
      },
    };
  } finally {
    await dynamo.close();
  }
}
