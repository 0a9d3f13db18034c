import type { FieldError } from '../domain/errors.js';
import type { JsonObject } from '../domain/types.js';
import { AWS_MODULES } from './aws/index.js';
import { httpProbe } from './cm/http-probe.js';
import { httpRequest } from './cm/http-request.js';
import { wait } from './cm/wait.js';
import { PROM_MODULES } from './prom/index.js';
import { holdsPlaceholder } from './placeholders.js';
import type { StepModule } from './types.js';
import { toFieldErrors, valueAtPointer, type Validator } from '../validation/ajv.js';
import type { WhereValidatorSource } from '../validation/validator-source.js';
import { whereValidators } from '../validation/where-validators.js';

/**
 * Every step command the product knows, keyed `namespace.command`.
 * To add a namespace: create `functions/modules/<namespace>/`, one file per
 * command exporting a StepModule, and list the commands in DEFAULT_MODULES.
 */
export const CM_MODULES: readonly StepModule[] = [httpProbe, httpRequest, wait];
export const DEFAULT_MODULES: readonly StepModule[] = [...CM_MODULES, ...PROM_MODULES, ...AWS_MODULES];

/**
 * The commands a deployment offers: all of them, except the `aws` namespace when
 * KALLISTI_AWS_MODULES=off (the CDK context flag awsModules=false sets it, and then
 * grants the worker no AWS permission for them either).
 */
export function configuredModules(env: NodeJS.ProcessEnv): readonly StepModule[] {
  const aws = env['KALLISTI_AWS_MODULES'];
  if (aws !== undefined && aws !== '' && aws !== 'on' && aws !== 'off') throw new Error(`KALLISTI_AWS_MODULES must be "on" or "off", got "${aws}"`);
  return aws === 'off' ? DEFAULT_MODULES.filter((module) => !module.name.startsWith('aws.')) : DEFAULT_MODULES;
}

export class ModuleRegistry {
  private readonly modules = new Map<string, { module: StepModule; validate: Validator }>();

  /**
   * `source`: where the `where` validators come from (compiled on first use from source;
   * in a bundle, compiled at build time, each command's code loaded the first time a
   * `where` of that command is checked, so a cold start loads none).
   */
  constructor(
    modules: readonly StepModule[],
    private readonly source: WhereValidatorSource = whereValidators,
  ) {
    for (const module of modules) {
      if (this.modules.has(module.name)) throw new Error(`Step module ${module.name} is registered twice`);
      this.modules.set(module.name, { module, validate: source.where(module.name, module.whereSchema) });
    }
  }

  names(): string[] {
    return [...this.modules.keys()].sort();
  }

  get(name: string): StepModule | undefined {
    return this.modules.get(name)?.module;
  }

  /**
   * Checks `where` against the command's schema. With `allowPlaceholders`
   * (experiment save time) a value that still holds a `{{ name }}` template is
   * not judged, since its type is only known once the trial fills it in.
   * Asynchronous: the command's validator may first have to be loaded.
   */
  async validateWhere(name: string, where: JsonObject, pathPrefix: string, allowPlaceholders: boolean): Promise<FieldError[]> {
    const entry = this.modules.get(name);
    if (!entry) return [{ path: pathPrefix.replace(/\.where$/, '.do'), message: `unknown step command "${name}"; known: ${this.names().join(', ')}` }];
    await this.source.ready?.([name]);
    if (entry.validate(where)) return (entry.module.checkWhere?.(where, allowPlaceholders) ?? []).map((e) => ({ path: `${pathPrefix}.${e.path}`, message: e.message }));
    const errors = (entry.validate.errors ?? []).filter((error) => !(allowPlaceholders && holdsPlaceholder(valueAtPointer(where, error.instancePath))));
    return toFieldErrors(errors, pathPrefix);
  }
}
