/**
 * Scheduling cost as the number of stored schedules grows (10, 1,000, 100,000):
 * one firing (`makeFireSchedule(...)(firing)`: time and store calls), the first page
 * of GET /experiment/{id}/schedule, and local-mode start-up, which arms every schedule
 * (`LocalScheduler.armAll`). Schedules are inserted with BatchWriteItem in the item
 * shape `DynamoScheduleStore.create` writes, on disk like `npm start`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoScheduleStore } from '../../functions/adapters/dynamodb/schedule-store.js';
import { LocalScheduler } from '../../functions/adapters/local/local-scheduler.js';
import { startLocalDynamo } from '../../functions/adapters/local/dynalite.js';
import type { Schedule } from '../../functions/domain/schedule.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import type { CloudScheduler, ScheduleFiring } from '../../functions/ports.js';
import { makeFireSchedule, type FireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { systemClock, uuidIds } from '../../functions/wiring.js';
import { CommandCounter, type CallCounts } from '../lib/command-counter.js';
import { QuietLogger } from '../lib/env.js';
import { experimentFrom, scheduleItem, typicalExperimentBody } from '../lib/fixtures.js';
import { expectStatus, keepAliveAgent } from '../lib/http.js';
import { ms, times, verdict, type Row } from '../lib/report.js';
import { round, rounded, summarize, type Summary } from '../lib/stats.js';
import type { SuiteContext, SuiteResult } from './suite.js';

const TABLE = 'kallisti';
const SMALL_SIZES = [10, 1000];
const LARGE_SIZE = 100_000;
const FALLBACK_SIZE = 10_000;
/** Above this predicted insert time the large size is replaced by FALLBACK_SIZE and extrapolated. */
const MAX_INSERT_SECONDS = 240;
/** "Flat": the largest size within this factor of the smallest (medians on a noisy machine). */
const FLAT_FACTOR = 1.5;

interface SizeResult {
  schedules: number;
  insertSeconds: number;
  insertPerSecond: number;
  startupMs: number;
  armAllMs: Summary;
  /** Paging through every schedule without arming: the store's share of armAll. */
  listAllOnlyMs: Summary;
  armAllStoreCalls: CallCounts;
  listFirstPageMs: Summary;
  listFirstPageStoreCalls: CallCounts;
  firingMs: { counted: Summary; forever: Summary };
  /** One consistent GetItem of a schedule on the same store, timed in the same rounds: how the storage engine itself scales. */
  getItemMs: Summary;
  firingStoreCalls: { counted: CallCounts; forever: CallCounts };
}

type Kind = 'counted' | 'forever';

/** One size, started: its data directory and the local server running on it. */
interface Prepared {
  size: number;
  dataDir: string;
  experimentId: string;
  targets: Record<Kind, Schedule>;
  insertSeconds: number;
  insertPerSecond: number;
  startupMs: number;
  server: LocalServer;
  counter: CommandCounter;
  fire: FireSchedule;
  logger: QuietLogger;
}

const noopCloud: CloudScheduler = {
  arm: async () => undefined,
  disarm: async () => undefined,
  remove: async () => undefined,
  list: async function* () {
    yield [];
  },
};

async function batchInsert(client: DynamoDBDocumentClient, items: Record<string, unknown>[], concurrency = 4): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as Record<string, unknown>[];
        let pending: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [TABLE]: batch.map((Item) => ({ PutRequest: { Item } })) };
        while (pending && Object.keys(pending).length > 0) {
          const { UnprocessedItems } = await client.send(new BatchWriteCommand({ RequestItems: pending }));
          pending = UnprocessedItems as typeof pending;
        }
      }
    }),
  );
}

