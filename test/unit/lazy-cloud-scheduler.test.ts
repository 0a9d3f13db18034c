import { lazyCloudScheduler } from '../../functions/adapters/scheduler/lazy-cloud-scheduler.js';
import type { CloudScheduler } from '../../functions/ports.js';

function recording(calls: string[]): CloudScheduler {
  return {
    arm: async (s, replaces) => void calls.push(`arm ${s.id} ${String(replaces)}`),
    disarm: async (s) => void calls.push(`disarm ${s.id}`),
    remove: async (name) => void calls.push(`remove ${name}`),
    async *list() {
      calls.push('list');
      yield [];
    },
  };
}

describe('lazyCloudScheduler', () => {
  it('loads the real scheduler on first use only, once, and passes every call through', async () => {
    const calls: string[] = [];
    let loads = 0;
    const lazy = lazyCloudScheduler(async () => {
      loads += 1;
      return recording(calls);
    });
    expect(loads).toBe(0);
    await Promise.all([lazy.disarm({ id: 'a', generation: 1 }), lazy.remove('kallisti-b-1')]);
    for await (const page of lazy.list()) expect(page).toEqual([]);
    expect(loads).toBe(1);
    expect(calls.sort()).toEqual(['disarm a', 'list', 'remove kallisti-b-1']);
  });

  it('tries the load again after a failure', async () => {
    let attempts = 0;
    const lazy = lazyCloudScheduler(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('chunk missing');
      return recording([]);
    });
    await expect(lazy.remove('x')).rejects.toThrow('chunk missing');
    await expect(lazy.remove('x')).resolves.toBeUndefined();
    expect(attempts).toBe(2);
  });
});
