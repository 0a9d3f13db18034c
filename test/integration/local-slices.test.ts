import { post, until } from '../support/http-trials.js';
import { localServerPerTest } from '../support/local-server.js';

const servers = localServerPerTest();

describe('local worker with KALLISTI_WORKER_BUDGET_SECONDS', () => {
  it('runs a trial with a 20 s wait and HTTP steps in slices of 5 s, and the next trial after it', async () => {
    const base = (await servers.start({ workerBudgetSeconds: 5 })).server.url;
    // An HTTP step's call must fit in a slice: its timeout (plus a second) within the 5 s budget.
    const probe = { step: 'probe', do: 'cm.http_probe', where: { url: `${base}/health`, timeout: 2 } };
    const experiment = await post(`${base}/experiment`, { name: 'sliced', steps: [probe, { step: 'pause', do: 'cm.wait', where: { time_in_seconds: 20 } }, probe], post_steps: [probe] });
    const quick = await post(`${base}/experiment`, { name: 'quick', steps: [probe] });
    // A call that cannot fit a 5 s slice is refused when saved, naming its timeout.
    const slow = await fetch(`${base}/experiment`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'slow', steps: [{ ...probe, where: { ...probe.where, timeout: 10 } }] }) });
    expect(slow.status).toBe(400);
    expect(((await slow.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['steps[0].where.timeout']);
    const first = await post(`${base}/trial`, { experiment: experiment.id });
    await until(base, first.id, (t) => t.status === 'In Progress', 10_000);
    const second = await post(`${base}/trial`, { experiment: quick.id });

    const done = await until(base, first.id, (t) => t.status !== 'In Progress' && t.status !== 'Scheduled', 60_000);
    expect(done.status).toBe('Succeeded');
    expect(done.invocations).toBeGreaterThanOrEqual(4);
    const next = await until(base, second.id, (t) => t.status === 'Succeeded', 20_000);
    expect(Date.parse(next.executed_at as string)).toBeGreaterThanOrEqual(Date.parse(done.completed_at as string));
  }, 120_000);

  it('stops a trial in the middle of its wait within 3 s, running its post steps', async () => {
    const base = (await servers.start({ workerBudgetSeconds: 5 })).server.url;
    const experiment = await post(`${base}/experiment`, {
      name: 'stoppable',
      steps: [{ step: 'pause', do: 'cm.wait', where: { time_in_seconds: 20 } }],
      post_steps: [{ step: 'undo', do: 'cm.http_probe', where: { url: `${base}/health`, timeout: 2 } }],
    });
    const trial = await post(`${base}/trial`, { experiment: experiment.id });
    await until(base, trial.id, (t) => t.invocations >= 2, 20_000);

    const asked = Date.now();
    expect((await fetch(`${base}/trial/${trial.id}/stop`, { method: 'PUT' })).status).toBe(200);
    const stopped = await until(base, trial.id, (t) => t.status === 'Stopped', 10_000);

    expect(Date.now() - asked).toBeLessThan(3000);
    expect(stopped.trial_record.post_steps[0]?.logs.at(-1)).toMatch(/Completed\.$/);
  }, 60_000);
});
