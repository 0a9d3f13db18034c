import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoSafetyStore } from '../../functions/adapters/dynamodb/safety-store.js';
import { DynamoScheduleStore } from '../../functions/adapters/dynamodb/schedule-store.js';
import { SafetyCounters } from '../../functions/metrics/safety-counters.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import { makeApiHandler } from '../../functions/api/app.js';
import { openAccess, type Authenticator } from '../../functions/api/identity.js';
import { makeRoutes } from '../../functions/api/routes.js';
import type { AppLogger } from '../../functions/logging.js';
import type { Clock, CloudScheduleEntry, CloudScheduler, TrialFinishedObserver, TrialQueue } from '../../functions/ports.js';
import { cloudScheduleName, parseCloudScheduleName } from '../../functions/adapters/scheduler/cloud-schedule-name.js';
import type { Schedule } from '../../functions/domain/schedule.js';
import { buildUseCases } from '../../functions/wiring.js';
import { DynamoNotificationStore } from '../../functions/adapters/dynamodb/notification-store.js';
import { publishFinishedTrials } from '../../functions/use-cases/trial-observers.js';
import { apiEvent, lambdaContext } from './api-events.js';
import { startTestDynamo } from './dynamo.js';

export class RecordingQueue implements TrialQueue {
  readonly sent: string[] = [];
  failNext = false;
  async enqueue(trialId: string): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue unavailable');
    }
    this.sent.push(trialId);
  }
  readonly woken: { trialId: string; receipt: string | undefined }[] = [];
  async wake(trialId: string, receipt: string | undefined): Promise<void> {
    this.woken.push({ trialId, receipt });
  }
}

/**
 * Records what the cloud side was asked, one entry per schedule generation (as
 * the real adapters name them); can be told to fail, like a throttled or broken Scheduler.
 */
export class RecordingCloud implements CloudScheduler {
  readonly generations = new Map<string, Schedule>();
  readonly calls: string[] = [];
  failNext = false;
  private check(what: string): void {
    this.calls.push(what);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('scheduler unavailable');
    }
  }
  /** The newest armed generation of each schedule, by schedule id. */
  get armed(): Map<string, Schedule> {
    const byId = new Map<string, Schedule>();
    for (const schedule of this.generations.values()) {
      const seen = byId.get(schedule.id);
      if (!seen || seen.generation < schedule.generation) byId.set(schedule.id, schedule);
    }
    return byId;
  }
  async arm(schedule: Schedule, replaces = true): Promise<void> {
    this.check(`arm ${schedule.id}`);
    const name = cloudScheduleName(schedule.id, schedule.generation, 0);
    if (!this.generations.has(name)) this.generations.set(name, structuredClone(schedule));
    if (replaces && schedule.generation > 0) this.generations.delete(cloudScheduleName(schedule.id, schedule.generation - 1, 0));
  }
  async disarm(schedule: Pick<Schedule, 'id' | 'generation'>): Promise<void> {
    this.check(`disarm ${schedule.id}`);
    this.generations.delete(cloudScheduleName(schedule.id, schedule.generation, 0));
    if (schedule.generation > 0) this.generations.delete(cloudScheduleName(schedule.id, schedule.generation - 1, 0));
  }
  async remove(nameOrArn: string): Promise<void> {
    this.check(`remove ${nameOrArn}`);
    this.generations.delete(nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1));
  }
  expectedNames(schedule: Schedule): string[] {
    return schedule.recurrence_left === null || schedule.recurrence_left > 0 ? [cloudScheduleName(schedule.id, schedule.generation, 0)] : [];
  }
  async *list(): AsyncIterable<CloudScheduleEntry[]> {
    yield [...this.generations.keys()].map((name) => ({ name, ...parseCloudScheduleName(name) }));
  }
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

/** The real API handler (router, validation, use cases) on dynalite, called with API Gateway events. */
export async function startApiHarness(options: { authenticator?: Authenticator; logger?: AppLogger; clock?: Clock; trialFinishedObservers?: TrialFinishedObserver[] } = {}) {
  const dynamo = await startTestDynamo();
  const queue = new RecordingQueue();
  const experiments = new DynamoExperimentStore(dynamo.documentClient, dynamo.tableName);
  const trials = new DynamoTrialStore(dynamo.documentClient, dynamo.tableName);
  const schedules = new DynamoScheduleStore(dynamo.documentClient, dynamo.tableName);
  const safety = new DynamoSafetyStore(dynamo.documentClient, dynamo.tableName);
  const metrics = new SafetyCounters();
  const cloud = new RecordingCloud();
  // Trials the API ends (a stop before they ran) are told to these observers, as the API Lambda tells EventBridge.
  const observed = publishFinishedTrials(trials, { observers: options.trialFinishedObservers ?? [], logger: options.logger ?? { info: () => undefined, warn: () => undefined, error: () => undefined } });
  const useCases = buildUseCases({ experiments, trials: observed, schedules, safety, metrics, notifications: new DynamoNotificationStore(dynamo.documentClient, dynamo.tableName), queue, cloud, logger: options.logger, clock: options.clock });
  const handler = makeApiHandler({ routes: makeRoutes({ ...useCases, docsAssetsBase: '/assets', info: { version: '0.1.0', platform: { TOKEN_URL: '', AUTHORIZE_URL: '' } } }), authenticator: options.authenticator ?? openAccess, logger: options.logger });

  async function call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<CallResult> {
    const result = await handler(apiEvent(method, path, body, headers), lambdaContext);
    const responseHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) responseHeaders[k] = String(v);
    let parsed: unknown = undefined;
    try {
      parsed = result.body ? JSON.parse(result.body) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: result.statusCode, headers: responseHeaders, body: parsed, text: result.body };
  }

  return { dynamo, queue, cloud, experiments, trials, schedules, safety, metrics, useCases, call, close: () => dynamo.close() };
}
