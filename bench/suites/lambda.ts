/**
 * Lambda bundles: minified size (built with lib/bundling.ts, the options the CDK
 * uses) and cold init, i.e. importing the bundle and handling a first event in a
 * fresh Node process, against a floor bundle that only creates the SDK clients the
 * function uses. Each variant runs in at least 15 fresh processes, interleaved.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleEntry, entryPath, filesLoadedAtStart, HANDLER_FILE, LAMBDA_ENTRIES, PROJECT_ROOT, type LambdaName } from '../../lib/bundling.js';
import { kib, medP95, times, verdict, type Row } from '../lib/report.js';
import { ratios, round, rounded, summarize, type Summary } from '../lib/stats.js';
import { countColdInit } from './lambda-instructions.js';
import type { SuiteContext, SuiteResult } from './suite.js';

const ONE_MB = 1024 * 1024;
const TARGET_RATIO = 1.2;
const FLOOR_ENTRIES: Record<Extract<LambdaName, 'api' | 'worker'>, string> = {
  api: fileURLToPath(new URL('../floor/api-floor.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../floor/worker-floor.ts', import.meta.url)),
};
/** The API's floor plus the libraries required at start (Powertools Logger and Metrics, middy's router): instructions only. */
const REQUIRED_FLOOR_ENTRY = fileURLToPath(new URL('../floor/api-required-floor.ts', import.meta.url));

/** Dummy configuration: every variable the entries require, pointing nowhere; no AWS call is made. */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCHMARKONLY',
  AWS_SECRET_ACCESS_KEY: 'benchmark-only',
  AWS_LAMBDA_FUNCTION_NAME: 'kallisti-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  LOG_LEVEL: 'INFO',
  KALLISTI_TABLE: 'kallisti-bench',
  KALLISTI_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/kallisti-bench.fifo',
  KALLISTI_SCHEDULE_GROUP: 'kallisti-bench',
  KALLISTI_SCHEDULE_TARGET_ARN: 'arn:aws:sqs:us-east-1:123456789012:kallisti-bench.fifo',
  KALLISTI_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/kallisti-bench-scheduler',
  KALLISTI_SCHEDULE_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:kallisti-bench-schedule-dlq',
  // The deployed runtime is Node 22; the SDK's Node 20 deprecation warning would only add noise here.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/**
 * Runs in the fresh process: imports the bundle, hands it one event, and prints the
 * times (ms since the process started, performance.now()) on a marked line.
 */
const RUNNER = `
import { pathToFileURL } from 'node:url';
const [bundle, kind] = process.argv.slice(2);
const context = { functionName: 'kallisti-bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kallisti-bench',
  memoryLimitInMB: '1024', awsRequestId: 'bench', logGroupName: '/aws/lambda/kallisti-bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 900000, done() {}, fail() {}, succeed() {} };
const apiEvent = { resource: '/health', path: '/health', httpMethod: 'GET', headers: { Accept: 'application/json' }, multiValueHeaders: { Accept: ['application/json'] },
  queryStringParameters: null, multiValueQueryStringParameters: null, pathParameters: null, stageVariables: null, body: null, isBase64Encoded: false,
  requestContext: { accountId: '123456789012', apiId: 'bench', authorizer: null, protocol: 'HTTP/1.1', httpMethod: 'GET', identity: { sourceIp: '127.0.0.1', userAgent: 'bench' },
    path: '/prod/health', stage: 'prod', requestId: 'bench', requestTimeEpoch: Date.now(), resourceId: 'bench', resourcePath: '/health' } };
const sqsEvent = { Records: [{ messageId: '00000000-0000-4000-8000-000000000001', receiptHandle: 'bench', body: 'not json',
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'bench', ApproximateFirstReceiveTimestamp: String(Date.now()),
    MessageGroupId: 'kallisti-trials', MessageDeduplicationId: 'bench', SequenceNumber: '1' },
  messageAttributes: {}, md5OfBody: 'bench', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:kallisti-bench.fifo', awsRegion: 'us-east-1' }] };
const start = performance.now();
const cpuStart = process.cpuUsage();
const mod = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const result = await mod.handler(kind === 'api' ? apiEvent : sqsEvent, context);
const handled = performance.now();
const cpu = process.cpuUsage(cpuStart);
const ok = kind === 'api' ? result?.statusCode === 200 : Array.isArray(result?.batchItemFailures) && result.batchItemFailures.length === 0;
process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ startMs: start, importMs: imported - start, handleMs: handled - imported, doneMs: handled, cpuMs: (cpu.user + cpu.system) / 1000, ok }) + '\\n');
process.exit(0);
`;

