import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { entrySize, EventBridgeTrialObserver, MAX_ENTRY_BYTES } from '../../functions/adapters/eventbridge/trial-events.js';
import { INPUT_LIMITS } from '../../functions/domain/input-limits.js';
import { trialFinished, type TrialFinished } from '../../functions/domain/trial-finished.js';
import { emptyTrialRecord, type Trial } from '../../functions/domain/trial.js';
import type { AppLogger } from '../../functions/app-logger.js';
import type { TrialFinishedObserver } from '../../functions/ports.js';
import { lazyTrialFinishedObserver, publishFinishedTrials } from '../../functions/use-cases/trial-observers.js';
import { MemoryTrialStore } from '../support/memory-stores.js';

const eventBridge = mockClient(EventBridgeClient);
afterEach(() => eventBridge.reset());

const TRIAL_ID = '1cb25d87-a126-4d4f-8ac6-77d8922f3001';
const EXPERIMENT_ID = 'd4e4a9cd-d97a-472c-977b-9f92338db2e1';
const SCHEDULE_ID = '73919897-0835-4ad6-bfc6-2b332c9d615f';

function trial(overrides: Partial<Trial> = {}): Trial {
  return {
    id: TRIAL_ID,
    experiment: EXPERIMENT_ID,
    parameters: { password: 'hunter2' },
    metadata: { team: 'payments' },
    ticket: { id: 'CHG-1' },
    status: 'In Progress',
    trial_record: emptyTrialRecord(),
    created_at: '2024-05-01T12:00:00.000Z',
    executed_at: '2024-05-01T12:00:01.000Z',
    completed_at: null,
    initiated_by: 'alice',
    initiated_from: 'schedule',
    schedule_id: SCHEDULE_ID,
    ...overrides,
  };
}

const finished = (overrides: Partial<Trial> = {}) => trialFinished(trial({ status: 'Failed', completed_at: '2024-05-01T12:00:09.000Z', ...overrides }));

const lines: string[] = [];
const logger: AppLogger = { info: () => undefined, warn: (message) => void lines.push(message), error: (message) => void lines.push(message) };
beforeEach(() => (lines.length = 0));

const observer = () => new EventBridgeTrialObserver(new EventBridgeClient({ region: 'eu-west-1' }), 'default');

describe('EventBridgeTrialObserver', () => {
  it('puts one "Trial Finished" event from source "kallisti" on the bus, timed at the trial\u2019s end, with ids, status, ticket and schedule but never parameters', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const event = finished();
    await observer().trialFinished(event);
    const inputs = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      {
        Entries: [
          {
            EventBusName: 'default',
            Source: 'kallisti',
            DetailType: 'Trial Finished',
            Time: new Date('2024-05-01T12:00:09.000Z'),
            Detail: JSON.stringify({
              id: TRIAL_ID,
              experiment: EXPERIMENT_ID,
              status: 'Failed',
              ticket: { id: 'CHG-1' },
              schedule: SCHEDULE_ID,
              initiated_by: 'alice',
              initiated_from: 'schedule',
              executed_at: '2024-05-01T12:00:01.000Z',
              completed_at: '2024-05-01T12:00:09.000Z',
              metadata: { team: 'payments' },
            }),
          },
        ],
      },
    ]);
    expect(JSON.stringify(inputs)).not.toContain('hunter2');
  });

  it('fails when EventBridge refuses the entry although the call succeeded (PutEvents answers 200 with FailedEntryCount)', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not allowed' }] });
    await expect(observer().trialFinished(finished())).rejects.toThrow('EventBridge refused the event: AccessDeniedException not allowed');
  });

  it('counts an entry\u2019s size as the EventBridge guide does: Time 14 bytes, then the UTF-8 bytes of Source, DetailType, Detail and resources', () => {
    expect(entrySize({ Source: 'kallisti', DetailType: 'Trial Finished', Detail: '{"a":"é"}' })).toBe(8 + 14 + 10);
    expect(entrySize({ Time: new Date(0), Source: 'k', DetailType: 'd', Resources: ['arn:x'] })).toBe(14 + 1 + 1 + 5);
  });

  it('fits a trial whose metadata and ticket are at the input limits, in 3-byte characters, in one entry', () => {
    const fill = (bytes: number) => ({ k: '\u20ac'.repeat(Math.floor((bytes - 10) / 3)) });
    const event = finished({ metadata: fill(INPUT_LIMITS.maxMetadataBytes), ticket: fill(INPUT_LIMITS.maxTicketBytes) });
    const entry = observer().entry(event);
    expect(JSON.parse(entry.Detail ?? '')).toEqual(event);
    expect(entrySize(entry)).toBeLessThan(MAX_ENTRY_BYTES);
  });

  it('leaves the labels out, and says so, rather than lose the event when they would not fit', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const event = finished({ metadata: { big: 'x'.repeat(MAX_ENTRY_BYTES) } });
    await observer().trialFinished(event);
    const entry = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(JSON.parse(entry?.Detail ?? '')).toEqual({ ...event, metadata: {}, ticket: {}, labels_omitted: true });
    expect(entrySize(entry ?? {})).toBeLessThan(MAX_ENTRY_BYTES);
  });
});

