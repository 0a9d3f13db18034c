import { allowedSources, assertTransition, canTransition, FINAL_STATUSES, IllegalTransitionError, isFinal, TRIAL_STATUSES, type TrialStatus } from '../../functions/domain/trial.js';

describe('trial state machine', () => {
  it.each<[TrialStatus, TrialStatus]>([
    ['Scheduled', 'In Progress'],
    ['Scheduled', 'Stop Initiated'],
    ['Scheduled', 'Invalid'],
    ['Scheduled', 'Stopped'],
    ['In Progress', 'Succeeded'],
    ['In Progress', 'Failed'],
    ['In Progress', 'Aborted'],
    ['In Progress', 'Stop Initiated'],
    ['Stop Initiated', 'Stopped'],
  ])('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each<[TrialStatus, TrialStatus]>([
    ['Succeeded', 'In Progress'],
    ['Failed', 'In Progress'],
    ['Stopped', 'Scheduled'],
    ['In Progress', 'Scheduled'],
    ['Stop Initiated', 'In Progress'],
    ['Stop Initiated', 'Succeeded'],
    ['Scheduled', 'Succeeded'],
    ['Scheduled', 'Failed'],
  ])('refuses %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
  });

  it('never moves a finished trial', () => {
    for (const from of FINAL_STATUSES) {
      for (const to of TRIAL_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('lets only a Scheduled trial go In Progress', () => {
    expect(allowedSources('In Progress')).toEqual(['Scheduled']);
  });

  it('lets a Scheduled trial (stopped before it ran) or a Stop Initiated one end Stopped', () => {
    expect(allowedSources('Stopped')).toEqual(['Scheduled', 'Stop Initiated']);
  });

  it('lists the sources a stop request may come from', () => {
    expect(allowedSources('Stop Initiated')).toEqual(['Scheduled', 'In Progress']);
  });

  it('tells final statuses from the others', () => {
    expect(TRIAL_STATUSES.filter(isFinal)).toEqual(['Succeeded', 'Failed', 'Aborted', 'Invalid', 'Stopped']);
  });

  it('names both statuses in the error', () => {
    expect(() => assertTransition('Succeeded', 'In Progress')).toThrow('"Succeeded" to "In Progress"');
  });
});
