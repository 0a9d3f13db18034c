/**
 * Cold init counted in CPU instructions (valgrind's callgrind), not time: the count
 * does not move with what else the machine is doing, so the ratio to the floor can be
 * compared between runs on a busy, shared machine where wall and CPU times swing by
 * tens of percent. Each bundle runs once in a fresh process under callgrind; the
 * count of a process importing an empty handler is subtracted, leaving the import and
 * first event. V8 runs with --single-threaded: its background compiler and GC threads
 * otherwise do a varying share of the work (counts of one bundle then spread by
 * ±10 %; single-threaded, by under 1 %). Skipped (with a row saying so) when valgrind
 * is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { times, type Row } from '../lib/report.js';

export interface CountedBundle {
  name: string;
  kind: 'api' | 'worker';
  bundle: string;
}

function collected(output: string): number {
  const match = /Collected : (\d+)/.exec(output);
  if (!match) throw new Error(`callgrind printed no instruction count: ${output.slice(-400)}`);
  return Number(match[1]);
}

function count(runner: string, bundle: string, kind: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', '--enable-source-maps', runner, bundle, kind];
    const child = spawn('valgrind', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(collected(stderr)) : reject(new Error(`valgrind exited ${code}: ${stderr.slice(-400)}`))));
  });
}

export function valgrindAvailable(): boolean {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Instructions of import + first event for each bundle, and the ratio of each function to its floor. */
export async function countColdInit(
  runner: string,
  dir: string,
  bundles: readonly CountedBundle[],
  env: Record<string, string>,
  progress: (message: string) => void,
): Promise<{ rows: Row[]; data: Record<string, number> }> {
  if (!valgrindAvailable()) return { rows: [{ benchmark: 'Lambda cold init in instructions: skipped, valgrind is not installed', measured: '-', result: 'info' }], data: {} };
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  writeFileSync(join(empty, 'index.mjs'), 'export const handler = async () => ({ statusCode: 200, batchItemFailures: [] });\n');
  progress('lambda: instructions, a process with an empty handler');
  const baseline = await count(runner, join(empty, 'index.mjs'), 'api', env);
  const data: Record<string, number> = { baseline };
  for (const b of bundles) {
    progress(`lambda: instructions, ${b.name}`);
    data[b.name] = (await count(runner, b.bundle, b.kind, env)) - baseline;
  }
  const rows: Row[] = [];
  for (const fn of ['api', 'worker'] as const) {
    const own = data[fn];
    const floor = data[`${fn} floor`];
    if (own === undefined || floor === undefined) continue;
    rows.push({
      benchmark: `Lambda ${fn}: cold init in CPU instructions (callgrind, V8 single-threaded, above an empty handler's process)`,
      measured: `${(own / 1e6).toFixed(0)} M`,
      floor: `${(floor / 1e6).toFixed(0)} M`,
      ratio: times(own / floor),
      target: '≤ 1.2×',
      result: own / floor <= 1.2 ? 'met' : 'NOT MET',
    });
  }
  const required = data['api required floor'];
  const apiFloor = data['api floor'];
  if (required !== undefined && apiFloor !== undefined) {
    rows.push({
      benchmark: '  API floor + Powertools Logger and Metrics + middy router, nothing of ours (instructions)',
      measured: `${(required / 1e6).toFixed(0)} M`,
      floor: `${(apiFloor / 1e6).toFixed(0)} M`,
      ratio: times(required / apiFloor),
      result: 'info',
    });
  }
  return { rows, data };
}
