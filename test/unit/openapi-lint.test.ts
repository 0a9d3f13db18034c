import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS with a default export; under NodeNext its type is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

// swagger-parser is CommonJS that require()s an ES module, which jest's module loader cannot do
// before Node 24.9 (plain Node can), so the document is validated in a child Node process.
const SWAGGER_PARSER_CHECK = `
import fs from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
const doc = JSON.parse(fs.readFileSync('openapi.json', 'utf8'));
try {
  await SwaggerParser.validate(structuredClone(doc));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
`;

async function swaggerParserErrors(): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SWAGGER_PARSER_CHECK], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 60_000,
    });
    return '';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    return stderr?.trim() || String(error);
  }
}

interface ExampleObject {
  $ref?: string;
  value?: unknown;
}

interface MediaType {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, ExampleObject>;
}

interface ResponseObject {
  $ref?: string;
  content?: Record<string, MediaType>;
}

interface ParameterObject {
  $ref?: string;
  name?: string;
  in?: string;
  schema?: Record<string, unknown>;
  example?: unknown;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses?: Record<string, ResponseObject>;
}

interface Document {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    parameters: Record<string, ParameterObject>;
    responses: Record<string, ResponseObject>;
    examples: Record<string, ExampleObject>;
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const ALLOWED_TAGS = ['health', 'experiment', 'trial', 'schedule', 'report', 'docs', 'safety', 'info', 'notification'];
// Kallisti's own public paths too: /info and its docs at /swagger.json, /swagger/ and /redoc/.
const PUBLIC_PATHS = ['/health', '/docs', '/openapi.json', '/info', '/swagger.json', '/swagger', '/redoc'];

const raw: unknown = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'openapi.json'), 'utf8'));
const doc = raw as Document;

interface OperationEntry {
  where: string;
  path: string;
  method: string;
  pointer: string[];
  operation: Operation;
}

function operations(): OperationEntry[] {
  const found: OperationEntry[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (operation) found.push({ where: `${method.toUpperCase()} ${p}`, path: p, method, pointer: ['paths', p, method], operation });
    }
  }
  return found;
}