interface RunResult {
  /** Import + first event: the function's own cold start, beyond the runtime's boot. */
  initMs: number;
  importMs: number;
  handleMs: number;
  /** From process start (Node's time origin) to the first event handled, runtime boot included. */
  processMs: number;
  /** CPU time (user + system) of import + first event: what the code costs, less sensitive than wall time to a busy machine. */
  cpuMs: number;
}

interface Variant {
  name: string;
  function: LambdaName;
  bundle: string;
  sourceMaps: boolean;
}

function runOnce(runner: string, variant: Variant, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const args = [...(variant.sourceMaps ? ['--enable-source-maps'] : []), runner, variant.bundle, variant.function];
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env['PATH'] ?? '', ...LAMBDA_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`${variant.name}: exit ${code}: ${(stderr || stdout).slice(0, 800)}`));
      const parsed = JSON.parse(line.slice('BENCH_RESULT '.length)) as { importMs: number; handleMs: number; doneMs: number; cpuMs: number; ok: boolean };
      if (!parsed.ok) return reject(new Error(`${variant.name}: the handler did not answer as expected: ${stdout.slice(0, 800)}`));
      resolve({ initMs: parsed.importMs + parsed.handleMs, importMs: parsed.importMs, handleMs: parsed.handleMs, processMs: parsed.doneMs, cpuMs: parsed.cpuMs });
    });
  });
}

