/**
 * `npm run bench`: every benchmark, on this machine, in local mode against dynalite.
 * Prints one table and writes the same figures to bench/results.json (a partial run,
 * with --only, --quick or --max-schedules, writes bench/out/results.json instead).
 *
 *   --slow                 also measure firing latency on real minute boundaries (adds about 3 minutes)
 *   --only=a,b             run some suites: api, executor, latency, scheduling, reconcile, lambda, metrics (cost runs when its inputs did)
 *   --max-schedules=N      cap the largest schedule count (default 100,000; smaller sizes are extrapolated)
 *   --quick                a tenth of the repetitions, to try the harness (figures too noisy to publish)
 *   --markdown             also print the table as Markdown (for BENCHMARKS.md)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, quietSdkNodeWarning } from './lib/env.js';
import { formatTable, markdownTable, type Row } from './lib/report.js';
import { runCost } from './suites/cost.js';
import type { SuiteContext, SuiteResult } from './suites/suite.js';

quietSdkNodeWarning();

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITES = ['api', 'executor', 'latency', 'scheduling', 'reconcile', 'lambda', 'metrics'] as const;
type SuiteName = (typeof SUITES)[number];

function parseArgs(argv: readonly string[]) {
  const value = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = value('only')?.split(',').map((s) => s.trim()) ?? [...SUITES];
  const unknown = only.filter((s) => !(SUITES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.join(', ')}`);
  const max = value('max-schedules');
  return {
    slow: argv.includes('--slow'),
    quick: argv.includes('--quick'),
    markdown: argv.includes('--markdown'),
    only: only as SuiteName[],
    maxSchedules: max === undefined ? undefined : Number(max),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const started = performance.now();
  const context: SuiteContext = {
    slow: args.slow,
    rounds: (n) => (args.quick ? Math.max(3, Math.ceil(n / 10)) : n),
    progress: (message) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
  };
  context.progress(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart}`);

  // Suites load lazily: each imports the code it measures only when it runs.
  const runners: Record<SuiteName, () => Promise<SuiteResult>> = {
    api: async () => (await import('./suites/api-overhead.js')).runApiOverhead(context),
    executor: async () => (await import('./suites/executor.js')).runExecutor(context),
    latency: async () => (await import('./suites/firing-latency.js')).runFiringLatency(context),
    scheduling: async () => (await import('./suites/scheduling.js')).runScheduling(context, { maxSchedules: args.maxSchedules }),
    reconcile: async () => (await import('./suites/reconcile.js')).runReconcile(context),
    lambda: async () => (await import('./suites/lambda.js')).runLambda(context),
    metrics: async () => (await import('./suites/metrics-cost.js')).runMetricsCost(context),
  };
  const results: Partial<Record<SuiteName | 'cost', SuiteResult>> = {};
  const errors: Record<string, string> = {};
  const seconds: Record<string, number> = {};
  for (const name of args.only) {
    context.progress(`suite ${name}`);
    const start = performance.now();
    try {
      results[name] = await runners[name]();
    } catch (error) {
      // Stack traces name files relative to the repository, so the results file holds no machine paths.
      errors[name] = (error instanceof Error ? (error.stack ?? error.message) : String(error)).split(REPOSITORY_ROOT).join('');
      context.progress(`suite ${name} FAILED: ${errors[name]}`);
    }
    seconds[name] = Math.round((performance.now() - start) / 100) / 10;
  }
  const cost = costFrom(results);
  if (cost) results.cost = cost;

  const rows: Row[] = [];
  for (const name of [...SUITES, 'cost'] as const) {
    const result = results[name];
    if (result) rows.push(...result.rows);
    else if (errors[name]) rows.push({ benchmark: `${name}: FAILED (see errors in bench/results.json)`, measured: '', result: 'NOT MET' });
  }
  const totalSeconds = Math.round((performance.now() - started) / 1000);
  const output = {
    machine,
    mode: { slow: args.slow, quick: args.quick, only: args.only, maxSchedules: args.maxSchedules ?? null },
    durationSeconds: totalSeconds,
    suiteSeconds: seconds,
    table: rows,
    results: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, r.data])),
    errors,
  };
  // Only a full run replaces the published figures; a partial or quick one goes to bench/out/ (git-ignored).
  const partial = args.quick || args.only.length < SUITES.length || args.maxSchedules !== undefined;
  const file = fileURLToPath(new URL(partial ? './out/results.json' : './results.json', import.meta.url));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);

  console.log(`\nKallisti Serverless benchmarks: ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}, ${machine.date.slice(0, 10)}, ${totalSeconds} s${args.quick ? ' (--quick: not for publishing)' : ''}\n`);
  console.log(formatTable(rows));
  if (args.markdown) console.log(`\n${markdownTable(rows)}`);
  console.log(`\nWrote ${file}`);
  if (Object.keys(errors).length > 0) process.exitCode = 1;
}

/** The cost model needs the executor's and the scheduling suite's counts (and the worker's cold start, when measured). */
function costFrom(results: Partial<Record<SuiteName | 'cost', SuiteResult>>): SuiteResult | undefined {
  const executor = results.executor?.data as ExecutorData | undefined;
  const scheduling = results.scheduling?.data as SchedulingData | undefined;
  if (!executor || !scheduling) return undefined;
  const lambda = results.lambda?.data as LambdaData | undefined;
  const typical = executor.counts.current['typical (5 steps)'];
  const mid = scheduling.sizes[1] ?? scheduling.sizes[0];
  if (!typical || !mid) return undefined;
  return runCost({
    execution: { reads: typical.reads, writes: typical.writes, readUnits: typical.readUnits, writeUnits: typical.writeUnits, finalItemBytes: typical.finalItemBytes, ownMs: executor.typicalTrialMs.median },
    firing: { reads: mid.firingStoreCalls.counted.reads, writes: mid.firingStoreCalls.counted.writes, ownMs: mid.firingMs.counted.median },
    pollReadsPerSecond: executor.stopPolling.readsPerSecondOfStep,
    workerInitMs: lambda?.coldStart['worker']?.processMs.median ?? 300,
  });
}

interface CountsLike {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
  finalItemBytes: number;
}
interface ExecutorData {
  counts: { current: Record<string, CountsLike | undefined> };
  typicalTrialMs: { median: number };
  stopPolling: { readsPerSecondOfStep: number };
}
interface SchedulingData {
  sizes: { firingStoreCalls: { counted: { reads: number; writes: number } }; firingMs: { counted: { median: number } } }[];
}
interface LambdaData {
  coldStart: Record<string, { processMs: { median: number } } | undefined>;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
