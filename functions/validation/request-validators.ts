import { lazy, lazyValidator } from './ajv.js';
import { ajvFor } from './runtime-compilers.js';
import type { RequestValidatorSource } from './validator-source.js';

// Replaced in the Lambda bundle by validators compiled at build time (lib/bundling.ts).
const body = lazy(() => ajvFor('body'));
const params = lazy(() => ajvFor('params'));

/** Compiled with ajv the first time each is used. */
export const requestValidators: RequestValidatorSource = {
  body: (_key, ref) => lazyValidator(() => body().compile({ $ref: ref })),
  params: (_key, schema) => lazyValidator(() => params().compile(schema)),
};
