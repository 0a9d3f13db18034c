import type { FieldError } from '../domain/errors.js';
import type { JsonObject } from '../domain/types.js';
import type { LazyNamespace } from './catalog.js';
import { holdsPlaceholder } from './placeholders.js';
import type { StepModule } from './types.js';
import { toFieldErrors, valueAtPointer, type Validator } from '../validation/ajv.js';
import type { WhereValidatorSource } from '../validation/validator-source.js';
import { whereValidators } from '../validation/where-validators.js';

/**
 * The step commands a process can run, by `namespace.command`. Built either from the
 * modules themselves (tests, tools) or from a catalog of lazy namespaces (the Lambdas,
 * local mode): then every name is known at once, and a namespace's definitions load on
 * the first `load`/`validateWhere` that needs one of its commands. `get` never loads:
 * asking it for a command whose namespace has not been loaded is a bug, and throws.
 */
export class ModuleRegistry {
  private readonly modules = new Map<string, { module: StepModule; validate: Validator }>();
  /** Known commands whose namespace has not loaded yet. */
  private readonly pending = new Map<string, LazyNamespace>();
  private readonly loading = new Map<LazyNamespace, Promise<void>>();

  /**
   * `source`: where the `where` validators come from (compiled on first use from source;
   * in a bundle, compiled at build time, each command's code loaded the first time a
   * `where` of that command is checked, so a cold start loads none).
   */
  constructor(
    modules: readonly StepModule[],
    private readonly source: WhereValidatorSource = whereValidators,
  ) {
    this.add(modules);
  }

  /** A registry whose namespaces load on first use. */
  static lazy(catalog: readonly LazyNamespace[], source: WhereValidatorSource = whereValidators): ModuleRegistry {
    const registry = new ModuleRegistry([], source);
    for (const ns of catalog) {
      for (const name of ns.names) {
        if (registry.pending.has(name)) throw new Error(`Step module ${name} is registered twice`);
        registry.pending.set(name, ns);
      }
    }
    return registry;
  }

  private add(modules: readonly StepModule[]): void {
    for (const module of modules) {
      if (this.modules.has(module.name)) throw new Error(`Step module ${module.name} is registered twice`);
      this.modules.set(module.name, { module, validate: this.source.where(module.name, module.whereSchema) });
    }
  }

  names(): string[] {
    return [...this.modules.keys(), ...this.pending.keys()].sort();
  }

  /** Whether the command exists (loaded or not). */
  has(name: string): boolean {
    return this.modules.has(name) || this.pending.has(name);
  }

  /** Loads the namespaces of these commands that have not loaded yet; unknown names are ignored. */
  async load(names: Iterable<string>): Promise<void> {
    const namespaces = new Set<LazyNamespace>();
    for (const name of names) {
      const ns = this.pending.get(name);
      if (ns) namespaces.add(ns);
    }
    await Promise.all([...namespaces].map((ns) => this.loadNamespace(ns)));
  }

  private loadNamespace(ns: LazyNamespace): Promise<void> {
    let loading = this.loading.get(ns);
    if (!loading) {
      loading = ns.load().then((modules) => {
        const got = modules.map((m) => m.name).sort();
        const declared = [...ns.names].sort();
        if (got.join() !== declared.join()) throw new Error(`Namespace ${ns.namespace} defines ${got.join(', ')}; the catalog lists ${declared.join(', ')}`);
        for (const name of ns.names) this.pending.delete(name);
        this.add(modules);
      });
      // A failed load (a missing chunk) may be tried again by a later call.
      loading.catch(() => this.loading.delete(ns));
      this.loading.set(ns, loading);
    }
    return loading;
  }

  get(name: string): StepModule | undefined {
    if (this.pending.has(name)) throw new Error(`Step command ${name} was used before its namespace was loaded (ModuleRegistry.load)`);
    return this.modules.get(name)?.module;
  }

  /**
   * Checks `where` against the command's schema. With `allowPlaceholders`
   * (experiment save time) a value that still holds a `{{ name }}` template is
   * not judged, since its type is only known once the trial fills it in.
   * Asynchronous: the command's namespace and validator may first have to be loaded.
   */
  async validateWhere(name: string, where: JsonObject, pathPrefix: string, allowPlaceholders: boolean): Promise<FieldError[]> {
    await this.load([name]);
    const entry = this.modules.get(name);
    if (!entry) return [{ path: pathPrefix.replace(/\.where$/, '.do'), message: `unknown step command "${name}"; known: ${this.names().join(', ')}` }];
    await this.source.ready?.([name]);
    if (entry.validate(where)) return (entry.module.checkWhere?.(where, allowPlaceholders) ?? []).map((e) => ({ path: `${pathPrefix}.${e.path}`, message: e.message }));
    const errors = (entry.validate.errors ?? []).filter((error) => !(allowPlaceholders && holdsPlaceholder(valueAtPointer(where, error.instancePath))));
    return toFieldErrors(errors, pathPrefix);
  }
}
