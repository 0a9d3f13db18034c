import type { FreezeWindow } from '../../functions/domain/safety/freeze.js';
import { haltState, type Halt } from '../../functions/domain/safety/halt.js';
import { haltInputErrors } from '../../functions/domain/safety/inputs.js';
import { safetyRefusal } from '../../functions/domain/safety/refusal.js';
import { inScope } from '../../functions/domain/safety/scope.js';

const now = new Date('2024-05-01T12:00:00.000Z');
const halt = (over: Partial<Halt> = {}): Halt => ({
  id: 'h1',
  reason: 'incident',
  scope: { labels: {} },
  expires_at: null,
  created_by: 'alice',
  created_at: '2024-05-01T11:00:00.000Z',
  lifted_by: null,
  lifted_at: null,
  stopped_trials: [],
  ...over,
});
const freeze: FreezeWindow = {
  id: 'f1',
  reason: 'holidays',
  scope: { labels: { env: 'prod' } },
  recurrence: null,
  starts_at: '2024-05-01T00:00:00.000Z',
  ends_at: '2024-05-02T00:00:00.000Z',
  created_by: 'bob',
  created_at: '2024-04-01T00:00:00.000Z',
};

describe('safety scope', () => {
  it('covers everything without labels, otherwise experiments with every label', () => {
    expect(inScope({ labels: {} }, {})).toBe(true);
    expect(inScope({ labels: { team: 'payments' } }, { experiment: { team: 'payments', env: 'prod' } })).toBe(true);
    expect(inScope({ labels: { team: 'payments', env: 'uat' } }, { experiment: { team: 'payments', env: 'prod' } })).toBe(false);
    expect(inScope({ labels: { team: 'payments' } }, { experiment: { team: 'search' } })).toBe(false);
  });

  it('cannot be escaped by a trial relabelling itself, nor missed when only the trial carries the label', () => {
    expect(inScope({ labels: { team: 'payments' } }, { experiment: { team: 'payments' }, trial: { team: 'other' } })).toBe(true);
    expect(inScope({ labels: { env: 'prod' } }, { experiment: {}, trial: { env: 'prod' } })).toBe(true);
  });
});

describe('halts', () => {
  it('are active until lifted or expired', () => {
    expect(haltState(halt(), now)).toBe('active');
    expect(haltState(halt({ expires_at: '2024-05-01T12:00:00.000Z' }), now)).toBe('expired');
    expect(haltState(halt({ expires_at: '2024-05-01T12:00:00.001Z' }), now)).toBe('active');
    expect(haltState(halt({ lifted_at: '2024-05-01T11:30:00.000Z', lifted_by: 'bob' }), now)).toBe('lifted');
  });

  it('need a future expiry with a zone', () => {
    expect(haltInputErrors({ reason: 'x', expires_at: '2024-05-01T11:00:00Z' }, now)).toEqual([expect.objectContaining({ path: 'expires_at', message: expect.stringContaining('future') })]);
    expect(haltInputErrors({ reason: 'x', expires_at: '2024-05-02T11:00:00' }, now)).toEqual([expect.objectContaining({ path: 'expires_at' })]);
    expect(haltInputErrors({ reason: 'x', expires_at: '2024-05-02T11:00:00+02:00' }, now)).toEqual([]);
  });
});

describe('safety refusal', () => {
  const target = { experimentId: 'e1', experimentMetadata: { env: 'prod', team: 'search' } };

  it('names the earliest active halt in scope, with its reason and who engaged it', () => {
    const rules = { halts: [halt({ id: 'late', created_at: '2024-05-01T11:30:00.000Z' }), halt({ id: 'early' }), halt({ id: 'other', scope: { labels: { team: 'payments' } } })], freezes: [] };
    const refusal = safetyRefusal(rules, target, now);
    expect(refusal).toMatchObject({ kind: 'halt', halt: { id: 'early' } });
    expect(refusal?.message).toBe('Experiment e1 is halted by halt early ("incident", engaged by alice at 2024-05-01T11:00:00.000Z), which applies to every experiment.');
  });

  it('ignores lifted, expired and out-of-scope halts, then checks freeze windows at the given time', () => {
    const rules = {
      halts: [halt({ lifted_at: '2024-05-01T11:10:00.000Z', lifted_by: 'bob' }), halt({ expires_at: '2024-05-01T11:59:00.000Z' }), halt({ scope: { labels: { team: 'payments' } } })],
      freezes: [freeze],
    };
    expect(safetyRefusal(rules, target, now)).toMatchObject({ kind: 'freeze', window: { id: 'f1' } });
    expect(safetyRefusal(rules, target, now)?.message).toContain('frozen by freeze window f1 ("holidays") from 2024-05-01T00:00:00.000Z until 2024-05-02T00:00:00.000Z');
    expect(safetyRefusal(rules, target, now, new Date('2024-05-02T00:00:00.000Z'))).toBeUndefined();
    expect(safetyRefusal(rules, { experimentId: 'e2', experimentMetadata: { env: 'uat' } }, now)).toBeUndefined();
  });
});
