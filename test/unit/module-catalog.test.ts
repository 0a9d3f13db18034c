import { configuredCatalog, MODULE_CATALOG, wrapNamespaces, type LazyNamespace } from '../../functions/modules/catalog.js';
import { ModuleRegistry } from '../../functions/modules/module-registry.js';
import { DEFAULT_MODULES } from '../../functions/modules/registry.js';
import type { StepModule } from '../../functions/modules/types.js';

const probe = (name: string): StepModule => ({ name, description: name, whereSchema: { type: 'object' }, probe: true, run: async () => ({ ok: true }) });

/** A namespace that counts its loads. */
function counted(namespace: string, modules: StepModule[]): LazyNamespace & { loads: number } {
  const ns = {
    namespace,
    names: modules.map((m) => m.name),
    loads: 0,
    load: async () => {
      ns.loads += 1;
      return modules;
    },
  };
  return ns;
}

describe('module catalog', () => {
  test('lists exactly the commands each namespace defines', async () => {
    for (const ns of MODULE_CATALOG) {
      const defined = (await ns.load()).map((m) => m.name);
      expect([...ns.names].sort()).toEqual([...defined].sort());
      expect(defined.every((name) => name.startsWith(`${ns.namespace}.`))).toBe(true);
    }
    expect(MODULE_CATALOG.flatMap((ns) => ns.names).sort()).toEqual(DEFAULT_MODULES.map((m) => m.name).sort());
  });

  test('KALLISTI_AWS_MODULES=off leaves out the aws namespace; a wrong value is refused', () => {
    expect(configuredCatalog({ KALLISTI_AWS_MODULES: 'off' }).map((ns) => ns.namespace)).toEqual(['cm', 'prom']);
    expect(configuredCatalog({}).map((ns) => ns.namespace)).toEqual(['cm', 'prom', 'aws']);
    expect(() => configuredCatalog({ KALLISTI_AWS_MODULES: 'no' })).toThrow('KALLISTI_AWS_MODULES must be "on" or "off", got "no"');
  });
});

describe('lazy ModuleRegistry', () => {
  test('knows every name before anything loads, and loads only the namespaces asked for, once', async () => {
    const a = counted('a', [probe('a.one'), probe('a.two')]);
    const b = counted('b', [probe('b.one')]);
    const registry = ModuleRegistry.lazy([a, b]);
    expect(registry.names()).toEqual(['a.one', 'a.two', 'b.one']);
    expect(registry.has('b.one')).toBe(true);
    expect(registry.has('c.one')).toBe(false);
    expect(a.loads + b.loads).toBe(0);

    await Promise.all([registry.load(['a.two', 'nope']), registry.load(['a.one'])]);
    expect([a.loads, b.loads]).toEqual([1, 0]);
    expect(registry.get('a.one')?.name).toBe('a.one');
    expect(() => registry.get('b.one')).toThrow('Step command b.one was used before its namespace was loaded');
    expect(registry.get('c.one')).toBeUndefined();

    expect(await registry.validateWhere('b.one', {}, 'steps[0].where', true)).toEqual([]);
    expect(b.loads).toBe(1);
    expect(registry.get('b.one')?.probe).toBe(true);
  });

  test('a namespace that does not define what the catalog lists fails its load, and can be loaded again', async () => {
    let defined = [probe('a.one')];
    const ns: LazyNamespace = { namespace: 'a', names: ['a.one', 'a.two'], load: async () => defined };
    const registry = ModuleRegistry.lazy([ns]);
    await expect(registry.load(['a.one'])).rejects.toThrow('Namespace a defines a.one; the catalog lists a.one, a.two');
    defined = [probe('a.one'), probe('a.two')];
    await registry.load(['a.two']);
    expect(registry.get('a.two')?.name).toBe('a.two');
  });

  test('wrapNamespaces applies to commands as they load', async () => {
    const registry = ModuleRegistry.lazy(wrapNamespaces([counted('a', [probe('a.one')])], (modules) => modules.map((m) => ({ ...m, description: 'wrapped' }))));
    await registry.load(['a.one']);
    expect(registry.get('a.one')?.description).toBe('wrapped');
  });
});
