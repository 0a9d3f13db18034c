/**
 * Schedules through the local server (HTTP, embedded DynamoDB, in-process
 * scheduler and sequential worker) on a fake clock: pause and resume, dates,
 * firings missed while the server was down and `catch_up: latest`, and the
 * firing history that records them. (Overlap skip and starting deadlines during
 * a long trial: local-schedule-overlap.test.ts.)
 */
import { jest } from '@jest/globals';
import { advance, type Body, createSchedule, firingsOf, localServerPerTest, settle, waitExperiment } from '../support/local-server.js';

const T0 = Date.UTC(2027, 0, 4, 9, 0, 30);
const servers = localServerPerTest({ fakeClockAt: T0 });

const minute = (m: number, s = 0) => new Date(Date.UTC(2027, 0, 4, 9, m, s)).toISOString();

describe('local schedules', () => {
  it('pause stops firings and resume restarts them; start and end dates bound them', async () => {
    const local = await servers.start();
    const exp = await waitExperiment(local, 1);
    const id = String((await createSchedule(local, exp, { recurrence_pattern: '* * * * *', start_date: minute(2), end_date: minute(8), timezone: 'Europe/London' }))['id']);
    await advance(3.5 * 60_000); // to 09:04:00
    await local.call('PATCH', `/experiment/${exp}/schedule/${id}`, { state: 'DISABLED' });
    await advance(2 * 60_000); // 09:05 and 09:06 pass while paused
    const resumed = await local.call('PATCH', `/experiment/${exp}/schedule/${id}`, { state: 'ENABLED' });
    expect((resumed.body as Body)['next_fire_time']).toBe(minute(7));
    await advance(4 * 60_000); // 09:07 fires; 09:08 is the end date
    await settle(local.server);
    const records = await firingsOf(local, exp, id);
    expect(records.map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [minute(2), 'started'],
      [minute(3), 'started'],
      [minute(4), 'started'],
      [minute(7), 'started'],
    ]);
    const view = (await local.call('GET', `/experiment/${exp}/schedule/${id}`)).body as Body;
    expect(view['firing_counts']).toEqual({ started: 4 });
    expect(view['next_fire_time']).toBeNull();
  });

  it('records firings missed while the server was down, and runs the latest once with catch_up: latest', async () => {
    const local = await servers.start();
    const exp = await waitExperiment(local, 1);
    const none = String((await createSchedule(local, exp, { recurrence_pattern: '*/5 * * * *' }))['id']);
    const latest = String((await createSchedule(local, exp, { recurrence_pattern: '*/5 * * * *', catch_up: 'latest' }))['id']);
    await advance(5 * 60_000); // 09:05 fires for both
    await local.stop();
    jest.setSystemTime(Date.UTC(2027, 0, 4, 9, 27, 10)); // down from 09:05:30 to 09:27:10: 09:10, 09:15, 09:20, 09:25 missed
    const server = await local.start();
    expect(server.startup).toMatchObject({ missedFirings: 7, caughtUpFirings: 1 });
    await settle(local.server);

    expect((await firingsOf(local, exp, none)).map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [minute(5), 'started'],
      [minute(10), 'missed'],
      [minute(15), 'missed'],
      [minute(20), 'missed'],
      [minute(25), 'missed'],
    ]);
    const caught = await firingsOf(local, exp, latest);
    expect(caught.map((f) => [f.scheduled_time, f.outcome])).toEqual([
      [minute(5), 'started'],
      [minute(10), 'missed'],
      [minute(15), 'missed'],
      [minute(20), 'missed'],
      [minute(25), 'started'],
    ]);
    expect(caught[1]?.reason).toBe(`local mode was not running at ${minute(10)} (catch_up: latest runs only the most recent)`);
    const trial = (await local.call('GET', `/trial/${String(caught[4]?.trial_id)}`)).body as Body;
    expect(trial['status']).toBe('Succeeded');
    expect(((await local.call('GET', `/experiment/${exp}/schedule/${latest}`)).body as Body)['firing_counts']).toEqual({ started: 2, missed: 3 });
  });
});
