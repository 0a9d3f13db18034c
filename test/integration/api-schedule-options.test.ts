/**
 * Time zone, pause, dates and jitter through the
 * real router on dynalite: defaults for Kallisti payloads, 400s naming the
 * field with nothing stored, PATCH pause/resume, and the two previews.
 */
import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;
let api: Harness;
let experimentId: string;
const base = () => `/experiment/${experimentId}/schedule`;

beforeEach(async () => {
  api = await startApiHarness();
  experimentId = String(((await api.call('POST', '/experiment', experimentBody())).body as Body)['id']);
});
afterEach(() => api.close());

const businessHours = {
  recurrence_pattern: '0 9-17 * * 1-5',
  timezone: 'America/New_York',
  start_date: '2090-03-01T00:00:00-05:00',
  end_date: '2090-06-30T00:00:00Z',
  jitter_seconds: 600,
};

function errorsOf(body: unknown): { path: string; message: string }[] {
  return (body as { errors: { path: string; message: string }[] }).errors;
}

describe('schedule options', () => {
  it('gives a Kallisti payload the defaults', async () => {
    const res = await api.call('POST', base(), { recurrence_pattern: '*/5 * * * *', recurrence_count: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ timezone: 'UTC', state: 'ENABLED', start_date: null, end_date: null, jitter_seconds: 0 });
    expect(typeof (res.body as Body)['next_fire_time']).toBe('string');
  });

  it('stores every option, dates in UTC, and arms the cloud schedule with them', async () => {
    const res = await api.call('POST', base(), businessHours);
    expect(res.status).toBe(201);
    const created = res.body as Body;
    expect(created).toMatchObject({ ...businessHours, start_date: '2090-03-01T05:00:00.000Z', end_date: '2090-06-30T00:00:00.000Z' });
    const normalised = { start_date: '2090-03-01T05:00:00.000Z', end_date: '2090-06-30T00:00:00.000Z' };
    // 1 March 2090 is a Wednesday: 09:00 EST.
    expect(created['next_fire_time']).toBe('2090-03-01T14:00:00.000Z');
    expect(api.cloud.armed.get(String(created['id']))).toMatchObject({ timezone: 'America/New_York', jitter_seconds: 600, state: 'ENABLED' });
    const read = await api.call('GET', `${base()}/${String(created['id'])}`);
    expect(read.body).toMatchObject({ ...businessHours, ...normalised, next_fire_time: '2090-03-01T14:00:00.000Z' });
  });

  it.each([
    [{ timezone: 'Mars/Olympus_Mons' }, 'timezone', 'unknown time zone'],
    [{ timezone: 'america/new_york' }, 'timezone', 'did you mean "America/New_York"'],
    [{ timezone: '+05:00' }, 'timezone', 'unknown time zone'],
    [{ state: 'PAUSED' }, 'state', ''],
    [{ start_date: '2090-03-01' }, 'start_date', 'date-time'],
    [{ start_date: '2090-03-01T09:00:00' }, 'start_date', 'date-time'],
    [{ end_date: '2001-01-01T00:00:00Z' }, 'end_date', 'in the past'],
    [{ start_date: '2090-03-01T00:00:00Z', end_date: '2090-02-01T00:00:00Z' }, 'end_date', 'after start_date'],
    [{ jitter_seconds: 90 }, 'jitter_seconds', 'multiple of 60'],
    [{ jitter_seconds: 3660 }, 'jitter_seconds', ''],
  ])('answers 400 naming the field for %j and stores nothing', async (options, field, fragment) => {
    const res = await api.call('POST', base(), { recurrence_pattern: '0 9 * * *', ...options });
    expect(res.status).toBe(400);
    expect(errorsOf(res.body)[0]?.path).toBe(field);
    expect(errorsOf(res.body)[0]?.message).toContain(fragment);
    expect((await api.schedules.listByExperiment(experimentId, { limit: 10 })).items).toEqual([]);
    expect(api.cloud.armed.size).toBe(0);
  });

  it('pauses with PATCH state DISABLED, keeping the count, and resumes with ENABLED', async () => {
    const created = (await api.call('POST', base(), { recurrence_pattern: '0 9 * * *', recurrence_count: 5, timezone: 'Europe/London' })).body as Body;
    const path = `${base()}/${String(created['id'])}`;
    const paused = await api.call('PATCH', path, { state: 'DISABLED' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ state: 'DISABLED', recurrence_left: 5, timezone: 'Europe/London', next_fire_time: null });
    expect(api.cloud.armed.get(String(created['id']))?.state).toBe('DISABLED');
    expect(((await api.call('GET', `${path}/next?count=3`)).body as Body)['fire_times']).toEqual([]);
    const resumed = await api.call('PATCH', path, { state: 'ENABLED' });
    expect(resumed.body).toMatchObject({ state: 'ENABLED', recurrence_left: 5 });
    expect(typeof (resumed.body as Body)['next_fire_time']).toBe('string');
    expect(api.cloud.armed.get(String(created['id']))?.state).toBe('ENABLED');
  });

  it('PUT resets options not given to their defaults; PATCH keeps them', async () => {
    const created = (await api.call('POST', base(), businessHours)).body as Body;
    const path = `${base()}/${String(created['id'])}`;
    expect((await api.call('PATCH', path, { jitter_seconds: 0 })).body).toMatchObject({ timezone: 'America/New_York', jitter_seconds: 0, end_date: '2090-06-30T00:00:00.000Z' });
    expect((await api.call('PUT', path, { recurrence_pattern: '0 9 * * *' })).body).toMatchObject({ timezone: 'UTC', start_date: null, end_date: null, jitter_seconds: 0 });
  });
});

