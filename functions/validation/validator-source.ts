import type { Validator } from './ajv.js';

/*
 * Where validators come from, by a stable key. From source (tests, `npm start`) they
 * are compiled with ajv on first use (request-validators.ts, where-validators.ts). The
 * Lambda bundles replace those two modules with validators compiled at build time (ajv
 * standalone code, lib/validators-codegen.ts): a cold start neither loads ajv's
 * compiler nor compiles a schema, and each bundle carries only the kinds it uses.
 */

/** The API's request validators. */
export interface RequestValidatorSource {
  /** A request body: `ref` points into openapi.json (`openapi.json#/paths/…`). */
  body(key: string, ref: string): Validator;
  /** Query or path parameters (text, coerced to the declared types, defaults filled in). */
  params(key: string, schema: Record<string, unknown>): Validator;
  /**
   * Resolves once the validators of these kinds can run. From source they always can;
   * a bundle loads each kind's generated code on first use, so a cold start loads none.
   */
  ready?(kinds: readonly ('body' | 'params')[]): Promise<void>;
}

/** Step commands' `where` validators, keyed by command name. */
export interface WhereValidatorSource {
  /** Throws at once for a key the source cannot serve (a bundle: a command not compiled at build time). */
  where(key: string, schema: Record<string, unknown>): Validator;
  /**
   * Resolves once the validators of these keys can run. From source they always can; a
   * bundle loads each command's generated code on first use, so a cold start loads none
   * and does not grow with the number of commands.
   */
  ready?(keys: readonly string[]): Promise<void>;
}

export type ValidatorKind = 'body' | 'params' | 'where';

/** The id openapi.json is registered under, so `$ref`s into it resolve. */
export const OPENAPI_ID = 'openapi.json';

/** ajv as each kind needs it; the runtime compilers and the build-time generator both follow this. */
export const AJV_SETUP: Record<ValidatorKind, { options: { coerceTypes?: boolean; useDefaults?: boolean }; withDocument: boolean }> = {
  body: { options: {}, withDocument: true },
  params: { options: { coerceTypes: true, useDefaults: true }, withDocument: true },
  where: { options: {}, withDocument: false },
};
