import type { Step } from '../../functions/domain/experiment.js';
import { findPlaceholders, interpolate, missingParameters, resolveParameters } from '../../functions/domain/templating.js';

function step(where: Step['where']): Step {
  return { step: 's', do: 'cm.http_probe', where };
}

describe('findPlaceholders', () => {
  it('finds names with and without spaces, once each, in order', () => {
    expect(findPlaceholders('{{a}} {{ b }} {{  a  }}')).toEqual(['a', 'b']);
  });

  it('looks deep into nested objects and arrays but not into keys', () => {
    const where = { url: 'http://{{ host }}/x', headers: { '{{ key_name }}': 'v', list: ['{{ one }}', { deep: '{{ Two_2 }}' }] }, n: 3 };
    expect(findPlaceholders(where)).toEqual(['host', 'one', 'Two_2']);
  });

  it('ignores text that is not a placeholder', () => {
    expect(findPlaceholders('{{ bad-name }} {x} {{}} {{ a b }}')).toEqual([]);
  });
});

describe('interpolate', () => {
  it('replaces placeholders inside longer strings', () => {
    expect(interpolate('http://{{ host }}:{{port}}/p', { host: 'example.com', port: 8080 })).toBe('http://example.com:8080/p');
  });

  it('keeps the type of a value when the whole string is one placeholder', () => {
    expect(interpolate({ qty: '{{ n }}', on: '{{flag}}', obj: '{{ o }}', nothing: '{{ z }}' }, { n: 2, flag: true, o: { a: [1] }, z: null })).toEqual({ qty: 2, on: true, obj: { a: [1] }, nothing: null });
  });

  it('stringifies objects as JSON inside a longer string', () => {
    expect(interpolate('body={{ o }}', { o: { a: 1 } })).toBe('body={"a":1}');
  });

  it('works through arrays and nested objects and leaves keys alone', () => {
    expect(interpolate({ '{{ k }}': ['{{ v }}', { x: 'a{{ v }}b' }] }, { k: 'K', v: 'V' })).toEqual({ '{{ k }}': ['V', { x: 'aVb' }] });
  });

  it('leaves placeholders without a value untouched', () => {
    expect(interpolate('{{ a }}-{{ b }}', { a: 'x' })).toBe('x-{{ b }}');
  });

  it('does not read inherited properties such as constructor', () => {
    expect(interpolate('{{ constructor }}', {})).toBe('{{ constructor }}');
  });

  it('does not share values with the parameters object', () => {
    const params = { o: { a: 1 } };
    const out = interpolate('{{ o }}', params) as { a: number };
    out.a = 2;
    expect(params.o.a).toBe(1);
  });
});

describe('resolveParameters', () => {
  it('lets trial parameters win over experiment parameters', () => {
    expect(resolveParameters({ a: 1, b: 2 }, { b: 3, c: 4 })).toEqual({ a: 1, b: 3, c: 4 });
  });

  it('accepts missing parameter objects', () => {
    expect(resolveParameters(undefined, undefined)).toEqual({});
  });
});

describe('missingParameters', () => {
  it('names every missing parameter across steps, sorted and once', () => {
    const steps = [step({ url: 'http://{{ host }}/{{ path }}' }), step({ url: '{{ zeta }}', headers: { a: '{{ host }}' } })];
    expect(missingParameters(steps, {})).toEqual(['host', 'path', 'zeta']);
  });

  it('returns nothing when every name has a value, even null', () => {
    expect(missingParameters([step({ url: '{{ u }}', x: '{{ n }}' })], { u: 'http://a', n: null })).toEqual([]);
  });
});
