/**
 * What metrics cost per trial: a 10-step trial of no-op steps run by the real executor
 * on in-memory stores, with and without the observers that publish its metrics as EMF
 * (flushed once per trial, as the worker does per invocation). Reports the EMF bytes
 * written per trial (CloudWatch Logs ingests them) and the time the observers add.
 */
import { EmfMetrics } from '../../functions/adapters/metrics/emf-metrics.js';
import { emptyTrialRecord, type Trial } from '../../functions/domain/trial.js';
import { makeRunTrial, type RunTrial } from '../../functions/executor/run-trial.js';
import { ModuleRegistry } from '../../functions/modules/registry.js';
import { metricsObserver } from '../../functions/observability/metrics-observer.js';
import { observeModules, observeRunTrial, observeTrialStore } from '../../functions/observability/observe.js';
import { systemClock, uuidIds } from '../../functions/system.js';
import { MemoryExperimentStore, MemoryTrialStore } from '../../test/support/memory-stores.js';
import { QuietLogger } from '../lib/env.js';
import { experimentFrom, noopModule, noopSteps } from '../lib/fixtures.js';
import { medP95, ms, type Row } from '../lib/report.js';
import { interleave, rounded, summarize } from '../lib/stats.js';
import type { SuiteContext, SuiteResult } from './suite.js';

const STEPS = 10;

export async function runMetricsCost(context: SuiteContext): Promise<SuiteResult> {
  const experiments = new MemoryExperimentStore();
  const experiment = experimentFrom({ name: 'metrics cost', steps: noopSteps(STEPS) });
  await experiments.create(experiment);
  const trials = new MemoryTrialStore();
  const logger = new QuietLogger();
  const newTrial = async (): Promise<string> => {
    const trial: Trial = {
      id: uuidIds.newId(), experiment: experiment.id, parameters: {}, metadata: {}, ticket: {}, status: 'Scheduled', trial_record: emptyTrialRecord(),
      created_at: systemClock.now().toISOString(), executed_at: null, completed_at: null, initiated_by: 'bench', initiated_from: 'api', schedule_id: null,
    };
    await trials.create(trial);
    return trial.id;
  };

  const plain: RunTrial = makeRunTrial({ trials, experiments, registry: new ModuleRegistry([noopModule]), clock: systemClock, logger });
  const metrics = new EmfMetrics({ serviceName: 'kallisti-bench' });
  const observer = metricsObserver(metrics);
  const observed = observeRunTrial(makeRunTrial({ trials: observeTrialStore(trials, observer), experiments, registry: new ModuleRegistry(observeModules([noopModule], observer)), clock: systemClock, logger }));

  // EMF goes to stdout; count its bytes instead of printing them.
  let emfBytes = 0;
  let flushes = 0;
  const flush = () => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      emfBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return true;
    }) as typeof process.stdout.write;
    try {
      metrics.flush();
    } finally {
      process.stdout.write = write;
    }
    flushes += 1;
  };

  context.progress('metrics: trials with and without EMF metrics');
  const rounds = context.rounds(300);
  const samples = await interleave(
    {
      plain: async () => plain(await newTrial()),
      observed: async () => {
        await observed(await newTrial());
        flush();
      },
    },
    rounds,
    20,
  );
  const plainStats = summarize(samples['plain'] ?? []);
  const observedStats = summarize(samples['observed'] ?? []);
  const bytesPerTrial = emfBytes / flushes;
  const rows: Row[] = [
    { benchmark: `Metrics per trial (${STEPS} steps): EMF written`, measured: `${Math.round(bytesPerTrial)} bytes (${(bytesPerTrial / STEPS).toFixed(0)} per step)`, result: 'info' },
    { benchmark: `Metrics per trial (${STEPS} steps): time added (record + flush)`, measured: ms(observedStats.median - plainStats.median), floor: `${medP95(observedStats)} vs ${medP95(plainStats)} without`, result: 'info' },
  ];
  return { rows, data: { steps: STEPS, rounds, emfBytesPerTrial: Math.round(bytesPerTrial), withMetricsMs: rounded(observedStats), withoutMetricsMs: rounded(plainStats) } };
}