/** Follows a local `#/...` reference. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
  let node: unknown = doc;
  for (const segment of ref.slice(2).split('/')) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) throw new Error(`unresolved reference: ${ref}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function deref<T extends { $ref?: string }>(value: T): T {
  return value.$ref ? (resolve(value.$ref) as T) : value;
}

/** JSON pointer (as a URI fragment) to a node of the document. */
function fragment(pointer: string[]): string {
  return '#/' + pointer.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(structuredClone(raw) as Record<string, unknown>, 'openapi.json');
const validators = new Map<string, ValidateFunction>();

/** A validator for the schema found at `pointer`, with its `#/components/...` refs resolved inside the document. */
function validatorAt(pointer: string[]): ValidateFunction {
  const ref = `openapi.json${fragment(pointer)}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

function schemaValidator(name: string): ValidateFunction {
  return validatorAt(['components', 'schemas', name]);
}

interface ExampleCase {
  where: string;
  schemaPointer: string[];
  value: unknown;
}

/** Every example of a media type, with the pointer to the schema it must satisfy. */
function mediaExamples(where: string, mediaPointer: string[], media: MediaType): ExampleCase[] {
  const cases: ExampleCase[] = [];
  const schemaPointer = [...mediaPointer, 'schema'];
  if (media.example !== undefined) cases.push({ where: `${where} example`, schemaPointer, value: media.example });
  for (const [name, example] of Object.entries(media.examples ?? {})) {
    cases.push({ where: `${where} examples.${name}`, schemaPointer, value: deref(example).value });
  }
  return cases;
}

function allExampleCases(): ExampleCase[] {
  const cases: ExampleCase[] = [];
  for (const { where, pointer, operation } of operations()) {
    for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
      cases.push(...mediaExamples(`${where} request ${type}`, [...pointer, 'requestBody', 'content', type], media));
    }
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (response.$ref) continue; // shared responses are checked once below
      for (const [type, media] of Object.entries(response.content ?? {})) {
        if (!type.includes('json')) continue;
        cases.push(...mediaExamples(`${where} ${status} ${type}`, [...pointer, 'responses', status, 'content', type], media));
      }
    }
  }
  for (const [name, response] of Object.entries(doc.components.responses)) {
    for (const [type, media] of Object.entries(response.content ?? {})) {
      cases.push(...mediaExamples(`responses.${name} ${type}`, ['components', 'responses', name, 'content', type], media));
    }
  }
  for (const [name, parameter] of Object.entries(doc.components.parameters)) {
    if (parameter.example !== undefined) {
      cases.push({ where: `parameters.${name} example`, schemaPointer: ['components', 'parameters', name, 'schema'], value: parameter.example });
    }
  }
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    if (schema['example'] !== undefined) {
      cases.push({ where: `schemas.${name} example`, schemaPointer: ['components', 'schemas', name], value: schema['example'] });
    }
  }
  return cases;
}

function is2xx(status: string): boolean {
  return /^2\d\d$/.test(status);
}

describe('openapi.json', () => {
  it('is a valid OpenAPI 3.0.3 document', async () => {
    expect(doc.openapi).toBe('3.0.3');
    await expect(swaggerParserErrors()).resolves.toBe('');
  });

  it('gives every operation a unique camelCase operationId, a summary, a description and known tags', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const { where, operation } of operations()) {
      const id = operation.operationId;
      if (!id || !/^[a-z][A-Za-z0-9]*$/.test(id)) problems.push(`${where}: operationId ${String(id)} is missing or not camelCase`);
      else if (ids.has(id)) problems.push(`${where}: operationId ${id} is used twice`);
      else ids.add(id);
      if (!operation.summary?.trim()) problems.push(`${where}: no summary`);
      if (!operation.description?.trim()) problems.push(`${where}: no description`);
      if (!operation.tags?.length) problems.push(`${where}: no tags`);
      for (const tag of operation.tags ?? []) if (!ALLOWED_TAGS.includes(tag)) problems.push(`${where}: unknown tag ${tag}`);
    }
    expect(problems).toEqual([]);
    expect(ids.size).toBeGreaterThanOrEqual(20);
  });

  it('gives every request body and every 2xx JSON response at least one example', () => {
    const problems: string[] = [];
    const hasExample = (media: MediaType): boolean => media.example !== undefined || Object.keys(media.examples ?? {}).length > 0;
    for (const { where, operation } of operations()) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        if (!hasExample(media)) problems.push(`${where}: request ${type} has no example`);
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!is2xx(status)) continue;
        for (const [type, media] of Object.entries(deref(response).content ?? {})) {
          if (type.includes('json') && !hasExample(media)) problems.push(`${where}: ${status} ${type} has no example`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('validates every example against its own schema', () => {
    const cases = allExampleCases();
    expect(cases.length).toBeGreaterThan(40);
    const problems: string[] = [];
    for (const { where, schemaPointer, value } of cases) {
      const validate = validatorAt(schemaPointer);
      if (!validate(value)) problems.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(problems).toEqual([]);
  });

  it('uses every shared example', () => {
    const used = new Set<string>();
    const text = JSON.stringify(doc.paths) + JSON.stringify(doc.components.responses);
    for (const match of text.matchAll(/"#\/components\/examples\/([^"]+)"/g)) if (match[1]) used.add(match[1]);
    expect(Object.keys(doc.components.examples).filter((name) => !used.has(name))).toEqual([]);
  });

  it('answers errors through the shared responses and the Error schema', () => {
    const problems: string[] = [];
    for (const { where, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (is2xx(status)) continue;
        if (!response.$ref?.startsWith('#/components/responses/')) problems.push(`${where}: ${status} is not a shared response`);
      }
      const statuses = Object.keys(operation.responses ?? {});
      if (!statuses.includes('500')) problems.push(`${where}: no 500`);
      if (operation.requestBody) {
        if (!operation.requestBody.required) problems.push(`${where}: request body not required`);
        for (const status of ['400', '413']) if (!statuses.includes(status)) problems.push(`${where}: body but no ${status}`);
      }
      if ((operation.parameters?.length ?? 0) > 0 && !statuses.includes('400')) problems.push(`${where}: parameters but no 400`);
    }
    for (const [name, response] of Object.entries(doc.components.responses)) {
      const schema = response.content?.['application/json']?.schema;
      if (schema?.['$ref'] !== '#/components/schemas/Error') problems.push(`responses.${name}: not an Error`);
    }
    expect(problems).toEqual([]);
  });

  it('requires a bearer token except on /health, /docs and /openapi.json', () => {
    const problems: string[] = [];
    for (const { where, path: p, operation } of operations()) {
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      if (PUBLIC_PATHS.includes(p) !== isPublic) problems.push(`${where}: security is ${JSON.stringify(operation.security)}`);
      const statuses = Object.keys(operation.responses ?? {});
      if (!isPublic && !(statuses.includes('401') && statuses.includes('403'))) problems.push(`${where}: no 401 or 403`);
    }
    expect(problems).toEqual([]);
  });

  it('names path parameters experiment_id, trial_id, schedule_id, halt_id and freeze_id as UUIDs', () => {
    const problems: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      const declared = ((item['parameters'] ?? []) as ParameterObject[]).map(deref);
      for (const name of [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
        const parameter = declared.find((d) => d.in === 'path' && d.name === name);
        if (!['experiment_id', 'trial_id', 'schedule_id', 'halt_id', 'freeze_id'].includes(String(name))) problems.push(`${p}: unexpected path parameter ${name}`);
        if (parameter?.schema?.['type'] !== 'string' || parameter.schema['format'] !== 'uuid') problems.push(`${p}: ${name} is not a uuid string`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('rejects experiment bodies that break the hardening limits', () => {
    const input = schemaValidator('ExperimentInput');
    const step = { step: 'HTTP health check', do: 'cm.http_probe', where: { url: 'https://hello-world.example.com/health' } };
    expect(input({ name: 'ok', steps: [step] })).toBe(true);
    // Kallisti's own test posts `"steps": []` (kallisticore tests/kallisticore/views/test_experiment.py, test_post_with_valid_details).
    expect(input({ name: 'ok', steps: [] })).toBe(true);
    expect(input({ name: '', steps: [step] })).toBe(false);
    expect(input({ name: 'ok', steps: [step], unknown: 1 })).toBe(false);
    expect(input({ name: 'ok', steps: [{ ...step, do: 'http_probe' }] })).toBe(false);
    expect(input({ name: 'ok', steps: [{ ...step, extra: true }] })).toBe(false);
    expect(input({ name: 'ok', steps: [{ ...step, expect: [{ operator: 'eq' }] }] })).toBe(false);
    expect(input({ name: 'ok', steps: [{ ...step, expect: [{ operator: 'eq', status_code: 200, value: 1 }] }] })).toBe(false);
    expect(input({ name: 'ok', steps: [{ ...step, expect: [{ operator: 'is', status_code: 200 }] }] })).toBe(false);
    // Metadata values are any JSON, as Kallisti's DictField; size is bounded by the input limits.
    expect(input({ name: 'ok', steps: [step], metadata: { team: 7, tags: ['a'] } })).toBe(true);
    expect(input({ name: 'ok', steps: [step], metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) })).toBe(false);
    // Read-only fields of a GET answer may be sent back; unknown fields may not.
    expect(input({ name: 'ok', steps: [step], id: 'x', created_by: 'a', created_at: 't', updated_by: 'a', updated_at: 't' })).toBe(true);
    const tooMany = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, i]));
    expect(input({ name: 'ok', steps: [step], parameters: tooMany })).toBe(false);
    expect(input({ name: 'ok', steps: Array.from({ length: 101 }, () => step) })).toBe(false);

    const patch = schemaValidator('ExperimentPatch');
    expect(patch({})).toBe(false);
    expect(patch({ description: 'new' })).toBe(true);
    expect(patch({ steps: [] })).toBe(true);
  });

  it('rejects trial and schedule bodies outside the contract', () => {
    const trial = schemaValidator('TrialInput');
    expect(trial({ experiment: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1', parameters: { n: 1, on: true } })).toBe(true);
    expect(trial({ experiment: 'not-a-uuid' })).toBe(false);
    expect(trial({})).toBe(false);
    // Read-only fields are accepted (and dropped by the API); `initiated_from` is writable, as in Kallisti's serializer.
    expect(trial({ experiment: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1', status: 'Succeeded' })).toBe(true);
    expect(trial({ experiment: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1', initiated_from: 'ui' })).toBe(true);
    expect(trial({ experiment: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1', initiated_from: 'x'.repeat(21) })).toBe(false);
    expect(trial({ experiment: 'd4e4a9cd-d97a-472c-977b-9f92338db2e1', stauts: 'typo' })).toBe(false);

    const schedule = schemaValidator('ScheduleInput');
    expect(schedule({ recurrence_pattern: '*/5 * * * *' })).toBe(true);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_count: null })).toBe(true);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_count: 0 })).toBe(false);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_count: 1.5 })).toBe(false);
    expect(schedule({ recurrence_count: 3 })).toBe(false);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_left: 3 })).toBe(true);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_lfet: 3 })).toBe(false);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_count: 1_000_000 })).toBe(true);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', recurrence_count: 1_000_001 })).toBe(false);
    expect(schedule({ recurrence_pattern: '*/5 * * * *', generation: 3 })).toBe(true);

    const patch = schemaValidator('SchedulePatch');
    expect(patch({})).toBe(false);
    expect(patch({ recurrence_count: null })).toBe(true);
  });
});
