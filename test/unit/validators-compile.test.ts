import { compileOperations } from '../../functions/api/openapi.js';
import { DEFAULT_MODULES, ModuleRegistry } from '../../functions/modules/registry.js';

// Validators compile lazily (cold start); this makes sure every one of them compiles at all.
describe('lazily compiled validators', () => {
  it('compile for every operation of openapi.json', () => {
    for (const operation of compileOperations()) {
      for (const part of [operation.body, operation.query, operation.pathParams]) {
        if (part) expect(() => part.validate({})).not.toThrow();
      }
    }
  });

  it('compile for every step command, and report errors the same on every call', async () => {
    const registry = new ModuleRegistry(DEFAULT_MODULES);
    for (const name of registry.names()) {
      const first = await registry.validateWhere(name, { nonsense: true }, 'steps[0].where', false);
      expect(first.length).toBeGreaterThan(0);
      expect(await registry.validateWhere(name, { nonsense: true }, 'steps[0].where', false)).toEqual(first);
    }
  });
});
