/**
 * "Why didn't it run?" through the local server: every outcome a firing can
 * have is recorded and read back from GET …/firings with its reason, and the
 * schedule's view counts them (`recurrence_left` counts only started trials).
 * Firings are delivered as the local scheduler delivers them when a cron time
 * comes; the server runs on a fake clock. (A deleted experiment's firings are
 * read from the store: the API answers 404 for its schedules.)
 */
import { jest } from '@jest/globals';
import { advance, advanceUntil, type Body, createSchedule, firingOf, firingsOf, localServerPerTest, settle, waitExperiment } from '../support/local-server.js';

const T0 = Date.UTC(2027, 0, 4, 9, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
/** Once a year (1 January): the scheduler's own timers stay quiet, the test delivers the firings. */
const YEARLY = '0 0 1 1 *';

const servers = localServerPerTest({ fakeClockAt: T0 });

describe('every firing outcome, through the local server', () => {
  it('records started, duplicate, stale_generation, skipped_paused, skipped_overlap, skipped_deadline and missed, and shows them in /firings', async () => {
    const local = await servers.start();
    const exp = await waitExperiment(local, 60);
    let schedule = await createSchedule(local, exp, { recurrence_pattern: YEARLY, recurrence_count: 10, overlap: 'skip', starting_deadline_seconds: 120 });
    const id = String(schedule['id']);
    const path = `/experiment/${exp}/schedule/${id}`;

    // started; then, queued behind its 60 s trial, the same fire time from the other cloud schedule of a
    // day-of-month OR day-of-week pair (duplicate) and a firing at 30 s, while the trial ran (skipped_overlap).
    await local.server.deliver(firingOf(schedule, at(0)));
    const queued = [local.server.deliver(firingOf(schedule, at(0), { schedule_arn: `local:${id}-dow` })), local.server.deliver(firingOf(schedule, at(30)))];
    await settle(local.server, 180);
    await Promise.all(queued);

    // A change moves the generation on: a firing armed before it is stale_generation.
    const renamed = await local.call('PATCH', path, { metadata: { changed: true } });
    expect(renamed.status).toBe(200);
    await local.server.deliver(firingOf(schedule, at(300)));
    schedule = renamed.body as Body;

    // Paused: a firing that still arrives is skipped_paused; resumed, the next one starts.
    const paused = (await local.call('PATCH', path, { state: 'DISABLED' })).body as Body;
    await local.server.deliver(firingOf(paused, at(360)));
    schedule = (await local.call('PATCH', path, { state: 'ENABLED' })).body as Body;

    // A hand-started trial holds the queue past the deadline: skipped_deadline (a firing 100 s old waits 60 s more).
    jest.setSystemTime(T0 + 500_000);
    const manual = await local.call('POST', '/trial', { experiment: exp });
    await advanceUntil(async () => ((await local.call('GET', `/trial/${String((manual.body as Body)['id'])}`)).body as Body)['status'] === 'In Progress');
    const late = local.server.deliver(firingOf(schedule, at(400)));
    await settle(local.server, 180);
    await late;

    // Down across a fire time: missed, recorded at the next start.
    const hourly = await local.call('PATCH', path, { recurrence_pattern: '0 * * * *' });
    expect(hourly.status).toBe(200);
    await local.stop();
    jest.setSystemTime(Date.UTC(2027, 0, 4, 11, 30, 0));
    const restarted = await local.start();
    expect(restarted.startup).toMatchObject({ missedFirings: 2 });
    await advance(1000);

    const records = await firingsOf(local, exp, id);
    const outcomes = records.map((f) => f.outcome);
    expect(outcomes.slice(0, 6)).toEqual(['started', 'duplicate', 'skipped_overlap', 'stale_generation', 'skipped_paused', 'skipped_deadline']);
    expect(outcomes.slice(6).every((o) => o === 'missed')).toBe(true);
    expect(outcomes.slice(6).length).toBeGreaterThan(0);
    for (const record of records) expect(record.reason ?? (record.outcome === 'started' ? 'started' : '')).not.toBe('');
    expect(records[3]?.reason).toMatch(/^armed by generation \d+; the schedule is at generation \d+$/);
    expect(records[4]?.reason).toBe('the schedule was paused (state DISABLED) when the firing arrived');

    const view = (await local.call('GET', path)).body as Body;
    expect(view['firing_counts']).toEqual({ started: 1, duplicate: 1, skipped_overlap: 1, stale_generation: 1, skipped_paused: 1, skipped_deadline: 1, missed: outcomes.length - 6 });
    expect(view['recurrence_left']).toBe(9);
  });

  it('records orphaned once the experiment (and so its schedule) is deleted, and skipped_experiment_deleted in between', async () => {
    const local = await servers.start();
    const exp = await waitExperiment(local, 1);
    const schedule = await createSchedule(local, exp, { recurrence_pattern: YEARLY });
    const id = String(schedule['id']);
    // Between the experiment's deletion and its schedules' (two writes), a firing finds the schedule without its experiment.
    await local.server.stores.experiments.markDeleted(exp, 'someone', new Date().toISOString());
    await local.server.deliver(firingOf(schedule, at(0)));
    await local.server.stores.schedules.markDeleted(exp, id, 'someone', new Date().toISOString());
    await local.server.deliver(firingOf(schedule, at(60)));
    const records = (await local.server.stores.schedules.listFirings(exp, id, { limit: 10 })).items.reverse();
    expect(records.map((f) => [f.scheduled_time, f.outcome, f.reason])).toEqual([
      [at(0), 'skipped_experiment_deleted', 'the experiment no longer exists'],
      [at(60), 'orphaned', 'the schedule no longer exists'],
    ]);
  });
});
