import { AWS_MODULES } from './aws/index.js';
import { MODULE_CATALOG, configuredCatalog } from './catalog.js';
import { CM_MODULES } from './cm/index.js';
import { PROM_MODULES } from './prom/index.js';
import type { StepModule } from './types.js';

export { ModuleRegistry } from './module-registry.js';
export { CM_MODULES };

/**
 * Every step command the product knows, with its code: for the deployment (IAM from
 * the commands' grants), the build (their `where` validators) and tests. Runtime code
 * builds its registry from the lazy catalog instead (functions/modules/catalog.ts).
 * To add a namespace: create `functions/modules/<namespace>/` with one file per command
 * exporting a StepModule and an index listing them, then list it here and in the catalog.
 */
export const DEFAULT_MODULES: readonly StepModule[] = [...CM_MODULES, ...PROM_MODULES, ...AWS_MODULES];

/** The commands a deployment offers (see configuredCatalog: KALLISTI_AWS_MODULES=off leaves out `aws`). */
export function configuredModules(env: NodeJS.ProcessEnv): readonly StepModule[] {
  const namespaces = new Set(configuredCatalog(env, MODULE_CATALOG).map((ns) => ns.namespace));
  return DEFAULT_MODULES.filter((module) => namespaces.has(module.name.split('.')[0] ?? ''));
}
