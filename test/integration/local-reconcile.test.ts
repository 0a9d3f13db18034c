import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCHEDULE_DEFAULTS, type Schedule } from '../../functions/domain/schedule.js';
import { startLocalServer, type LocalServer } from '../../functions/local/server.js';
import { makeExperiment, newId } from '../support/memory-stores.js';

let dataDir: string;
let server: LocalServer | undefined;
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'kallisti-reconcile-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

function schedule(experimentId: string): Schedule {
  const at = new Date().toISOString();
  return {
    id: newId(),
    experiment_id: experimentId,
    metadata: {},
    parameters: {},
    ticket: {},
    recurrence_pattern: '* * * * *',
    recurrence_count: null,
    recurrence_left: null,
    generation: 1,
    ...SCHEDULE_DEFAULTS,
    created_by: 'alice',
    created_at: at,
    updated_by: 'alice',
    updated_at: at,
  };
}

describe('local mode at start-up', () => {
  it('reconciles (a schedule its experiment’s delete missed is deleted, not armed) and purges expired firing records', async () => {
    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    const { experiments, schedules } = server.stores;
    const gone = makeExperiment({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    const live = makeExperiment({ steps: [{ step: 'w', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
    await experiments.create(gone);
    await experiments.create(live);
    const stray = schedule(gone.id);
    const kept = schedule(live.id);
    await schedules.create(stray);
    await schedules.create(kept);
    await experiments.markDeleted(gone.id, 'bob', new Date().toISOString());
    const firing = (minutesAgo: number, days: number) => ({
      schedule_id: kept.id,
      experiment_id: live.id,
      scheduled_time: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
      schedule_arn: 'local:x',
      generation: 1,
      outcome: 'started' as const,
      trial_id: newId(),
      received_at: new Date(Date.now() - days * 24 * 3600_000).toISOString(),
    });
    const old = firing(2, 15);
    const recent = firing(1, 1);
    await schedules.recordFiring(old);
    await schedules.recordFiring(recent);
    await server.close();

    server = await startLocalServer({ port: 0, dataDir, logger: quiet });
    expect(server.startup.reconciliation).toMatchObject({ cascaded: 1, missing: 0, stale: 0, failures: 0 });
    expect(server.startup.purgedFiringRecords).toBe(1);
    expect(await server.stores.schedules.get(gone.id, stray.id, { includeDeleted: true })).toMatchObject({ deleted_by: 'reconciler', generation: 2 });
    expect(server.scheduler.isArmed({ id: stray.id, generation: 1 })).toBe(false);
    expect(server.scheduler.isArmed(kept)).toBe(true);
    const item = async (f: { scheduled_time: string }) =>
      (await server?.dynamo.documentClient.send(new GetCommand({ TableName: 'kallisti', Key: { pk: `EXPERIMENT#${live.id}`, sk: `FIRING#${kept.id}#${f.scheduled_time}` } })))?.Item;
    expect(await item(old)).toBeUndefined();
    expect(await item(recent)).toMatchObject({ outcome: 'started' });
  });
});
