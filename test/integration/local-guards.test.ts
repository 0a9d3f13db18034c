import { jest } from '@jest/globals';
import { isFinished, trialOf, until, type TrialBody } from '../support/http-trials.js';
import { startLoopback, type Loopback } from '../support/loopback.js';
import { type Body, callJson, firingOf, type LocalHarness, localServerPerTest, waitFor } from '../support/local-server.js';

jest.setTimeout(30_000);

/** The system under test, on loopback: healthy until told otherwise; counts clean-up calls. */
class Target {
  healthy = true;
  cleanups = 0;
  private loopback!: Loopback;
  get url(): string {
    return this.loopback.url;
  }
  async start(): Promise<void> {
    this.loopback = await startLoopback((request, response) => {
      if (request.url === '/cleanup') this.cleanups += 1;
      const ok = request.url !== '/health' || this.healthy;
      response.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: ok ? 'UP' : 'DOWN' }));
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
const trial = (id: string): Promise<TrialBody> => trialOf(local.server.url, id);
const finished = (id: string) => until(local.server.url, id, isFinished, 20_000);
const resultOf = (t: TrialBody): string => t.trial_record.result?.[0]?.logs.join('\n') ?? '';

function healthGuard(when: string[], extra: Body = {}): Body {
  return { step: 'Target healthy', do: 'cm.http_probe', where: { url: '{{ target }}/health' }, when, interval_seconds: 1, ...extra };
}

async function experiment(guards: Body[], waitSeconds: number): Promise<string> {
  const res = await call('POST', '/experiment', {
    name: 'guarded',
    parameters: { target: target.url },
    steps: [{ step: 'Inject and hold', do: 'cm.wait', where: { time_in_seconds: waitSeconds } }],
    post_steps: [{ step: 'Roll back', do: 'cm.http_request', where: { url: '{{ target }}/cleanup', method: 'POST' }, expect: [{ operator: 'eq', status_code: 200 }] }],
    guards,
  });
  expect(res.status).toBe(201);
  return String(res.body['id']);
}

describe('guards in local mode', () => {
  it('stops the trial within interval_seconds + 2 s of the target turning unhealthy; post steps run; the record names the guard', async () => {
    const id = await experiment([healthGuard(['before', 'during'])], 60);
    const trialId = String((await call('POST', '/trial', { experiment: id })).body['id']);
    await waitFor(async () => ((await trial(trialId)).status === 'In Progress' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await trial(trialId)).status).toBe('In Progress');

    const turnedAt = Date.now();
    target.healthy = false;
    const stopped = await finished(trialId);
    expect(stopped.status).toBe('Stopped');
    expect(Date.parse(stopped.completed_at as string) - turnedAt).toBeLessThanOrEqual(1_000 + 2_000);
    expect(target.cleanups).toBe(1);
    expect(stopped.trial_record['post_steps']?.[0]?.logs.at(-1)).toContain('Completed.');
    // Guards are not steps: the record holds the experiment's one step only.
    expect(stopped.trial_record['steps']?.map((s) => s.step_name)).toEqual(['Inject and hold']);
    const result = resultOf(stopped);
    expect(result).toContain('Trial Stopped: guard 1 ("Target healthy", cm.http_probe, checked every 1 s) tripped during the trial after 1 consecutive failed check(s) (tolerance 1); the post steps ran.');
    expect(result).toMatch(/Guard "Target healthy" check 1 of 1 at .* failed: .*503/);
    expect(local.server.safetyMetrics.count('GuardTripped', { phase: 'during' })).toBe(1);
  });

  it('aborts before anything is touched when a before guard fails (no step, no post step)', async () => {
    target.healthy = false;
    const id = await experiment([healthGuard(['before'])], 1);
    const trialId = String((await call('POST', '/trial', { experiment: id })).body['id']);
    const aborted = await finished(trialId);
    expect(aborted.status).toBe('Aborted');
    expect(aborted.trial_record['steps']).toEqual([]);
    expect(aborted.trial_record['post_steps']).toEqual([]);
    expect(target.cleanups).toBe(0);
    expect(resultOf(aborted)).toContain('Trial Aborted: guard 1 ("Target healthy", cm.http_probe) tripped before the trial after 1 consecutive failed check(s) (tolerance 1); no step was run.');
  });

  it('tolerates failures below the tolerance and lets a healthy trial succeed', async () => {
    const id = await experiment([healthGuard(['during'], { tolerance: 3 })], 3);
    const trialId = String((await call('POST', '/trial', { experiment: id })).body['id']);
    await waitFor(async () => ((await trial(trialId)).status === 'In Progress' ? true : undefined));
    target.healthy = false;
    await new Promise((r) => setTimeout(r, 1_200));
    target.healthy = true;
    expect((await finished(trialId)).status).toBe('Succeeded');
  });

  it('checks an after guard once the steps end, and a trial may add its own guards', async () => {
    const id = await experiment([], 0.5);
    const trialId = String((await call('POST', '/trial', { experiment: id, guards: [healthGuard(['after'], { step: 'Recovered' })] })).body['id']);
    target.healthy = false;
    const stopped = await finished(trialId);
    expect(stopped.status).toBe('Stopped');
    expect(target.cleanups).toBe(1);
    expect(resultOf(stopped)).toContain('guard 1 ("Recovered", cm.http_probe) tripped after the main steps');
  });

  it('passes a schedule\'s guards on to the trials it starts', async () => {
    target.healthy = false;
    const id = await experiment([], 1);
    const created = await call('POST', `/experiment/${id}/schedule`, { recurrence_pattern: '0 3 * * *', guards: [healthGuard(['before'], { step: 'Nightly gate' })] });
    expect(created.body['guards']).toEqual([expect.objectContaining({ step: 'Nightly gate' })]);
    const scheduleId = String(created.body['id']);
    await local.server.deliver(firingOf(created.body, '2024-05-01T03:00:00.000Z'));
    const trialId = await waitFor(async () => ((await call('GET', `/experiment/${id}/schedule/${scheduleId}`)).body['trials'] as { id: string }[])[0]?.id);
    const aborted = await finished(trialId);
    expect(aborted.status).toBe('Aborted');
    expect(resultOf(aborted)).toContain('guard 1 ("Nightly gate", cm.http_probe) tripped before the trial');
    // PATCH without guards keeps them; PUT without guards removes them.
    expect((await call('PATCH', `/experiment/${id}/schedule/${scheduleId}`, { recurrence_count: 3 })).body['guards']).toHaveLength(1);
    expect((await call('PUT', `/experiment/${id}/schedule/${scheduleId}`, { recurrence_pattern: '0 3 * * *' })).body['guards']).toBeUndefined();
  });

  it('refuses a guard that is not a probe, naming the field', async () => {
    const res = await call('POST', '/experiment', { name: 'x', steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }], guards: [{ step: 'g', do: 'cm.wait', where: { time_in_seconds: 1 }, when: ['during'] }] });
    expect(res.status).toBe(400);
    expect(res.body['errors']).toEqual([expect.objectContaining({ path: 'guards[0].do', message: expect.stringMatching(/must use a probe command \(.*cm\.http_probe, cm\.http_request, prom\.query.*\)/) })]);
    const id = await experiment([], 1);
    const trialRes = await call('POST', '/trial', { experiment: id, guards: [{ step: 'g', do: 'cm.http_probe', where: {}, when: ['during'] }] });
    expect(trialRes.status).toBe(400);
    expect(trialRes.body['errors']).toEqual([expect.objectContaining({ path: 'guards[0].where.url' })]);
    expect((await call('POST', '/trial', { experiment: id, guards: [{ step: 'g', do: 'cm.http_probe', where: { url: 'http://x' }, when: ['sometimes'] }] })).status).toBe(400);
  });
});