describe('previews', () => {
  it('GET …/next answers the next fire times with their wall-clock time, honouring the count left', async () => {
    const created = (await api.call('POST', base(), { recurrence_pattern: '30 1 * * 0', timezone: 'Europe/London', start_date: '2090-03-19T00:00:00Z', recurrence_count: 2 })).body as Body;
    const res = await api.call('GET', `${base()}/${String(created['id'])}/next?count=5`);
    expect(res.status).toBe(200);
    // 26 March 2090: London skips 01:00-02:00, so that Sunday does not fire.
    expect(res.body).toEqual({
      schedule_id: created['id'],
      timezone: 'Europe/London',
      state: 'ENABLED',
      recurrence_left: 2,
      eventbridge_expressions: ['cron(30 1 ? * 1 *)'],
      fire_times: [
        { time: '2090-03-19T01:30:00.000Z', local_time: '2090-03-19T01:30:00+00:00' },
        { time: '2090-04-02T00:30:00.000Z', local_time: '2090-04-02T01:30:00+01:00' },
      ],
    });
  });

  it('GET …/next refuses a count over 100 and answers 404 for an unknown schedule', async () => {
    const created = (await api.call('POST', base(), { recurrence_pattern: '0 9 * * *' })).body as Body;
    const tooMany = await api.call('GET', `${base()}/${String(created['id'])}/next?count=101`);
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain('count');
    expect((await api.call('GET', `${base()}/00000000-0000-4000-8000-000000000000/next`)).status).toBe(404);
  });

  it('POST /schedule/preview answers the fire times of a definition and stores nothing', async () => {
    const res = await api.call('POST', '/schedule/preview', { recurrence_pattern: '0 9,17 * * 1-5', timezone: 'America/New_York', start_date: '2090-03-10T00:00:00Z', count: 4 });
    expect(res.status).toBe(200);
    // 12 March 2090 is the second Sunday of March: New York moves from -05:00 to -04:00.
    expect(res.body).toEqual({
      timezone: 'America/New_York',
      state: 'ENABLED',
      recurrence_left: null,
      eventbridge_expressions: ['cron(0 9,17 ? * 2-6 *)'],
      fire_times: [
        { time: '2090-03-10T14:00:00.000Z', local_time: '2090-03-10T09:00:00-05:00' },
        { time: '2090-03-10T22:00:00.000Z', local_time: '2090-03-10T17:00:00-05:00' },
        { time: '2090-03-13T13:00:00.000Z', local_time: '2090-03-13T09:00:00-04:00' },
        { time: '2090-03-13T21:00:00.000Z', local_time: '2090-03-13T17:00:00-04:00' },
      ],
    });
    expect((await api.schedules.listAll({ limit: 10 })).items).toEqual([]);
  });

  it('POST /schedule/preview answers 400 naming the field, as creating would', async () => {
    const res = await api.call('POST', '/schedule/preview', { recurrence_pattern: '0 9 * * *', timezone: 'Europe/Londn' });
    expect(res.status).toBe(400);
    expect(errorsOf(res.body)[0]?.path).toBe('timezone');
    expect((await api.call('POST', '/schedule/preview', { recurrence_pattern: '0 9 * *' })).status).toBe(400);
  });
});
