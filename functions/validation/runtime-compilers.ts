import type { Ajv, Options } from 'ajv';
import document from '../../openapi.json' with { type: 'json' };
import { createAjv } from './compile.js';
import { AJV_SETUP, OPENAPI_ID, type ValidatorKind } from './validator-source.js';

/** An ajv configured for one kind of validator (see AJV_SETUP), openapi.json registered where refs point into it. */
export function ajvFor(kind: ValidatorKind, extra: Options = {}): Ajv {
  const setup = AJV_SETUP[kind];
  const ajv = createAjv({ ...setup.options, ...extra });
  // A copy: ajv keeps what it is given, and the API also serves the document.
  if (setup.withDocument) ajv.addSchema(structuredClone(document) as object, OPENAPI_ID);
  return ajv;
}
