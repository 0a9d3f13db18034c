import { jest } from '@jest/globals';
import { isFinished, trialOf, until } from '../support/http-trials.js';
import { startLoopback, type Loopback } from '../support/loopback.js';
import { callJson, firingOf, type LocalHarness, localServerPerTest, waitFor } from '../support/local-server.js';

jest.setTimeout(30_000);

/** A loopback service the experiments probe and clean up after; counts every request by path. */
class Target {
  readonly hits = new Map<string, number>();
  private loopback!: Loopback;
  get url(): string {
    return this.loopback.url;
  }
  async start(): Promise<void> {
    this.loopback = await startLoopback((request, response) => {
      const path = request.url ?? '/';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    });
  }
  stop(): Promise<void> {
    return this.loopback.stop();
  }
}

const servers = localServerPerTest();
let local: LocalHarness;
let target: Target;

beforeEach(async () => {
  target = new Target();
  await target.start();
  local = await servers.start();
});
afterEach(() => target.stop());

const call = (method: string, path: string, body?: unknown) => callJson(local, method, path, body);
const trial = (id: string) => trialOf(local.server.url, id);
const finished = (id: string) => until(local.server.url, id, isFinished, 20_000);

async function experiment(team: string, waitSeconds: number): Promise<string> {
  const res = await call('POST', '/experiment', {
    name: `${team} drill`,
    metadata: { team },
    steps: [{ step: 'Inject and hold', do: 'cm.wait', where: { time_in_seconds: waitSeconds } }],
    post_steps: [{ step: 'Clean up', do: 'cm.http_request', where: { url: `${target.url}/cleanup/${team}`, method: 'POST' }, expect: [{ operator: 'eq', status_code: 200 }] }],
  });
  return String(res.body['id']);
}

describe('halts in local mode', () => {
  it('stops a running trial in scope (post steps run, the record names the halt), refuses a new one and leaves other teams alone', async () => {
    const payments = await experiment('payments', 60);
    const running = String((await call('POST', '/trial', { experiment: payments })).body['id']);
    await waitFor(async () => ((await trial(running)).status === 'In Progress' ? true : undefined));

    const engaged = await call('PUT', '/safety/halt', { reason: 'INC-42 payments degraded', scope: { labels: { team: 'payments' } } });
    const haltId = String(engaged.body['id']);
    expect(engaged.body['stopped_trials']).toEqual([running]);

    const stopped = await finished(running);
    expect(stopped.status).toBe('Stopped');
    expect(target.hits.get('/cleanup/payments')).toBe(1);
    expect(stopped.trial_record['post_steps']?.[0]?.logs.at(-1)).toContain('Completed.');
    const result = stopped.trial_record.result?.[0]?.logs.join('\n') ?? '';
    expect(result).toContain('a stop was requested');
    expect(result).toContain(`The stop was requested by halt ${haltId} ("INC-42 payments degraded", engaged by anonymous`);

    const refused = await call('POST', '/trial', { experiment: payments });
    expect(refused.status).toBe(409);
    expect(refused.body['message']).toContain(`halt ${haltId}`);

    const search = await experiment('search', 0.1);
    const other = String((await call('POST', '/trial', { experiment: search })).body['id']);
    expect((await finished(other)).status).toBe('Succeeded');
    expect(local.server.safetyMetrics.snapshot()).toMatchObject({ HaltEngaged: 1, TrialStoppedByHalt: 1, 'TrialRefused{kind=halt,source=api}': 1 });
  });

  it('skips a schedule firing while halted, records it, and runs the next firing once the halt is lifted', async () => {
    const payments = await experiment('payments', 0.1);
    const created = (await call('POST', `/experiment/${payments}/schedule`, { recurrence_pattern: '0 3 * * *', recurrence_count: 5 })).body;
    const schedule = String(created['id']);
    const firing = (time: string) => firingOf(created, time);
    const haltId = String((await call('PUT', '/safety/halt', { reason: 'freeze the lot' })).body['id']);

    await local.server.deliver(firing('2024-05-01T03:00:00.000Z'));
    // Delivered again (a retry): still skipped, counted once.
    await local.server.deliver(firing('2024-05-01T03:00:00.000Z'));
    const view = (await call('GET', `/experiment/${payments}/schedule/${schedule}`)).body;
    expect(view['trials']).toEqual([]);
    expect(view['recurrence_left']).toBe(4);
    expect(local.server.safetyMetrics.count('FiringSkipped', { outcome: 'skipped_halted' })).toBe(1);
    const claim = await local.server.dynamo.documentClient.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: 'kallisti', Key: { pk: `EXPERIMENT#${payments}`, sk: `FIRING#${schedule}#2024-05-01T03:00:00.000Z` } }),
    );
    expect(claim.Item).toMatchObject({ outcome: 'skipped_halted', rule_id: haltId, reason: expect.stringContaining(`halt ${haltId}`) });
    expect(claim.Item?.['trial_id']).toBeUndefined();

    expect((await call('DELETE', `/safety/halt/${haltId}`)).status).toBe(200);
    // The skipped firing stays skipped even if delivered once more after the lift.
    await local.server.deliver(firing('2024-05-01T03:00:00.000Z'));
    expect((await call('GET', `/experiment/${payments}/schedule/${schedule}`)).body['trials']).toEqual([]);

    await local.server.deliver(firing('2024-05-02T03:00:00.000Z'));
    const ran = await waitFor(async () => {
      const trials = (await call('GET', `/experiment/${payments}/schedule/${schedule}`)).body['trials'] as { id: string }[];
      return trials.length === 1 ? trials[0] : undefined;
    });
    expect((await finished(ran.id)).status).toBe('Succeeded');
    expect((await call('GET', `/experiment/${payments}/schedule/${schedule}`)).body['recurrence_left']).toBe(3);
  });
});
