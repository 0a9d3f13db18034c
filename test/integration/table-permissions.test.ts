/**
 * What each function's code sends to DynamoDB, recorded on dynalite, against what its role
 * is granted in the synthesized stack: on AWS anything else is AccessDenied, which no
 * local test would otherwise notice.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoScheduleStore } from '../../functions/adapters/dynamodb/schedule-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import type { ScheduleFiring } from '../../functions/ports.js';
import { makeFireSchedule } from '../../functions/use-cases/fire-schedule.js';
import { makeWatchdog } from '../../functions/use-cases/watchdog.js';
import { uuidIds } from '../../functions/wiring.js';
import { actions, getAtt, resource, resourceList, roleStatements, synth, type Synthesized } from '../cdk/synth.js';
import { RecordingCloud, startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Body = Record<string, unknown>;
type Harness = Awaited<ReturnType<typeof startApiHarness>>;

interface Call {
  action: string;
  index: boolean;
}

/** Every request the client sends from now on, as the IAM action it needs and whether it names an index. */
function recordCalls(client: DynamoDBDocumentClient): Call[] {
  const calls: Call[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { IndexName?: unknown };
      calls.push({ action: `dynamodb:${String(context.commandName).replace(/Command$/, '')}`, index: typeof input.IndexName === 'string' });
      return next(args);
    },
    { step: 'initialize', name: 'recordTableCalls' },
  );
  return calls;
}

/** The calls the role does not allow on the table (or, for a call naming an index, on the table's indexes). */
function notGranted(s: Synthesized, rolePrefix: string, calls: Call[]): string[] {
  const [roleId] = resource(s.template, 'AWS::IAM::Role', rolePrefix);
  const [table] = resource(s.template, 'AWS::DynamoDB::Table', 'DataTable');
  const tableArn = JSON.stringify(getAtt(table));
  const indexArn = JSON.stringify({ 'Fn::Join': ['', [getAtt(table), '/index/*']] });
  const statements = roleStatements(s.template, roleId);
  const allowed = (call: Call) =>
    statements.some((st) => actions(st).includes(call.action) && resourceList(st).some((r) => JSON.stringify(r) === (call.index ? indexArn : tableArn)));
  return [...new Set(calls.filter((call) => !allowed(call)).map((call) => `${call.action}${call.index ? ' on an index' : ''}`))];
}

let stack: Synthesized;
let api: Harness;

beforeAll(() => {
  stack = synth();
});
beforeEach(async () => {
  api = await startApiHarness();
});
afterEach(() => api.close());

const experiment = async (): Promise<string> => String(((await api.call('POST', '/experiment', experimentBody({ pre_steps: [], steps: [] }))).body as Body)['id']);

describe('DynamoDB permissions', () => {
  it('the API role allows what engaging a halt sends (the sweep of unfinished trials), besides the usual reads and writes', async () => {
    const calls = recordCalls(api.dynamo.documentClient);
    const experimentId = await experiment();
    const trialId = String(((await api.call('POST', '/trial', { experiment: experimentId })).body as Body)['id']);
    expect((await api.call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '0 9 * * *' })).status).toBe(201);
    expect((await api.call('GET', '/trial')).status).toBe(200);
    expect((await api.call('PUT', '/safety/halt', { reason: 'incident' })).body).toMatchObject({ stopped_trials: [trialId] });
    expect((await api.call('DELETE', `/experiment/${experimentId}`)).status).toBe(204);
    expect(notGranted(stack, 'ApiFunctionRole', calls)).toEqual([]);
  });

  it('the worker role allows what a firing of an overlap-skip schedule sends (its previous trial, from the schedule index)', async () => {
    const experimentId = await experiment();
    const schedule = (await api.call('POST', `/experiment/${experimentId}/schedule`, { recurrence_pattern: '0 9 * * *', overlap: 'skip' })).body as Body;
    const { documentClient } = api.dynamo;
    const fire = makeFireSchedule({
      experiments: new DynamoExperimentStore(documentClient, api.dynamo.tableName),
      trials: new DynamoTrialStore(documentClient, api.dynamo.tableName),
      schedules: new DynamoScheduleStore(documentClient, api.dynamo.tableName),
      cloud: new RecordingCloud(),
      clock: { now: () => new Date('2030-01-01T09:00:01Z') },
      ids: uuidIds,
    });
    const firing: ScheduleFiring = {
      kind: 'schedule-firing',
      schedule_id: String(schedule['id']),
      experiment_id: experimentId,
      schedule_arn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/kallisti-dev/s',
      scheduled_time: '2030-01-01T09:00:00Z',
      generation: Number(schedule['generation']),
    };
    const calls = recordCalls(documentClient);
    expect(await fire(firing)).toEqual(expect.any(String));
    expect(notGranted(stack, 'WorkerFunctionRole', calls)).toEqual([]);
  });

  it('the watchdog role allows what ending a trial whose message was lost sends', async () => {
    const trialId = String(((await api.call('POST', '/trial', { experiment: await experiment() })).body as Body)['id']);
    const watchdog = makeWatchdog({
      trials: new DynamoTrialStore(api.dynamo.documentClient, api.dynamo.tableName),
      probe: { isEmpty: async () => true },
      recoveries: { enqueueRecovery: async () => undefined },
      clock: { now: () => new Date(Date.now() + 60 * 60_000) },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const calls = recordCalls(api.dynamo.documentClient);
    expect((await watchdog()).findings).toEqual([expect.objectContaining({ trialId, action: 'aborted' })]);
    expect(notGranted(stack, 'WatchdogFunctionRole', calls)).toEqual([]);
  });
});
