import { jest } from '@jest/globals';
import type { Guard } from '../../functions/domain/guards.js';
import { makeGuardCheck } from '../../functions/executor/trial-guards.js';
import { ModuleRegistry } from '../../functions/modules/registry.js';
import { StepFailedError, type StepModule } from '../../functions/modules/types.js';

const clock = { now: () => new Date() };
const loose = { type: 'object' };
const modules: StepModule[] = [
  { name: 'test.echo', description: 'echo', whereSchema: loose, probe: true, run: async (where) => ({ status_code: 200, echo: String(where['url']), password: 'hunter2' }) },
  {
    name: 'test.down',
    description: 'down',
    whereSchema: loose,
    probe: true,
    run: async () => {
      throw new StepFailedError('HTTP 503 from the target', { status_code: 503 });
    },
  },
  { name: 'test.hang', description: 'hang', whereSchema: loose, probe: true, run: () => new Promise(() => undefined) },
];
const registry = new ModuleRegistry(modules);
const guard = (over: Partial<Guard>): Guard => ({ step: 'g', do: 'test.echo', where: { url: '{{ base }}/health?key={{ api_key }}' }, when: ['during'], ...over });

describe('a guard check', () => {
  const check = makeGuardCheck({ registry, clock, params: { base: 'http://svc', api_key: 's3cr3t-value' }, paramSecrets: ['s3cr3t-value'] });

  it('fills in parameters, judges the expectations and keeps secrets out of its summary', async () => {
    const passed = await check(guard({ expect: [{ operator: 'eq', status_code: 200 }] }), 0, 'during');
    expect(passed.passed).toBe(true);
    expect(passed.summary).not.toContain('s3cr3t-value');
    expect(passed.summary).not.toContain('hunter2');
    expect(passed.summary).toContain('http://svc/health');
    const failed = await check(guard({ expect: [{ operator: 'eq', status_code: 204 }] }), 0, 'during');
    expect(failed.passed).toBe(false);
    expect(failed.summary).toContain('204');
  });

  it('fails with the probe\'s own error and output', async () => {
    const failed = await check(guard({ do: 'test.down' }), 0, 'during');
    expect(failed).toMatchObject({ passed: false, summary: 'HTTP 503 from the target; result {"status_code":503}' });
  });

  it('fails a probe that gets no answer within its interval (at least 5 s)', async () => {
    jest.useFakeTimers();
    try {
      const pending = check(guard({ do: 'test.hang', interval_seconds: 2 }), 0, 'during');
      await jest.advanceTimersByTimeAsync(5_000);
      expect(await pending).toMatchObject({ passed: false, summary: 'no answer within 5 s' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails, rather than throws, for a command that is not there', async () => {
    expect(await check(guard({ do: 'test.gone' }), 0, 'before')).toMatchObject({ passed: false, summary: 'unknown step command "test.gone"' });
  });
});