export async function runLambda(context: SuiteContext): Promise<SuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kallisti-bench-lambda-'));
  try {
    context.progress('lambda: bundling');
    const bundles: Record<string, { path: string; bytes: number; gzipBytes: number; mapBytes: number; totalBytes: number; files: number }> = {};
    const targets: [string, LambdaName, string | undefined][] = [
      ['api', 'api', undefined],
      ['worker', 'worker', undefined],
      ['api floor', 'api', FLOOR_ENTRIES.api],
      ['worker floor', 'worker', FLOOR_ENTRIES.worker],
      ['api required floor', 'api', REQUIRED_FLOOR_ENTRY],
    ];
    for (const [name, fn, floorEntry] of targets) {
      const outdir = join(dir, name.replaceAll(' ', '-'));
      const metafile = await bundleEntry(floorEntry ?? entryPath(fn), outdir);
      // What a cold start loads: the handler file and the chunks it imports statically (the rest loads on demand).
      const loaded = filesLoadedAtStart(metafile, outdir).map((file) => readFileSync(join(PROJECT_ROOT, file)));
      const all = Object.keys(metafile.outputs).filter((file) => file.endsWith('.mjs'));
      bundles[name] = {
        path: join(outdir, HANDLER_FILE),
        bytes: loaded.reduce((n, code) => n + code.byteLength, 0),
        gzipBytes: loaded.reduce((n, code) => n + gzipSync(code).byteLength, 0),
        mapBytes: Object.keys(metafile.outputs).filter((file) => file.endsWith('.map') && existsSync(join(PROJECT_ROOT, file))).reduce((n, file) => n + statSync(join(PROJECT_ROOT, file)).size, 0),
        totalBytes: all.reduce((n, file) => n + statSync(join(PROJECT_ROOT, file)).size, 0),
        files: all.length,
      };
    }
    const runner = join(dir, 'runner.mjs');
    writeFileSync(runner, RUNNER);

    // As deployed, NODE_OPTIONS=--enable-source-maps (lib/kallisti-function.ts); the real
    // bundles also run without it, to show what the source maps cost at start-up.
    const variants: Variant[] = [];
    for (const name of ['api', 'api floor', 'worker', 'worker floor']) {
      const fn: LambdaName = name.startsWith('api') ? 'api' : 'worker';
      variants.push({ name, function: fn, bundle: (bundles[name] as { path: string }).path, sourceMaps: true });
    }
    variants.push({ name: 'api, no source maps', function: 'api', bundle: (bundles['api'] as { path: string }).path, sourceMaps: false });
    variants.push({ name: 'worker, no source maps', function: 'worker', bundle: (bundles['worker'] as { path: string }).path, sourceMaps: false });

    const rounds = Math.max(15, context.rounds(25));
    const warmup = 2;
    const samples = new Map<string, RunResult[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < warmup + rounds; round += 1) {
      context.progress(`lambda: cold starts, round ${round + 1 - warmup}/${rounds}${round < warmup ? ' (warm-up)' : ''}`);
      for (let i = 0; i < variants.length; i += 1) {
        const variant = variants[(round + i) % variants.length] as Variant;
        const result = await runOnce(runner, variant, dir);
        if (round >= warmup) samples.get(variant.name)?.push(result);
      }
    }
    const stats = (name: string, pick: (r: RunResult) => number): Summary => summarize((samples.get(name) ?? []).map(pick));
    const cold: Record<string, unknown> = {};
    for (const v of variants) {
      cold[v.name] = {
        sourceMaps: v.sourceMaps,
        initMs: rounded(stats(v.name, (r) => r.initMs), 1),
        importMs: rounded(stats(v.name, (r) => r.importMs), 1),
        handleMs: rounded(stats(v.name, (r) => r.handleMs), 1),
        processMs: rounded(stats(v.name, (r) => r.processMs), 1),
        cpuMs: rounded(stats(v.name, (r) => r.cpuMs), 1),
      };
    }

    const rows: Row[] = [];
    const data: Record<string, unknown> = { bundles: {}, coldStart: cold, rounds, entries: LAMBDA_ENTRIES };
    for (const fn of ['api', 'worker'] as const) {
      const size = bundles[fn] as { bytes: number; gzipBytes: number; mapBytes: number; totalBytes: number; files: number };
      const floorSize = bundles[`${fn} floor`] as { bytes: number; gzipBytes: number; mapBytes: number; totalBytes: number; files: number };
      (data['bundles'] as Record<string, unknown>)[fn] = { ...size, path: undefined };
      (data['bundles'] as Record<string, unknown>)[`${fn} floor`] = { ...floorSize, path: undefined };
      rows.push({
        benchmark: `Lambda ${fn}: bundle loaded at cold start (minified; all ${size.files} files: ${kib(size.totalBytes)})`,
        measured: `${kib(size.bytes)} (gzip ${kib(size.gzipBytes)})`,
        floor: kib(floorSize.bytes),
        ratio: times(size.bytes / floorSize.bytes),
        target: '≤ 1 MB',
        result: verdict(size.bytes <= ONE_MB),
      });
      const init = stats(fn, (r) => r.initMs);
      const floorInit = stats(`${fn} floor`, (r) => r.initMs);
      const ratio = ratios(init, floorInit);
      (data['coldStart'] as Record<string, Record<string, unknown>>)[fn] = { ...(cold[fn] as object), ratioToFloor: { median: round(ratio.median), p95: round(ratio.p95) } };
      rows.push({
        benchmark: `Lambda ${fn}: cold init (import + first event), source maps on`,
        measured: medP95(init),
        floor: medP95(floorInit),
        ratio: times(ratio.median),
        target: `≤ ${TARGET_RATIO}×`,
        result: verdict(ratio.median <= TARGET_RATIO),
      });
      const cpu = stats(fn, (r) => r.cpuMs);
      const floorCpu = stats(`${fn} floor`, (r) => r.cpuMs);
      rows.push({
        benchmark: `  same, CPU time (user + system) instead of wall time`,
        measured: medP95(cpu),
        floor: medP95(floorCpu),
        ratio: times(ratios(cpu, floorCpu).median),
        result: 'info',
      });
      const noMaps = stats(`${fn}, no source maps`, (r) => r.initMs);
      rows.push({
        benchmark: `  same without --enable-source-maps`,
        measured: medP95(noMaps),
        floor: medP95(floorInit),
        ratio: times(noMaps.median / floorInit.median),
        result: 'info',
      });
    }
    const instructions = await countColdInit(
      runner,
      dir,
      ['api', 'api floor', 'api required floor', 'worker', 'worker floor'].map((name) => ({ name, kind: name.startsWith('api') ? 'api' : 'worker', bundle: (bundles[name] as { path: string }).path })),
      { PATH: process.env['PATH'] ?? '', ...LAMBDA_ENV },
      context.progress,
    );
    rows.push(...instructions.rows);
    data['instructions'] = instructions.data;
    return { rows, data };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
