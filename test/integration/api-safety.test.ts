import { readAuthConfig, type AuthConfig } from '../../functions/api/auth/auth-config.js';
import { createJwtAuthenticator } from '../../functions/api/auth/jwt-authenticator.js';
import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';
import { bearer, TestIdentityProvider } from '../support/identity-provider.js';
import { FakeClock } from '../support/memory-stores.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;

const idOf = (res: { body: unknown }): string => String((res.body as Body)['id']);

describe('safety API (open access)', () => {
  let api: Harness;
  let clock: FakeClock;
  beforeEach(async () => {
    clock = new FakeClock('2024-03-28T10:00:00.000Z');
    api = await startApiHarness({ clock });
  });
  afterEach(() => api.close());

  async function experiment(metadata: Record<string, string>): Promise<string> {
    return idOf(await api.call('POST', '/experiment', experimentBody({ metadata })));
  }

  it('refuses new trials while a halt is active, names it, and lets them through once lifted', async () => {
    const payments = await experiment({ team: 'payments' });
    const search = await experiment({ team: 'search' });
    const engaged = await api.call('PUT', '/safety/halt', { reason: 'INC-1234', scope: { labels: { team: 'payments' } } });
    expect(engaged.status).toBe(201);
    const haltId = idOf(engaged);
    expect(engaged.headers["Location"]).toMatch(new RegExp(`/safety/halt/${haltId}$`));
    expect(engaged.body).toMatchObject({ reason: 'INC-1234', state: 'active', created_by: 'anonymous', lifted_at: null, expires_at: null, scope: { labels: { team: 'payments' } } });

    const refused = await api.call('POST', '/trial', { experiment: payments });
    expect(refused.status).toBe(409);
    expect((refused.body as Body)['message']).toContain(`halted by halt ${haltId} ("INC-1234", engaged by anonymous`);
    // A trial cannot label itself out of the halt.
    expect((await api.call('POST', '/trial', { experiment: payments, metadata: { team: 'other' } })).status).toBe(409);
    // Other teams' experiments are left alone.
    expect((await api.call('POST', '/trial', { experiment: search })).status).toBe(201);
    expect(api.metrics.count('TrialRefused', { kind: 'halt', source: 'api' })).toBe(2);
    expect(api.queue.sent).toHaveLength(1);

    clock.advance(60_000);
    const lifted = await api.call('DELETE', `/safety/halt/${haltId}`);
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ state: 'lifted', lifted_by: 'anonymous', lifted_at: '2024-03-28T10:01:00.000Z' });
    expect((await api.call('DELETE', `/safety/halt/${haltId}`)).body).toEqual({ message: `Halt ${haltId} was already lifted by anonymous at 2024-03-28T10:01:00.000Z` });
    expect((await api.call('POST', '/trial', { experiment: payments })).status).toBe(201);

    const list = await api.call('GET', '/safety/halt');
    expect(list.body).toEqual([expect.objectContaining({ id: haltId, state: 'lifted' })]);
  });

  it('asks queued trials in scope to stop when engaged and records them on the halt', async () => {
    const payments = await experiment({ team: 'payments' });
    const search = await experiment({ team: 'search' });
    const queued = idOf(await api.call('POST', '/trial', { experiment: payments }));
    const other = idOf(await api.call('POST', '/trial', { experiment: search }));
    const engaged = await api.call('PUT', '/safety/halt', { reason: 'stop payments', scope: { labels: { team: 'payments' } } });
    expect((engaged.body as Body)['stopped_trials']).toEqual([queued]);
    expect((await api.trials.get(queued))?.status).toBe('Stop Initiated');
    expect((await api.trials.get(other))?.status).toBe('Scheduled');
    expect((await api.call('GET', '/safety/halt')).body).toEqual([expect.objectContaining({ stopped_trials: [queued] })]);
  });

  it('ends a halt by itself at expires_at', async () => {
    const id = await experiment({});
    const engaged = await api.call('PUT', '/safety/halt', { reason: 'ten minutes', expires_at: '2024-03-28T10:10:00+00:00' });
    expect(engaged.body).toMatchObject({ expires_at: '2024-03-28T10:10:00.000Z', state: 'active' });
    expect((await api.call('POST', '/trial', { experiment: id })).status).toBe(409);
    clock.advance(10 * 60_000);
    expect((await api.call('POST', '/trial', { experiment: id })).status).toBe(201);
    expect((await api.call('GET', '/safety/halt')).body).toEqual([expect.objectContaining({ state: 'expired' })]);
  });

  it('answers 400 naming the field for a bad halt, and writes nothing', async () => {
    const bad = await api.call('PUT', '/safety/halt', { reason: 'x', expires_at: '2024-03-28T09:00:00Z' });
    expect(bad.status).toBe(400);
    expect((bad.body as Body)['errors']).toEqual([expect.objectContaining({ path: 'expires_at' })]);
    expect((await api.call('PUT', '/safety/halt', { reason: '' })).status).toBe(400);
    expect((await api.call('PUT', '/safety/halt', { reason: 'x', scope: { team: 'payments' } })).status).toBe(400);
    expect((await api.call('DELETE', '/safety/halt/6f1c1d1e-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api.call('GET', '/safety/halt')).body).toEqual([]);
  });

  it('refuses a trial at 10:00 and allows one at 18:00 in a 09:00-17:00 London window, before and after the clocks change', async () => {
    const prod = await experiment({ env: 'prod' });
    const uat = await experiment({ env: 'uat' });
    const created = await api.call('POST', '/safety/freeze', {
      reason: 'Business hours',
      scope: { labels: { env: 'prod' } },
      recurrence: { cron: '0 9 * * 1-5', duration_minutes: 480, timezone: 'Europe/London' },
    });
    expect(created.status).toBe(201);
    const freezeId = idOf(created);
    // Thursday 28 March 2024, GMT: 10:00 local.
    const refused = await api.call('POST', '/trial', { experiment: prod });
    expect(refused.status).toBe(409);
    expect((refused.body as Body)['message']).toContain(`frozen by freeze window ${freezeId} ("Business hours") from 2024-03-28T09:00:00.000Z until 2024-03-28T17:00:00.000Z`);
    expect((await api.call('POST', '/trial', { experiment: uat })).status).toBe(201);
    clock.set(Date.parse('2024-03-28T18:00:00Z'));
    expect((await api.call('POST', '/trial', { experiment: prod })).status).toBe(201);
    // Tuesday 2 April 2024, BST: 10:00 local is 09:00Z, 18:00 local is 17:00Z.
    clock.set(Date.parse('2024-04-02T09:00:00Z'));
    expect((await api.call('POST', '/trial', { experiment: prod })).status).toBe(409);
    clock.set(Date.parse('2024-04-02T17:00:00Z'));
    expect((await api.call('POST', '/trial', { experiment: prod })).status).toBe(201);
    expect(api.metrics.count('TrialRefused', { kind: 'freeze', source: 'api' })).toBe(2);

    clock.set(Date.parse('2024-04-03T09:00:00Z'));
    const deleted = await api.call('DELETE', `/safety/freeze/${freezeId}`);
    expect(deleted.body).toMatchObject({ deleted_by: 'anonymous', deleted_at: '2024-04-03T09:00:00.000Z' });
    expect((await api.call('POST', '/trial', { experiment: prod })).status).toBe(201);
    expect((await api.call('DELETE', `/safety/freeze/${freezeId}`)).body).toEqual({ message: `Freeze window ${freezeId} not found: it was deleted by anonymous at 2024-04-03T09:00:00.000Z`, detail: 'Not found.' });
    expect((await api.call('GET', '/safety/freeze')).body).toEqual([expect.objectContaining({ id: freezeId, deleted_by: 'anonymous' })]);
  });

  it('marks the next fire times a freeze window or a halt will skip', async () => {
    const prod = await experiment({ env: 'prod' });
    const freezeId = idOf(await api.call('POST', '/safety/freeze', { reason: 'Business hours', recurrence: { cron: '0 9 * * 1-5', duration_minutes: 480, timezone: 'Europe/London' } }));
    const scheduleId = idOf(await api.call('POST', `/experiment/${prod}/schedule`, { recurrence_pattern: '30 7-18/2 * * *' }));
    const next = await api.call('GET', `/experiment/${prod}/schedule/${scheduleId}/next?count=6`);
    expect(next.status).toBe(200);
    const times = (next.body as Body)['fire_times'] as Body[];
    // Thursday 28 March 2024 (GMT): 11:30, 13:30, 15:30 inside 09:00-17:00; 17:30 outside; Friday 07:30 outside, 09:30 inside.
    expect(times.map((t) => [t['time'], (t['suppressed_by'] as Body | undefined)?.['outcome'] ?? null])).toEqual([
      ['2024-03-28T11:30:00.000Z', 'skipped_frozen'],
      ['2024-03-28T13:30:00.000Z', 'skipped_frozen'],
      ['2024-03-28T15:30:00.000Z', 'skipped_frozen'],
      ['2024-03-28T17:30:00.000Z', null],
      ['2024-03-29T07:30:00.000Z', null],
      ['2024-03-29T09:30:00.000Z', 'skipped_frozen'],
    ]);
    expect(times[0]?.['suppressed_by']).toMatchObject({ rule_id: freezeId, reason: expect.stringContaining('Business hours') });
    // A halt that expires at 18:00 skips the 17:30 firing too, not the next morning's.
    const haltId = idOf(await api.call('PUT', '/safety/halt', { reason: 'drill', expires_at: '2024-03-28T18:00:00Z' }));
    const halted = ((await api.call('GET', `/experiment/${prod}/schedule/${scheduleId}/next?count=5`)).body as Body)['fire_times'] as Body[];
    expect(halted.map((t) => (t['suppressed_by'] as Body | undefined)?.['rule_id'] ?? null)).toEqual([haltId, haltId, haltId, haltId, null]);
  });

  it('applies a one-off range to everything and names each bad field of a freeze', async () => {
    const id = await experiment({});
    expect((await api.call('POST', '/safety/freeze', { reason: 'Easter', starts_at: '2024-03-28T00:00:00Z', ends_at: '2024-04-02T00:00:00Z' })).status).toBe(201);
    expect((await api.call('POST', '/trial', { experiment: id })).status).toBe(409);
    const bad = await api.call('POST', '/safety/freeze', { reason: 'x', recurrence: { cron: '0 9 * *', duration_minutes: 10081, timezone: 'Europe/Londres' } });
    expect(bad.status).toBe(400);
    expect(((bad.body as Body)['errors'] as Body[]).map((e) => e['path'])).toEqual(['recurrence.duration_minutes']);
    const semantic = await api.call('POST', '/safety/freeze', { reason: 'x', recurrence: { cron: '0 9 * *', duration_minutes: 60, timezone: 'Europe/Londres' } });
    expect(((semantic.body as Body)['errors'] as Body[]).map((e) => e['path'])).toEqual(['recurrence.cron', 'recurrence.timezone']);
    expect((await api.call('GET', '/safety/freeze')).body).toHaveLength(1);
  });
});

describe('safety API access', () => {
  let idp: TestIdentityProvider;
  let config: AuthConfig;
  let api: Harness;
  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    config = readAuthConfig(idp.env({ KALLISTI_AUTH_GROUPS_CLAIM: 'cognito:groups', KALLISTI_AUTH_WRITE_GROUPS: 'chaos-engineers', KALLISTI_AUTH_ADMIN_GROUPS: 'chaos-admins' })) as AuthConfig;
  });
  afterAll(() => idp.stop());
  beforeEach(async () => {
    api = await startApiHarness({ authenticator: createJwtAuthenticator(config, { unknownKeyBackoffSeconds: 0 }) });
  });
  afterEach(() => api.close());

  it('needs kallisti/admin or an admin group to engage, lift, create or delete; read access to list', async () => {
    const writer = bearer(await idp.token({ claims: { scope: 'kallisti/write' } }));
    const engineer = bearer(await idp.token({ claims: { scope: undefined, 'cognito:groups': ['chaos-engineers'] } }));
    const admin = bearer(await idp.token({ claims: { sub: 'root', scope: 'kallisti/admin' } }));
    const adminGroup = bearer(await idp.token({ claims: { sub: 'ops', scope: undefined, 'cognito:groups': ['chaos-admins'] } }));
    const reader = bearer(await idp.token({ claims: { scope: 'kallisti/read' } }));
    const halt = { reason: 'drill' };
    const freeze = { reason: 'drill', starts_at: '2099-01-01T00:00:00Z', ends_at: '2099-01-02T00:00:00Z' };
    const uuid = '6f1c1d1e-0000-4000-8000-000000000000';
    for (const auth of [writer, engineer, reader]) {
      for (const [method, path, body] of [
        ['PUT', '/safety/halt', halt],
        ['DELETE', `/safety/halt/${uuid}`, undefined],
        ['POST', '/safety/freeze', freeze],
        ['DELETE', `/safety/freeze/${uuid}`, undefined],
      ] as const) {
        const res = await api.call(method, path, body, auth);
        expect([method, path, res.status, res.headers['WWW-Authenticate']]).toEqual([method, path, 403, 'Bearer realm="kallisti", error="insufficient_scope", scope="kallisti/admin"']);
      }
    }
    const engaged = await api.call('PUT', '/safety/halt', halt, admin);
    expect(engaged.body).toMatchObject({ created_by: 'root' });
    expect((await api.call('DELETE', `/safety/halt/${idOf(engaged)}`, undefined, adminGroup)).body).toMatchObject({ lifted_by: 'ops' });
    expect((await api.call('POST', '/safety/freeze', freeze, adminGroup)).status).toBe(201);
    // An admin may also do what a writer may.
    expect((await api.call('POST', '/experiment', experimentBody(), admin)).status).toBe(201);
    for (const path of ['/safety/halt', '/safety/freeze']) expect((await api.call('GET', path, undefined, reader)).status).toBe(200);
  });
});
