import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with a default export; under NodeNext its default import is typed as the module.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * One configured ajv: all errors, formats, and OpenAPI keywords (example) tolerated.
 * The compiler itself: used at run time from source (tests, `npm start`) and at build
 * time to generate the Lambda bundles' standalone validators (lib/validators-codegen.ts).
 */
export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}
