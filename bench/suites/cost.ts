/**
 * Cost model: AWS cost per 1,000 scheduled trials from the counts the other
 * benchmarks measured (store calls, capacity units, stop polling, the executor's
 * own time), at public on-demand list prices, against one always-on small
 * instance plus a small Postgres, the way Kallisti runs.
 */
import { round } from '../lib/stats.js';
import type { Row } from '../lib/report.js';
import type { SuiteResult } from './suite.js';

/** us-east-1 on-demand list prices as published in 2025; check the pricing pages before relying on them. */
export const PRICES = {
  asOf: 'as published in 2025 (us-east-1, on-demand); check the AWS pricing pages',
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  sqsFifoPerMillionRequests: 0.5,
  schedulerPerMillionInvocations: 1.0,
  schedulerFreeInvocationsPerMonth: 14_000_000,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  apiGatewayRestPerMillion: 3.5,
  cloudWatchAlarmPerMonth: 0.1,
  ec2T4gSmallPerHour: 0.0168,
  rdsT4gMicroPerHour: 0.016,
  hoursPerMonth: 730,
} as const;

/** What the deployed stack uses (lib/kallisti-stack.ts, lib/alarms.ts). */
const WORKER_MEMORY_GB = 1;
const ALARMS = 5;
/** Assumed DynamoDB latency per call from Lambda in the same region (typical single-digit ms); dynalite on loopback is faster. */
const AWS_STORE_CALL_MS = 8;
/** Per message: SendMessage (by Scheduler), ReceiveMessage and DeleteMessage (by Lambda's poller). */
const SQS_REQUESTS_PER_MESSAGE = 3;
/**
 * Idle long polling by Lambda's event source mapping (20 s waits): about 5 pollers
 * x 3 requests a minute; an estimate, AWS does not publish the poller count.
 */
const IDLE_POLL_REQUESTS_PER_MONTH = 5 * 3 * 60 * PRICES.hoursPerMonth;
/** A strongly consistent read costs 1 RRU per 4 KB; a write 1 WRU per 1 KB. */
const READ_UNIT_BYTES = 4096;

export interface CostInputs {
  /** Executor, typical trial (1 pre step, 3 steps, 1 post step), current code. */
  execution: { reads: number; writes: number; readUnits: number; writeUnits: number; finalItemBytes: number; ownMs: number };
  /** One firing of a counted schedule (fire-schedule). */
  firing: { reads: number; writes: number; ownMs: number };
  /** Stop polling while a step runs. */
  pollReadsPerSecond: number;
  /** Worker cold init measured locally (ms); billed since AWS bills the init phase. */
  workerInitMs: number;
}

interface Scenario {
  name: string;
  waitSeconds: number;
  coldStartEveryTrial: boolean;
}

function perThousand(inputs: CostInputs, scenario: Scenario) {
  const n = 1000;
  // DynamoDB. Trial items are projected in full into gsi1 and gsi2, so every trial write is billed 3x
  // (the table and two index copies); a scheduled trial's status changes also touch gsi3 (2 writes) and
  // its end removes it from gsi4 (1). A firing writes a small firing item (1 WRU, no index), updates the
  // schedule (1 WRU + 1 for its gsi1 copy) and creates the trial (table + gsi1 + gsi2 + gsi3 + gsi4).
  const firingWru = 1 + 2 + 5;
  const firingRru = inputs.firing.reads;
  const execWru = inputs.execution.writeUnits * 3 + 3;
  const pollReads = scenario.waitSeconds * inputs.pollReadsPerSecond;
  const pollRru = pollReads * Math.max(1, Math.ceil(inputs.execution.finalItemBytes / READ_UNIT_BYTES));
  const execRru = inputs.execution.readUnits + pollRru;
  const dynamo = (n * (firingWru + execWru) * PRICES.dynamoWritePerMillion + n * (firingRru + execRru) * PRICES.dynamoReadPerMillion) / 1e6;

  const scheduler = (n * PRICES.schedulerPerMillionInvocations) / 1e6;
  const sqs = (n * SQS_REQUESTS_PER_MESSAGE * PRICES.sqsFifoPerMillionRequests) / 1e6;

  // Lambda: the executor's own work (its store calls at AWS latency plus the time measured here), the
  // waits, and the init phase. Stop polls run during the waits, so they add reads but no duration.
  const calls = inputs.execution.reads + inputs.execution.writes + inputs.firing.reads + inputs.firing.writes;
  const ownSeconds = (calls * AWS_STORE_CALL_MS + inputs.execution.ownMs + inputs.firing.ownMs) / 1000;
  const initSeconds = scenario.coldStartEveryTrial ? inputs.workerInitMs / 1000 : 0;
  const seconds = ownSeconds + scenario.waitSeconds + initSeconds;
  const lambda = (n * seconds * WORKER_MEMORY_GB * PRICES.lambdaArmPerGbSecond) + (n * PRICES.lambdaPerMillionRequests) / 1e6;

  const total = dynamo + scheduler + sqs + lambda;
  return {
    scenario: scenario.name,
    perTrial: { dynamoWru: firingWru + execWru, dynamoRru: round(firingRru + execRru, 1), storeCalls: round(calls + pollReads, 1), lambdaSeconds: round(seconds, 3), sqsRequests: SQS_REQUESTS_PER_MESSAGE, schedulerInvocations: 1 },
    usd: { dynamo: round(dynamo, 5), scheduler: round(scheduler, 5), sqs: round(sqs, 5), lambda: round(lambda, 5), total: round(total, 5) },
  };
}

