import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import document from '../../openapi.json' with { type: 'json' };
import { DynamoExperimentStore } from '../../functions/adapters/dynamodb/experiment-store.js';
import { DynamoTrialStore } from '../../functions/adapters/dynamodb/trial-store.js';
import { makeApiHandler } from '../../functions/api/app.js';
import { openAccess } from '../../functions/api/identity.js';
import { makeRoutes } from '../../functions/api/routes.js';
import type { ReportLimits } from '../../functions/domain/report/limits.js';
import { xmlSafe } from '../../functions/domain/report/xml-escape.js';
import { TRIAL_STATUSES, type Trial } from '../../functions/domain/trial.js';
import { createAjv } from '../../functions/validation/compile.js';
import { buildUseCases } from '../../functions/wiring.js';
import { DynamoNotificationStore } from '../../functions/adapters/dynamodb/notification-store.js';
import { apiEvent, lambdaContext } from '../support/api-events.js';
import { startApiHarness } from '../support/api-harness.js';
import { experimentBody } from '../support/fixtures.js';
import { junitSchemaProblems } from '../support/junit-schema.js';
import { HOSTILE, trialIn } from '../support/report-fixtures.js';
import { child, childElements, parseXml, textOf, type XmlElement } from '../support/xml.js';

type Harness = Awaited<ReturnType<typeof startApiHarness>>;
type Body = Record<string, unknown>;
let api: Harness;

beforeEach(async () => {
  api = await startApiHarness();
});
afterEach(() => api.close());

const ajv = createAjv();
ajv.addSchema(structuredClone(document) as object, 'openapi.json');
const validateJsonReport = ajv.compile({ type: 'array', items: { $ref: 'openapi.json#/components/schemas/ReportExperiment' } });

async function createExperiment(name: string): Promise<string> {
  const res = await api.call('POST', '/experiment', experimentBody({ name }));
  expect(res.status).toBe(201);
  return String((res.body as Body)['id']);
}

async function storeTrial(experimentId: string, status: Trial['status'], createdAt: string): Promise<Trial> {
  const trial = trialIn(experimentId, status, createdAt);
  await api.trials.create(trial);
  return trial;
}

/** Experiments of an XML report (`root/list-item`), each with the ids of its trials. */
function xmlExperiments(xml: string): { id: string; name: string; trials: string[]; element: XmlElement }[] {
  const { root } = parseXml(xml);
  return childElements(child(root, 'root'), 'list-item').map((element) => ({
    id: textOf(child(element, 'id')),
    name: textOf(child(element, 'name')),
    trials: childElements(child(element, 'trials'), 'list-item').map((t) => textOf(child(t, 'id'))),
    element,
  }));
}

/** A second API handler on the harness's table, with its own report limits and a client that records what it sends. */
function reportApi(limits: Partial<ReportLimits>) {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: (command: { input: Record<string, unknown> }) => {
      sent.push({ command: command.constructor.name, input: command.input });
      return api.dynamo.documentClient.send(command as Parameters<DynamoDBDocumentClient['send']>[0]);
    },
  } as unknown as DynamoDBDocumentClient;
  const useCases = buildUseCases({
    experiments: new DynamoExperimentStore(client, api.dynamo.tableName),
    trials: new DynamoTrialStore(client, api.dynamo.tableName),
    schedules: api.schedules,
    safety: api.safety,
    notifications: new DynamoNotificationStore(client, api.dynamo.tableName),
    queue: api.queue,
    cloud: api.cloud,
    reportLimits: limits,
  });
  const handler = makeApiHandler({ routes: makeRoutes({ ...useCases, docsAssetsBase: '/assets', info: { version: '0.1.0', platform: { TOKEN_URL: '', AUTHORIZE_URL: '' } } }), authenticator: openAccess });
  const get = async (path: string) => {
    const result = await handler(apiEvent('GET', path), lambdaContext);
    return { status: result.statusCode, body: result.body };
  };
  return { sent, get };
}