describe('publishFinishedTrials: every final status the store writes is told, once, after the write', () => {
  async function setup(observers: TrialFinishedObserver[], stored: Trial = trial()) {
    const store = new MemoryTrialStore();
    await store.create(stored);
    return { store, trials: publishFinishedTrials(store, { observers, logger, timeoutMs: 200 }) };
  }

  it('tells every observer when a trial reaches a final status, with what was stored; not for other moves or refused ones', async () => {
    const seen: TrialFinished[] = [];
    const { store, trials } = await setup([
      { name: 'a', trialFinished: async (e) => void seen.push(e) },
      { name: 'b', trialFinished: async (e) => void seen.push(e) },
    ]);
    expect(await trials.transition(TRIAL_ID, ['Scheduled'], 'Stopped')).toBeUndefined();
    expect(await trials.transition(TRIAL_ID, ['In Progress'], 'Stop Initiated')).toMatchObject({ status: 'Stop Initiated' });
    expect(seen).toEqual([]);
    const ended = await trials.transition(TRIAL_ID, ['Stop Initiated'], 'Stopped', { completed_at: '2024-05-01T12:00:09.000Z' });
    expect(ended).toMatchObject({ status: 'Stopped' });
    expect(seen).toEqual([trialFinished(ended as Trial), trialFinished(ended as Trial)]);
    expect(seen[0]).toMatchObject({ id: TRIAL_ID, status: 'Stopped', completed_at: '2024-05-01T12:00:09.000Z', schedule: SCHEDULE_ID });
    // A finished trial never moves again: nobody is told twice.
    expect(await trials.transition(TRIAL_ID, ['Stopped'], 'Failed')).toBeUndefined();
    expect(seen).toHaveLength(2);
    // Everything else is the store's own.
    expect(await trials.getState(TRIAL_ID)).toEqual(await store.getState(TRIAL_ID));
  });

  it('never fails the trial: a throwing observer, or EventBridge down, is logged and the write stands', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('ServiceUnavailable'));
    const seen: string[] = [];
    const { store, trials } = await setup([observer(), { name: 'broken', trialFinished: () => Promise.reject(new Error('boom')) }, { name: 'fine', trialFinished: async (e) => void seen.push(e.id) }]);
    expect(await trials.transition(TRIAL_ID, ['In Progress'], 'Failed', { completed_at: '2024-05-01T12:00:09.000Z' })).toMatchObject({ status: 'Failed' });
    expect(seen).toEqual([TRIAL_ID]);
    expect(lines.filter((l) => l === 'A trial observer failed; the trial is unaffected')).toHaveLength(2);
    expect((await store.getState(TRIAL_ID))?.status).toBe('Failed');
  });

  it('never holds the trial past the observer timeout: a hanging observer is abandoned', async () => {
    const { trials } = await setup([{ name: 'hangs', trialFinished: () => new Promise<void>(() => undefined) }]);
    // Without the timeout this would never resolve (and the test would time out).
    expect(await trials.transition(TRIAL_ID, ['In Progress'], 'Succeeded')).toMatchObject({ status: 'Succeeded' });
    expect(lines).toEqual(['Trial observers did not answer in time; the trial is unaffected']);
  });

  it('is the store itself when nobody observes', async () => {
    const store = new MemoryTrialStore();
    expect(publishFinishedTrials(store, { observers: [], logger })).toBe(store);
  });
});

describe('lazyTrialFinishedObserver', () => {
  it('loads its adapter on the first finished trial only, and again after a failed load', async () => {
    const seen: string[] = [];
    let loads = 0;
    const lazy = lazyTrialFinishedObserver('eventbridge', async () => {
      loads += 1;
      if (loads === 1) throw new Error('chunk failed to load');
      return { name: 'real', trialFinished: async (e) => void seen.push(e.id) };
    });
    expect(loads).toBe(0);
    await expect(lazy.trialFinished(finished())).rejects.toThrow('chunk failed to load');
    await lazy.trialFinished(finished());
    await lazy.trialFinished(finished({ id: 'second' }));
    expect([loads, seen]).toEqual([2, [TRIAL_ID, 'second']]);
  });
});
