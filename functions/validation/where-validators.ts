import { lazy, lazyValidator } from './ajv.js';
import { ajvFor } from './runtime-compilers.js';
import type { WhereValidatorSource } from './validator-source.js';

// Replaced in the Lambda bundle by validators compiled at build time (lib/bundling.ts).
const where = lazy(() => ajvFor('where'));

/** Compiled with ajv the first time each is used: a process pays only for the commands it meets. */
export const whereValidators: WhereValidatorSource = {
  where: (_key, schema) => lazyValidator(() => where().compile(schema)),
};
