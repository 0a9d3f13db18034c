/**
 * A schedule that fires while a long trial runs, through the local server
 * (HTTP, embedded DynamoDB, the sequential worker) on a fake clock: the
 * firing waits behind the trial, and when it reaches the worker `overlap: skip`
 * records it `skipped_overlap`, `starting_deadline_seconds` records it
 * `skipped_deadline`, and neither uses up the schedule's count.
 */
import { advance, advanceUntil, type Body, createSchedule, firingOf, firingsOf, type LocalHarness, localServerPerTest, settle, waitExperiment } from '../support/local-server.js';

const T0 = Date.UTC(2027, 0, 4, 9, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
/** Fires once a year (1 January): the scheduler's own timers stay quiet, the test delivers the firings. */
const YEARLY = '0 0 1 1 *';
/** The long trial: two minutes of cm.wait. */
const LONG_SECONDS = 120;

const servers = localServerPerTest({ fakeClockAt: T0 });

async function trialStatus(harness: LocalHarness, id: string | undefined): Promise<string> {
  return String(((await harness.call('GET', `/trial/${String(id)}`)).body as Body)['status']);
}

describe('a schedule firing during a long trial, through the local server', () => {
  it.each([
    ['skip', 'skipped_overlap'],
    ['queue', 'started'],
  ])('with overlap %s the second firing is recorded %s', async (overlap, outcome) => {
    const local = await servers.start();
    const server = local.server;
    const exp = await waitExperiment(local, LONG_SECONDS);
    const schedule = await createSchedule(local, exp, { recurrence_pattern: YEARLY, recurrence_count: 5, overlap });
    const id = String(schedule['id']);

    await server.deliver(firingOf(schedule, at(0)));
    const [first] = await firingsOf(local, exp, id);
    expect(first).toMatchObject({ scheduled_time: at(0), outcome: 'started' });
    await advanceUntil(async () => (await trialStatus(local, first?.trial_id)) === 'In Progress');

    // The next firing falls 60 s into the trial: it waits in the queue until the trial ends.
    const second = server.deliver(firingOf(schedule, at(60)));
    await advance(60_000);
    expect(await trialStatus(local, first?.trial_id)).toBe('In Progress');
    // With queue, the second trial runs its two minutes after the first.
    await settle(server, 2 * LONG_SECONDS + 60);
    await second;

    const records = await firingsOf(local, exp, id);
    expect(records.map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [at(0), 'started'],
      [at(60), outcome],
    ]);
    const view = (await local.call('GET', `/experiment/${exp}/schedule/${id}`)).body as Body;
    if (outcome === 'skipped_overlap') {
      expect(records[1]?.reason).toMatch(new RegExp(`^overlap is skip and the previous trial ${String(first?.trial_id)} was still running at ${at(60)} \\(it finished at `));
      expect(records[1]?.trial_id).toBeUndefined();
      expect(view).toMatchObject({ recurrence_left: 4, firing_counts: { started: 1, skipped_overlap: 1 } });
    } else {
      expect(await trialStatus(local, records[1]?.trial_id)).toBe('Succeeded');
      expect(view).toMatchObject({ recurrence_left: 3, firing_counts: { started: 2 } });
    }
  });

  it('records a firing that reaches the worker after starting_deadline_seconds as skipped_deadline', async () => {
    const local = await servers.start();
    const server = local.server;
    const exp = await waitExperiment(local, LONG_SECONDS);
    const schedule = await createSchedule(local, exp, { recurrence_pattern: YEARLY, recurrence_count: 5, starting_deadline_seconds: 60 });
    const id = String(schedule['id']);

    // A trial started by hand holds the queue for two minutes.
    const manual = await local.call('POST', '/trial', { experiment: exp });
    expect(manual.status).toBe(201);
    await advanceUntil(async () => (await trialStatus(local, String((manual.body as Body)['id']))) === 'In Progress');

    const late = server.deliver(firingOf(schedule, at(10)));
    await settle(server, 2 * LONG_SECONDS + 60);
    await late;
    // Once the queue is free, a firing that arrives on time starts its trial.
    await server.deliver(firingOf(schedule, new Date().toISOString()));
    await settle(server, 2 * LONG_SECONDS + 60);

    const records = await firingsOf(local, exp, id);
    expect(records.map((f) => f.outcome)).toEqual(['skipped_deadline', 'started']);
    expect(records[0]?.scheduled_time).toBe(at(10));
    expect(records[0]?.reason).toMatch(/^the firing reached the worker 1\d\d s after its scheduled time, later than starting_deadline_seconds \(60\)$/);
    expect(Date.parse(String(records[0]?.received_at)) - Date.parse(at(10))).toBeGreaterThan(60_000);
    expect(await trialStatus(local, records[1]?.trial_id)).toBe('Succeeded');
    const view = (await local.call('GET', `/experiment/${exp}/schedule/${id}`)).body as Body;
    expect(view).toMatchObject({ recurrence_left: 4, firing_counts: { started: 1, skipped_deadline: 1 } });
  });
});
