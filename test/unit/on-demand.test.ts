import { onDemand } from '../../functions/use-cases/on-demand.js';

interface Counter {
  add(n: number): number;
  total(): Promise<number>;
}

function makeCounter(): Counter {
  let sum = 0;
  return {
    add(n) {
      sum += n;
      return sum;
    },
    async total() {
      return sum;
    },
  };
}

describe('use cases loaded on demand', () => {
  it('loads nothing until a method is called, then loads once for every later call', async () => {
    let loads = 0;
    const counter = onDemand<Counter>(async () => {
      loads += 1;
      return makeCounter();
    }, { add: true, total: true });
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([counter.add(2), counter.add(3)]);
    expect([a, b].sort()).toEqual([2, 5]);
    expect(await counter.total()).toBe(5);
    expect(loads).toBe(1);
  });

  it('answers a promise even for a method that answers at once', async () => {
    const counter = onDemand<Counter>(async () => makeCounter(), { add: true, total: true });
    const result = counter.add(1);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(1);
  });

  it('tries the load again on the next call after it failed, rather than remembering the failure', async () => {
    let attempts = 0;
    const counter = onDemand<Counter>(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('chunk missing');
      return makeCounter();
    }, { add: true, total: true });
    await expect(counter.add(1)).rejects.toThrow('chunk missing');
    expect(await counter.add(1)).toBe(1);
    expect(attempts).toBe(2);
  });

  it('is a plain object: awaiting it does not call a method', async () => {
    const counter = onDemand<Counter>(async () => makeCounter(), { add: true, total: true });
    expect(Object.keys(counter).sort()).toEqual(['add', 'total']);
    expect(await Promise.resolve(counter)).toBe(counter);
  });
});