describe('GET /report', () => {
  it('answers Kallisti XML by default: experiments by newest trial, their trials newest first', async () => {
    const a = await createExperiment('first');
    const b = await createExperiment('second');
    const a1 = await storeTrial(a, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const b1 = await storeTrial(b, 'Failed', '2024-05-01T11:00:00.000Z');
    const a2 = await storeTrial(a, 'Aborted', '2024-05-01T12:00:00.000Z');

    const res = await api.call('GET', '/report');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'Content-Type': 'application/xml; charset=utf-8', 'Content-Disposition': 'inline; filename="kallisti-report.xml"', Vary: 'Accept' });
    const experiments = xmlExperiments(res.text);
    expect(experiments.map((e) => [e.name, e.trials])).toEqual([
      ['first', [a2.id, a1.id]],
      ['second', [b1.id]],
    ]);
    const trial = childElements(child(experiments[0]?.element as XmlElement, 'trials'), 'list-item')[0] as XmlElement;
    expect(textOf(child(trial, 'status'))).toBe('Aborted');
    expect(textOf(child(trial, 'initiated_by'))).toBe(xmlSafe(a2.initiated_by));
    expect(textOf(child(trial, 'completed_at'))).toBe(a2.completed_at);
  });

  it('answers JUnit XML that passes the JUnit schema, one suite per experiment', async () => {
    const a = await createExperiment('junit');
    const trials = await Promise.all(TRIAL_STATUSES.map((status, i) => storeTrial(a, status, `2024-05-01T1${i}:00:00.000Z`)));
    const res = await api.call('GET', '/report?format=junit', undefined, { Accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toBe('application/xml; charset=utf-8');
    expect(res.headers['Content-Disposition']).toBe('inline; filename="kallisti-report.junit.xml"');
    const { root } = parseXml(res.text);
    expect(junitSchemaProblems(root)).toEqual([]);
    expect(root.attributes).toMatchObject({ tests: '8', failures: '3', errors: '0' });
    const [suite] = childElements(root, 'testsuite');
    expect(suite?.attributes).toMatchObject({ name: 'junit', id: a, tests: '8', failures: '3', skipped: '4' });
    expect(childElements(suite as XmlElement, 'testcase').map((c) => c.attributes['name'])).toEqual(trials.map((t) => t.id).reverse());
  });

  it('answers JSON for Accept: application/json or format=json, XML when XML is preferred or asked for', async () => {
    const a = await createExperiment('json');
    const trial = await storeTrial(a, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const viaAccept = await api.call('GET', '/report', undefined, { Accept: 'application/json' });
    expect(viaAccept.status).toBe(200);
    expect(viaAccept.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(validateJsonReport(viaAccept.body)).toBe(true);
    expect(viaAccept.body).toEqual([expect.objectContaining({ id: a, name: 'json', trials: [trial] })]);
    const viaFormat = await api.call('GET', '/report?format=json');
    expect(viaFormat.body).toEqual(viaAccept.body);
    const browser = await api.call('GET', '/report', undefined, { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    expect(browser.headers['Content-Type']).toBe('application/xml; charset=utf-8');
    const forced = await api.call('GET', '/report?format=xml', undefined, { Accept: 'application/json' });
    expect(forced.headers['Content-Type']).toBe('application/xml; charset=utf-8');
  });

  it('filters by experiment, by trial id and by created_at range', async () => {
    const a = await createExperiment('a');
    const b = await createExperiment('b');
    const empty = await createExperiment('no trials');
    const a1 = await storeTrial(a, 'Succeeded', '2024-05-01T10:00:00.000Z');
    const a2 = await storeTrial(a, 'Failed', '2024-05-02T10:00:00.000Z');
    const b1 = await storeTrial(b, 'Succeeded', '2024-05-03T10:00:00.000Z');

    const byExperiment = xmlExperiments((await api.call('GET', `/report?experiment=${a}`)).text);
    expect(byExperiment.map((e) => [e.id, e.trials])).toEqual([[a, [a2.id, a1.id]]]);
    const noTrials = xmlExperiments((await api.call('GET', `/report?experiment=${empty}`)).text);
    expect(noTrials.map((e) => [e.name, e.trials])).toEqual([['no trials', []]]);
    const byTrial = xmlExperiments((await api.call('GET', `/report?trial-id=${a1.id}`)).text);
    expect(byTrial.map((e) => [e.id, e.trials])).toEqual([[a, [a1.id]]]);

    const range = xmlExperiments((await api.call('GET', '/report?from=2024-05-02T10:00:00Z&to=2024-05-03T10:00:00Z')).text);
    expect(range.map((e) => [e.id, e.trials])).toEqual([[a, [a2.id]]]);
    const fromOnly = xmlExperiments((await api.call('GET', '/report?from=2024-05-02T00:00:00Z')).text);
    expect(fromOnly.map((e) => [e.id, e.trials])).toEqual([
      [b, [b1.id]],
      [a, [a2.id]],
    ]);
    const toOnly = xmlExperiments((await api.call('GET', `/report?experiment=${a}&to=2024-05-02T00:00:00%2B02:00`)).text);
    expect(toOnly.map((e) => e.trials)).toEqual([[a1.id]]);
  });

  it('keeps reporting the trials of a deleted experiment, marked deleted', async () => {
    const a = await createExperiment('deleted later');
    const trial = await storeTrial(a, 'Succeeded', '2024-05-01T10:00:00.000Z');
    expect((await api.call('DELETE', `/experiment/${a}`)).status).toBe(204);
    const all = await api.call('GET', '/report?format=json');
    expect(all.body).toEqual([expect.objectContaining({ id: a, deleted_at: expect.any(String), deleted_by: 'anonymous', trials: [trial] })]);
    expect((await api.call('GET', `/report?experiment=${a}`)).status).toBe(200);
    expect(xmlExperiments((await api.call('GET', `/report?trial-id=${trial.id}`)).text).map((e) => e.trials)).toEqual([[trial.id]]);
  });

  it('answers 404 for an unknown trial-id or experiment and 400 for malformed filters', async () => {
    const unknown = '3f1c1f0e-8a9a-4a4e-9d59-9b7bb0f4c7a1';
    const trial = await api.call('GET', `/report?trial-id=${unknown}`);
    expect(trial.status).toBe(404);
    expect(trial.headers['Content-Type']).toBe('application/json');
    expect((trial.body as Body)['message']).toBe(`Trial ${unknown} not found`);
    expect((await api.call('GET', `/report?experiment=${unknown}`)).status).toBe(404);
    for (const [query, path] of [
      ['trial-id=abc', 'trial-id'],
      ['experiment=abc', 'experiment'],
      ['from=yesterday', 'from'],
      ['to=2024-05-01', 'to'],
      ['format=csv', 'format'],
      ['from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z', 'from'],
    ] as const) {
      const res = await api.call('GET', `/report?${query}`);
      expect(res.status).toBe(400);
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(path);
    }
  });

  it('refuses a selection over the trial cap with a 400 that says how to narrow it', async () => {
    const a = await createExperiment('big');
    for (let i = 0; i < 4; i += 1) await storeTrial(a, 'Succeeded', `2024-05-01T1${i}:00:00.000Z`);
    const capped = reportApi({ maxTrials: 3 });
    const res = await capped.get('/report?format=junit');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ message: 'The report would hold more than 3 trials; narrow the report with from and to (or with experiment or trial-id).' });
    const narrowed = await capped.get('/report?format=junit&from=2024-05-01T11:00:00Z');
    expect(narrowed.status).toBe(200);
    expect(parseXml(narrowed.body).root.attributes['tests']).toBe('3');
  });

  it('refuses a report over the byte cap with a 400', async () => {
    const a = await createExperiment('wordy');
    await storeTrial(a, 'Failed', '2024-05-01T10:00:00.000Z');
    const res = await reportApi({ maxBytes: 2000 }).get('/report');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ message: 'The report is larger than 2000 bytes; narrow the report with from and to (or with experiment or trial-id).' });
  });

  it('reads the store with bounded Query pages and GetItem, never a Scan', async () => {
    const a = await createExperiment('many');
    const other = await createExperiment('other');
    for (let i = 0; i < 60; i += 1) await storeTrial(i % 3 === 0 ? other : a, 'Succeeded', new Date(Date.parse('2024-05-01T00:00:00.000Z') + i * 60_000).toISOString());
    const spied = reportApi({});
    const res = await spied.get('/report?format=junit');
    expect(res.status).toBe(200);
    const { root } = parseXml(res.body);
    expect(childElements(root, 'testsuite').map((s) => [s.attributes['name'], s.attributes['tests'], childElements(s, 'testcase').length])).toEqual([
      ['many', '40', 40],
      ['other', '20', 20],
    ]);
    expect(new Set(spied.sent.map((s) => s.command))).toEqual(new Set(['QueryCommand', 'GetCommand']));
    // Index queries page through trials; each trial's record is one Query of its own partition.
    const queries = spied.sent.filter((s) => s.command === 'QueryCommand' && s.input['IndexName'] !== undefined);
    const records = spied.sent.filter((s) => s.command === 'QueryCommand' && s.input['IndexName'] === undefined);
    expect(records.every((q) => q.input['KeyConditionExpression'] === 'pk = :pk')).toBe(true);
    expect(queries.every((q) => typeof q.input['Limit'] === 'number' && (q.input['Limit'] as number) <= 100)).toBe(true);
    // Counting reads every trial once (one page), rendering reads each experiment's in pages of 25.
    expect(queries.map((q) => [q.input['IndexName'], q.input['Limit']])).toEqual([
      ['gsi1', 100],
      ['gsi2', 25],
      ['gsi2', 25],
      ['gsi2', 25],
    ]);
  });

  it('carries hostile step output through the store into well-formed XML and JUnit', async () => {
    // A name is user input, where text that is not Unicode (a lone surrogate) is refused (cut by code points, not
    // UTF-16 units, so no emoji is cut in half); step output may still carry it.
    const name = [...`hostile ${HOSTILE.filter((text) => !/\p{Cs}/u.test(text)).join(' | ')}`].slice(0, 200).join('');
    const a = await createExperiment(name);
    const trial = await storeTrial(a, 'Failed', '2024-05-01T10:00:00.000Z');
    const xml = await api.call('GET', '/report');
    const [experiment] = xmlExperiments(xml.text);
    expect(experiment?.trials).toEqual([trial.id]);
    const junit = parseXml((await api.call('GET', '/report?format=junit')).text).root;
    expect(junitSchemaProblems(junit)).toEqual([]);
    const failure = child(childElements(child(junit, 'testsuite'), 'testcase')[0] as XmlElement, 'failure');
    expect(textOf(failure)).toContain(xmlSafe(trial.trial_record.steps[0]?.logs[1] ?? 'missing'));
    const json = await api.call('GET', '/report', undefined, { Accept: 'application/json' });
    expect((json.body as { trials: Trial[] }[])[0]?.trials[0]?.trial_record).toEqual(trial.trial_record);
  });
});

describe('DynamoTrialStore.list with a time range', () => {
  it('keeps created_at in [from, to) on both indexes, pages within the range, and answers nothing for an empty range', async () => {
    const a = await createExperiment('ranged');
    const b = await createExperiment('other');
    const trials: Trial[] = [];
    for (let i = 0; i < 6; i += 1) trials.push(await storeTrial(i % 2 === 0 ? a : b, 'Succeeded', `2024-05-0${i + 1}T00:00:00.000Z`));
    const ids = (items: Trial[]) => items.map((t) => t.id);
    const range = { from: '2024-05-02T00:00:00.000Z', to: '2024-05-05T00:00:00.000Z' };

    const first = await api.trials.list({ range }, { limit: 2 });
    expect(ids(first.items)).toEqual([trials[3]?.id, trials[2]?.id]);
    const second = await api.trials.list({ range }, { limit: 2, nextToken: first.nextToken });
    expect(ids(second.items)).toEqual([trials[1]?.id]);
    expect(second.nextToken).toBeUndefined();

    expect(ids((await api.trials.list({ experiment: a, range }, { limit: 10 })).items)).toEqual([trials[2]?.id]);
    expect(ids((await api.trials.list({ experiment: a, range: { from: range.from } }, { limit: 10 })).items)).toEqual([trials[4]?.id, trials[2]?.id]);
    expect(ids((await api.trials.list({ range: { to: '2024-05-02T00:00:00.000Z' } }, { limit: 10 })).items)).toEqual([trials[0]?.id]);
    expect((await api.trials.list({ range: { from: range.to, to: range.from } }, { limit: 10 })).items).toEqual([]);
    expect((await api.trials.list({ range: { from: range.from, to: range.from } }, { limit: 10 })).items).toEqual([]);
  });
});