/** Writes `size` schedules (two of them the firing targets) into a fresh data directory, then starts local mode on it, timed. */
async function prepare(size: number, context: SuiteContext): Promise<Prepared> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kallisti-bench-schedules-'));
  try {
    return await prepareIn(dataDir, size, context);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function prepareIn(dataDir: string, size: number, context: SuiteContext): Promise<Prepared> {
  const logger = new QuietLogger();
  context.progress(`scheduling: inserting ${size.toLocaleString('en-US')} schedules`);
  const experiment = experimentFrom(typicalExperimentBody());
  const hour = new Date().getUTCHours();
  const targets: Record<Kind, Schedule> = {
    counted: { ...scheduleItem(experiment.id, 0, hour).schedule, recurrence_count: 1_000_000, recurrence_left: 1_000_000 },
    forever: { ...scheduleItem(experiment.id, 1, hour).schedule, recurrence_count: null, recurrence_left: null },
  };
  const items = Array.from({ length: size - 2 }, (_, i) => scheduleItem(experiment.id, i + 2, hour).item);
  const seed = await startLocalDynamo({ path: dataDir, tableName: TABLE });
  let insertSeconds: number;
  try {
    await new DynamoExperimentStore(seed.documentClient, TABLE).create(experiment);
    const scheduleStore = new DynamoScheduleStore(seed.documentClient, TABLE);
    await scheduleStore.create(targets.counted);
    await scheduleStore.create(targets.forever);
    const insertStart = performance.now();
    await batchInsert(seed.documentClient, items);
    insertSeconds = (performance.now() - insertStart) / 1000;
  } finally {
    await seed.close();
  }

  // Local-mode start-up on that directory: open the store, resume the worker, arm every schedule.
  context.progress(`scheduling: start-up with ${size.toLocaleString('en-US')} schedules`);
  const startupStart = performance.now();
  const server = await startLocalServer({ port: 0, dataDir, logger });
  const startupMs = performance.now() - startupStart;
  if (server.scheduler.size !== size) {
    await server.close();
    throw new Error(`start-up armed ${server.scheduler.size} schedules, expected ${size}`);
  }
  const counter = new CommandCounter().attach(server.dynamo.documentClient);
  const fire = makeFireSchedule({ ...server.stores, cloud: noopCloud, clock: systemClock, ids: uuidIds, logger });
  return {
    size,
    dataDir,
    experimentId: experiment.id,
    targets,
    insertSeconds,
    insertPerSecond: items.length / Math.max(insertSeconds, 1e-3),
    startupMs,
    server,
    counter,
    fire,
    logger,
  };
}

/** Prepares the small sizes, then the size `pickLarge` chooses from the insert rate seen, then measures all of them interleaved. */
async function measureAll(small: number[], pickLarge: (insertPerSecond: number) => number, context: SuiteContext): Promise<SizeResult[]> {
  const prepared: Prepared[] = [];
  const agent = keepAliveAgent();
  try {
    for (const size of small) prepared.push(await prepare(size, context));
    prepared.push(await prepare(pickLarge((prepared.at(-1) as Prepared).insertPerSecond), context));
    const each = (round: number) => prepared.map((_, i) => prepared[(round + i) % prepared.length] as Prepared);

    // armAll alone, on a fresh scheduler each time (its timers are cleared after), and
    // the same paging without arming; sizes in rotating order each round.
    context.progress('scheduling: arming all schedules');
    const armSamples = new Map<Prepared, number[]>(prepared.map((p) => [p, []]));
    const listAllSamples = new Map<Prepared, number[]>(prepared.map((p) => [p, []]));
    const armCalls = new Map<Prepared, CallCounts>();
    for (let round = 0; round < context.rounds(3); round += 1) {
      for (const p of each(round)) {
        const scheduler = new LocalScheduler({ clock: systemClock, fire: () => p.logger.error('a benchmark schedule fired') });
        p.counter.reset();
        let start = performance.now();
        const armed = await scheduler.armAll(p.server.stores.schedules);
        armSamples.get(p)?.push(performance.now() - start);
        armCalls.set(p, p.counter.take());
        scheduler.stop();
        if (armed !== p.size) throw new Error(`armAll armed ${armed}, expected ${p.size}`);
        start = performance.now();
        let nextToken: string | undefined;
        do nextToken = (await p.server.stores.schedules.listAll({ limit: 500, nextToken })).nextToken;
        while (nextToken);
        listAllSamples.get(p)?.push(performance.now() - start);
      }
    }

    // The first page of the experiment's schedules through the API, and one firing of
    // each kind, interleaved over the sizes; every firing has its own minute.
    context.progress('scheduling: list page and firings');
    const listSamples = new Map<Prepared, number[]>(prepared.map((p) => [p, []]));
    const listCalls = new Map<Prepared, CallCounts>();
    const firingSamples = new Map<string, number[]>();
    const getItemSamples = new Map<Prepared, number[]>(prepared.map((p) => [p, []]));
    const firingCalls = new Map<string, CallCounts>();
    const base = Math.ceil(Date.now() / 60_000) * 60_000;
    const warmup = 5;
    const rounds = context.rounds(40);
    for (let round = 0; round < warmup + rounds; round += 1) {
      for (const p of each(round)) {
        p.counter.reset();
        let start = performance.now();
        const answer = await expectStatus(agent, p.server.url, 'GET', `/experiment/${p.experimentId}/schedule`, 200);
        const listMs = performance.now() - start;
        listCalls.set(p, p.counter.take());
        if ((JSON.parse(answer.body) as unknown[]).length !== Math.min(50, p.size)) throw new Error('unexpected first page length');
        if (round >= warmup) listSamples.get(p)?.push(listMs);
        const key = { pk: `EXPERIMENT#${p.experimentId}`, sk: `SCHEDULE#${p.targets.counted.id}` };
        start = performance.now();
        await p.server.dynamo.documentClient.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
        if (round >= warmup) getItemSamples.get(p)?.push(performance.now() - start);
        for (const kind of round % 2 === 0 ? (['counted', 'forever'] as const) : (['forever', 'counted'] as const)) {
          const schedule = p.targets[kind];
          const firing: ScheduleFiring = {
            kind: 'schedule-firing',
            schedule_id: schedule.id,
            experiment_id: schedule.experiment_id,
            schedule_arn: `bench:${schedule.id}`,
            generation: schedule.generation,
            scheduled_time: new Date(base + round * 60_000).toISOString(),
          };
          p.counter.reset();
          start = performance.now();
          const trialId = await p.fire(firing);
          const fireMs = performance.now() - start;
          firingCalls.set(`${p.size}:${kind}`, p.counter.take());
          if (!trialId) throw new Error(`firing of the ${kind} schedule started no trial`);
          if (round >= warmup) {
            const key = `${p.size}:${kind}`;
            firingSamples.set(key, [...(firingSamples.get(key) ?? []), fireMs]);
          }
        }
      }
    }
    for (const p of prepared) if (p.logger.problems.length > 0) throw new Error(`problems while measuring: ${p.logger.problems.slice(0, 3).join('; ')}`);

    return prepared.map((p) => ({
      schedules: p.size,
      insertSeconds: round(p.insertSeconds, 1),
      insertPerSecond: Math.round(p.insertPerSecond),
      startupMs: round(p.startupMs, 1),
      armAllMs: rounded(summarize(armSamples.get(p) ?? []), 1),
      listAllOnlyMs: rounded(summarize(listAllSamples.get(p) ?? []), 1),
      armAllStoreCalls: armCalls.get(p) as CallCounts,
      listFirstPageMs: rounded(summarize(listSamples.get(p) ?? [])),
      listFirstPageStoreCalls: listCalls.get(p) as CallCounts,
      firingMs: { counted: rounded(summarize(firingSamples.get(`${p.size}:counted`) ?? [])), forever: rounded(summarize(firingSamples.get(`${p.size}:forever`) ?? [])) },
      getItemMs: rounded(summarize(getItemSamples.get(p) ?? [])),
      firingStoreCalls: { counted: firingCalls.get(`${p.size}:counted`) as CallCounts, forever: firingCalls.get(`${p.size}:forever`) as CallCounts },
    }));
  } finally {
    agent.destroy();
    for (const p of prepared) {
      await p.server.close();
      rmSync(p.dataDir, { recursive: true, force: true });
    }
  }
}

const callsText = (c: CallCounts) => `${c.reads} reads + ${c.writes} writes${c.failedConditionalWrites ? ` (${c.failedConditionalWrites} refused)` : ''}`;

export async function runScheduling(context: SuiteContext, options: { maxSchedules?: number } = {}): Promise<SuiteResult> {
  let predicted = 0;
  const pickLarge = (insertPerSecond: number): number => {
    predicted = LARGE_SIZE / insertPerSecond;
    if (options.maxSchedules !== undefined && options.maxSchedules < LARGE_SIZE) return Math.max(SMALL_SIZES.at(-1) as number, options.maxSchedules);
    return predicted > MAX_INSERT_SECONDS ? FALLBACK_SIZE : LARGE_SIZE;
  };
  const results = await measureAll(SMALL_SIZES, pickLarge, context);
  const first = results[0] as SizeResult;
  const fullPage = results[1] as SizeResult;
  const last = results.at(-1) as SizeResult;
  const extrapolated = last.schedules < LARGE_SIZE;
  const label = (n: number) => n.toLocaleString('en-US');
  const rows: Row[] = [];
  const sizes = results.map((r) => label(r.schedules)).join(' / ');
  const perSize = (pick: (r: SizeResult) => number) => results.map((r) => ms(pick(r))).join(' / ');

  // Flat: the same store calls at every size, and the firing's time, relative to one bare
  // GetItem on the same store in the same rounds, grows by at most FLAT_FACTOR.
  const getItemGrowth = last.getItemMs.median / first.getItemMs.median;
  for (const kind of ['counted', 'forever'] as const) {
    const growth = last.firingMs[kind].median / first.firingMs[kind].median;
    const sameCalls = results.every((r) => callsText(r.firingStoreCalls[kind]) === callsText(first.firingStoreCalls[kind]));
    rows.push({
      benchmark: `One firing (${kind} schedule), ${sizes} schedules`,
      measured: `${perSize((r) => r.firingMs[kind].median)}; ${callsText(last.firingStoreCalls[kind])}`,
      floor: `GetItem ${perSize((r) => r.getItemMs.median)}`,
      ratio: `${times(growth)} vs GetItem ${times(getItemGrowth)}`,
      target: `flat (≤ ${FLAT_FACTOR}× of GetItem, same calls)`,
      result: verdict(growth / getItemGrowth <= FLAT_FACTOR && sameCalls),
    });
  }
  // 10 schedules fill a page of 10; from 1,000 on every size answers a full page of 50.
  const listGrowth = last.listFirstPageMs.median / fullPage.listFirstPageMs.median;
  rows.push({
    benchmark: `GET /experiment/{id}/schedule page 1, ${sizes}`,
    measured: `${perSize((r) => r.listFirstPageMs.median)}; ${callsText(last.listFirstPageStoreCalls)}`,
    ratio: `${times(listGrowth)} (${label(last.schedules)} vs ${label(fullPage.schedules)})`,
    target: `flat (≤ ${FLAT_FACTOR}×)`,
    result: verdict(listGrowth <= FLAT_FACTOR),
  });
  const perSchedule = (r: SizeResult, pick: (r: SizeResult) => number) => (pick(r) * 1000) / r.schedules;
  rows.push({
    benchmark: `LocalScheduler.armAll, ${sizes}`,
    measured: `${perSize((r) => r.armAllMs.median)} (${perSchedule(last, (r) => r.armAllMs.median).toFixed(0)} µs/schedule, of which store paging ${perSchedule(last, (r) => r.listAllOnlyMs.median).toFixed(0)})`,
    result: 'info',
  });
  rows.push({ benchmark: `Local start-up (npm start path), ${sizes}`, measured: perSize((r) => r.startupMs), result: 'info' });
  if (extrapolated) {
    const factor = LARGE_SIZE / last.schedules;
    rows.push({
      benchmark: `  extrapolated to ${label(LARGE_SIZE)} (linear)`,
      measured: `armAll ≈ ${ms(last.armAllMs.median * factor)}, start-up ≈ ${ms(last.startupMs * factor)}`,
      result: 'info',
    });
  }
  return {
    rows,
    data: {
      sizes: results,
      largeSizeMeasured: last.schedules,
      extrapolatedTo100k: extrapolated,
      predictedInsertSecondsFor100k: round(predicted, 1),
      flatFactor: FLAT_FACTOR,
    },
  };
}
