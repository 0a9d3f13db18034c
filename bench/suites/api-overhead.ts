/**
 * API overhead: each endpoint through the local server (HTTP → the Lambda handler →
 * stores → dynalite) against its floor, measured side by side in one run: the one
 * SDK call the endpoint cannot avoid, on the same dynalite and the same client, plus
 * one trivial HTTP round trip on loopback to a plain node:http server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalServer } from '../../functions/local/server.js';
import { QuietLogger } from '../lib/env.js';
import { experimentFrom, finishedTrial, typicalExperimentBody } from '../lib/fixtures.js';
import { expectStatus, httpCall, keepAliveAgent } from '../lib/http.js';
import { medP95, times, verdict, type Row } from '../lib/report.js';
import { interleave, ratios, rounded, summarize, type Summary } from '../lib/stats.js';
import type { SuiteContext, SuiteResult } from './suite.js';

const TARGET_RATIO = 1.5;
const TABLE = 'kallisti';

interface Endpoint {
  name: string;
  api: () => Promise<unknown>;
  /** The floor with a small answer ("200 {}"), as the issue defines it. */
  floor: () => Promise<unknown>;
  /** The same floor, but the plain server answers as many bytes as the API does. */
  floorSameBytes: () => Promise<unknown>;
}

/** A node:http server that answers 200 right away; `/bytes/<n>` answers n bytes. It writes its answer like the local server does. */
function startPlainServer(): Promise<Server> {
  const payloads = new Map<number, string>();
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const match = /^\/bytes\/(\d+)/.exec(request.url ?? '');
      let body = '{}';
      if (match) {
        const size = Number(match[1]);
        body = payloads.get(size) ?? `"${'x'.repeat(Math.max(0, size - 2))}"`;
        payloads.set(size, body);
      }
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export async function runApiOverhead(context: SuiteContext): Promise<SuiteResult> {
  const logger = new QuietLogger();
  const local = await startLocalServer({ port: 0, logger });
  const plain = await startPlainServer();
  const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  const apiAgent = keepAliveAgent();
  const plainAgent = keepAliveAgent();
  const client = local.dynamo.documentClient;
  try {
    // Data: one experiment to read, and 60 finished trials so GET /trial answers a full page of 50.
    const definition = typicalExperimentBody();
    const body = JSON.stringify(definition);
    const created = JSON.parse((await expectStatus(apiAgent, local.url, 'POST', '/experiment', 201, body)).body) as { id: string };
    for (let i = 0; i < 60; i += 1) await local.stores.trials.create(finishedTrial(created.id, i));

    // Each floor is the endpoint's one unavoidable SDK call plus a plain round trip; `plainPath`
    // is "/" (answers {}) or "/bytes/<n>" (answers as many bytes as the API did).
    const apiBytes = new Map<string, number>();
    const apiCall = (name: string, method: string, path: string, status: number, requestBody?: string) => async () => {
      const answer = await expectStatus(apiAgent, local.url, method, path, status, requestBody);
      apiBytes.set(name, Buffer.byteLength(answer.body));
    };
    const plainPath = (name: string, sameBytes: boolean) => (sameBytes ? `/bytes/${apiBytes.get(name) ?? 2}` : '/');
    const getFloor = (sameBytes: boolean) => async () => {
      await client.send(new GetCommand({ TableName: TABLE, Key: { pk: `EXPERIMENT#${created.id}`, sk: 'EXPERIMENT' }, ConsistentRead: true }));
      await httpCall(plainAgent, plainUrl, 'GET', plainPath('GET /experiment/{id}', sameBytes));
    };
    const putFloor = (sameBytes: boolean) => async () => {
      const experiment = experimentFrom(definition);
      const item = { ...experiment, pk: `EXPERIMENT#${experiment.id}`, sk: 'EXPERIMENT', type: 'EXPERIMENT', gsi1pk: 'EXPERIMENT', gsi1sk: `${experiment.created_at}#${experiment.id}` };
      await client.send(new PutCommand({ TableName: TABLE, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      await httpCall(plainAgent, plainUrl, 'POST', plainPath('POST /experiment', sameBytes), body);
    };
    const queryFloor = (sameBytes: boolean) => async () => {
      await client.send(queryTrials());
      await httpCall(plainAgent, plainUrl, 'GET', plainPath('GET /trial (page of 50)', sameBytes));
    };
    const endpoints: Endpoint[] = [
      { name: 'GET /experiment/{id}', api: apiCall('GET /experiment/{id}', 'GET', `/experiment/${created.id}`, 200), floor: getFloor(false), floorSameBytes: getFloor(true) },
      { name: 'POST /experiment', api: apiCall('POST /experiment', 'POST', '/experiment', 201, body), floor: putFloor(false), floorSameBytes: putFloor(true) },
      { name: 'GET /trial (page of 50)', api: apiCall('GET /trial (page of 50)', 'GET', '/trial?limit=50', 200), floor: queryFloor(false), floorSameBytes: queryFloor(true) },
    ];

    const rows: Row[] = [];
    const data: Record<string, unknown> = {};
    for (const endpoint of endpoints) {
      context.progress(`api: ${endpoint.name}`);
      const samples = await interleave({ api: endpoint.api, floor: endpoint.floor, floorSameBytes: endpoint.floorSameBytes }, context.rounds(500), context.rounds(50));
      const api = summarize(samples['api'] ?? []);
      const floor = summarize(samples['floor'] ?? []);
      const floorSameBytes = summarize(samples['floorSameBytes'] ?? []);
      const ratio = ratios(api, floor);
      const ratioSameBytes = ratios(api, floorSameBytes);
      data[endpoint.name] = {
        apiMs: rounded(api),
        floorMs: rounded(floor),
        floorSameBytesMs: rounded(floorSameBytes),
        ratio: { median: round2(ratio.median), p95: round2(ratio.p95) },
        ratioSameBytes: { median: round2(ratioSameBytes.median), p95: round2(ratioSameBytes.p95) },
        responseBytes: apiBytes.get(endpoint.name),
        target: `≤ ${TARGET_RATIO}× floor (median)`,
        met: ratio.median <= TARGET_RATIO,
      };
      rows.push(row(endpoint.name, api, floor, ratio.median));
      rows.push({
        benchmark: `  same, floor answering as many bytes`,
        measured: medP95(api),
        floor: medP95(floorSameBytes),
        ratio: times(ratioSameBytes.median),
        result: 'info',
      });
    }
    if (logger.problems.length > 0) data['loggedProblems'] = logger.problems.slice(0, 20);
    return { rows, data };
  } finally {
    apiAgent.destroy();
    plainAgent.destroy();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
    plain.closeAllConnections();
    await local.close();
  }
}

function queryTrials(): QueryCommand {
  return new QueryCommand({
    TableName: TABLE,
    IndexName: 'gsi1',
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': 'gsi1pk' },
    ExpressionAttributeValues: { ':pk': 'TRIAL' },
    ScanIndexForward: false,
    Limit: 50,
  });
}

function row(name: string, api: Summary, floor: Summary, ratio: number): Row {
  return { benchmark: name, measured: medP95(api), floor: medP95(floor), ratio: times(ratio), target: `≤ ${TARGET_RATIO}×`, result: verdict(ratio <= TARGET_RATIO) };
}

const round2 = (value: number): number => Math.round(value * 100) / 100;