export function runCost(inputs: CostInputs): SuiteResult {
  const scenarios: Scenario[] = [
    { name: "executor's own work (no waits), warm worker", waitSeconds: 0, coldStartEveryTrial: false },
    { name: "executor's own work, a cold start every trial (sparse schedules)", waitSeconds: 0, coldStartEveryTrial: true },
    { name: 'typical trial with 10 minutes of waits', waitSeconds: 600, coldStartEveryTrial: true },
    { name: 'a 30-minute cm.wait (over Lambda’s 900 s: not runnable today)', waitSeconds: 1800, coldStartEveryTrial: true },
  ];
  const results = scenarios.map((s) => perThousand(inputs, s));
  const instanceMonthly = (PRICES.ec2T4gSmallPerHour + PRICES.rdsT4gMicroPerHour) * PRICES.hoursPerMonth;
  const serverlessFixedMonthly = ALARMS * PRICES.cloudWatchAlarmPerMonth + (IDLE_POLL_REQUESTS_PER_MONTH * PRICES.sqsFifoPerMillionRequests) / 1e6;
  const breakEven = results.map((r) => ({ scenario: r.scenario, trialsPerMonth: Math.round(((instanceMonthly - serverlessFixedMonthly) / r.usd.total) * 1000) }));

  const usd = (value: number) => (value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`);
  const rows: Row[] = results.map((r, i) => ({
    benchmark: `AWS $ per 1,000 scheduled trials: ${r.scenario}`,
    measured: `${usd(r.usd.total)} (Lambda ${usd(r.usd.lambda)}, DynamoDB ${usd(r.usd.dynamo)}, SQS ${usd(r.usd.sqs)}, Scheduler ${usd(r.usd.scheduler)})`,
    floor: `always-on $${instanceMonthly.toFixed(2)}/month`,
    ratio: `break-even ${(breakEven[i] as { trialsPerMonth: number }).trialsPerMonth.toLocaleString('en-US')} trials/month`,
    result: 'info',
  }));
  rows.push({
    benchmark: 'Always-on (t4g.small + db.t4g.micro) vs serverless fixed cost, per month',
    measured: `$${serverlessFixedMonthly.toFixed(2)} serverless (5 alarms, idle queue polling)`,
    floor: `$${instanceMonthly.toFixed(2)} always-on`,
    result: 'info',
  });
  return {
    rows,
    data: {
      prices: PRICES,
      assumptions: {
        workerMemoryGB: WORKER_MEMORY_GB,
        awsStoreCallMs: AWS_STORE_CALL_MS,
        sqsRequestsPerMessage: SQS_REQUESTS_PER_MESSAGE,
        idlePollRequestsPerMonth: IDLE_POLL_REQUESTS_PER_MONTH,
        alarms: ALARMS,
        freeTiersIgnored: 'Lambda 400,000 GB-s and 1M requests a month, SQS 1M requests, Scheduler 14M invocations are left out of every figure',
      },
      inputs,
      perThousandTrials: results,
      alwaysOnMonthlyUsd: round(instanceMonthly, 2),
      serverlessFixedMonthlyUsd: round(serverlessFixedMonthly, 2),
      breakEven,
    },
  };
}
