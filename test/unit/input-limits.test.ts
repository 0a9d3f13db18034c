import { depthOf, INPUT_LIMITS, inputLimitErrors } from '../../functions/domain/input-limits.js';

const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });
const step = (where: unknown, expect?: unknown) => ({ step: 's', do: 'cm.http_request', where, ...(expect === undefined ? {} : { expect }) });

describe('inputLimitErrors', () => {
  it('accepts an ordinary experiment', () => {
    expect(
      inputLimitErrors({
        name: 'n',
        metadata: { team: 'payments' },
        parameters: { base_url: 'http://x', n: 2, f: 0.5, neg: -3, zero: 0, nested: { list: [1, 'a', null, true] } },
        steps: [step({ url: '{{ base_url }}', request_body: nest(10) }, [{ operator: 'eq', status_code: 200 }])],
      }),
    ).toEqual([]);
  });

  it('names a metadata, parameters or ticket key that is too long', () => {
    const key = 'k'.repeat(INPUT_LIMITS.maxKeyLength + 1);
    expect(inputLimitErrors({ metadata: { [key]: 'v' }, parameters: { [key]: 1 }, ticket: { [key]: 1 } })).toEqual([
      { path: `metadata["${'k'.repeat(40)}…"]`, message: 'key is 129 characters long; keys are at most 128' },
      { path: `parameters["${'k'.repeat(40)}…"]`, message: 'key is 129 characters long; keys are at most 128' },
      { path: `ticket["${'k'.repeat(40)}…"]`, message: 'key is 129 characters long; keys are at most 128' },
    ]);
    expect(inputLimitErrors({ metadata: { ['k'.repeat(INPUT_LIMITS.maxKeyLength)]: 'v' } })).toEqual([]);
  });

  it('names parameters and ticket larger than 16 KiB as JSON', () => {
    expect(inputLimitErrors({ parameters: { big: 'x'.repeat(16 * 1024) } })).toEqual([{ path: 'parameters', message: expect.stringMatching(/^is \d+ bytes as JSON; the limit is 16384 bytes$/) }]);
    expect(inputLimitErrors({ ticket: { big: 'é'.repeat(8200) } })).toEqual([{ path: 'ticket', message: expect.stringContaining('the limit is 16384 bytes') }]);
  });

  it('names a where, parameters or expectation nested too deeply, and a where too large', () => {
    expect(inputLimitErrors({ steps: [step({ url: 'http://x' }), step({ url: 'http://x', request_body: nest(16) })] })).toEqual([{ path: 'steps[1].where', message: 'is nested more than 16 levels deep' }]);
    expect(inputLimitErrors({ parameters: { deep: nest(16) } })).toEqual([{ path: 'parameters', message: 'is nested more than 16 levels deep' }]);
    expect(inputLimitErrors({ post_steps: [step({ url: 'http://x', request_body: 'b'.repeat(32 * 1024) })] })).toEqual([{ path: 'post_steps[0].where', message: expect.stringContaining('the limit is 32768 bytes') }]);
    expect(inputLimitErrors({ steps: [step({ url: 'x' }, [{ operator: 'eq', value: nest(16) }])] })).toEqual([{ path: 'steps[0].expect[0]', message: 'is nested more than 16 levels deep' }]);
  });

  it('holds guards to the limits of steps', () => {
    expect(inputLimitErrors({ guards: [{ ...step({ url: 'http://x', request_body: 'b'.repeat(32 * 1024) }), when: ['during'] }] })).toEqual([
      { path: 'guards[0].where', message: expect.stringContaining('the limit is 32768 bytes') },
    ]);
  });

  it('stops at once on a body nested deeper than any field allows', () => {
    expect(inputLimitErrors({ x: nest(2000) })).toEqual([{ path: 'body', message: 'is nested more than 24 levels deep' }]);
  });

  it.each([1e20, -1e20, 2 ** 53, 1e-131, -1e-200, Number.MAX_VALUE, Infinity, NaN])('names the number %p the store cannot keep', (n) => {
    expect(inputLimitErrors({ parameters: { list: [0, { n }] } })).toEqual([{ path: 'parameters.list[1].n', message: expect.stringContaining('is out of range') }]);
  });

  it.each([0, -0, 1, -1, 0.5, 1e-130, 2 ** 53 - 1, -(2 ** 53 - 1), 123.456])('accepts the number %p', (n) => {
    expect(inputLimitErrors({ parameters: { n } })).toEqual([]);
  });

  it('names empty keys anywhere', () => {
    expect(inputLimitErrors({ steps: [step({ url: 'x', headers: { '': 'v' } })] })).toEqual([{ path: 'steps[0].where.headers', message: 'has an empty key' }]);
  });

  it('names text that is not Unicode (a lone surrogate) in values and keys, and accepts surrogate pairs', () => {
    expect(inputLimitErrors({ name: 'a\ud800', parameters: { list: ['\udfff'] }, metadata: { ['k\udc00']: 1 } })).toEqual([
      { path: 'name', message: expect.stringContaining('lone UTF-16 surrogate') },
      { path: 'parameters.list[0]', message: expect.stringContaining('lone UTF-16 surrogate') },
      { path: 'metadata', message: expect.stringMatching(/^has a key that contains a lone UTF-16 surrogate/) },
    ]);
    expect(inputLimitErrors({ name: '😀 \ud83d\ude00', metadata: { '👩‍👩‍👧': 'x' } })).toEqual([]);
  });

  it('caps the number of errors it reports', () => {
    expect(inputLimitErrors({ parameters: { list: Array.from({ length: 500 }, () => 1e20) } })).toHaveLength(50);
  });
});

describe('depthOf', () => {
  it('counts nesting and stops past its cap', () => {
    expect(depthOf(1)).toBe(0);
    expect(depthOf({})).toBe(1);
    expect(depthOf([[1]])).toBe(2);
    expect(depthOf(nest(50), 5)).toBeLessThanOrEqual(7);
  });
});
