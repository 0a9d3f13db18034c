import document from '../../openapi.json' with { type: 'json' };
import { chooseReportFormat } from '../../functions/api/report-format.js';
import { renderJson } from '../../functions/domain/report/json.js';
import { renderJUnit } from '../../functions/domain/report/junit.js';
import { reportOf, type ReportedExperiment } from '../../functions/domain/report/model.js';
import { renderXml } from '../../functions/domain/report/xml.js';
import { TRIAL_STATUSES, type Trial } from '../../functions/domain/trial.js';
import { createAjv } from '../../functions/validation/compile.js';
import { HOSTILE_KEYS, HOSTILE_TEXT, hostileExperiment, trialIn } from '../support/report-fixtures.js';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

const GENERATED = '2024-05-02T00:00:00.000Z';
const ajv = createAjv();
ajv.addSchema(structuredClone(document) as object, 'openapi.json');
const validateReport = ajv.compile({ type: 'array', items: { $ref: 'openapi.json#/components/schemas/ReportExperiment' } });

type Body = Record<string, unknown>;

describe('renderJson', () => {
  const experiment: ReportedExperiment = { ...hostileExperiment(), deleted_at: '2024-05-01T23:00:00.000Z', deleted_by: 'auditor' };
  const trials: Trial[] = TRIAL_STATUSES.map((status, i) => trialIn(experiment.id, status, `2024-05-01T1${i}:00:00.000Z`));

  it('answers the schema of GET /report and keeps every string exactly, lone surrogates included', async () => {
    const body = JSON.parse(await text(renderJson(reportOf(GENERATED, [{ experiment, trials }, { experiment: hostileExperiment(), trials: [] }])))) as Body[];
    expect(validateReport(body)).toBe(true);
    expect(body).toHaveLength(2);
    const [first] = body as [Body];
    expect(Object.keys(first)).toEqual([
      'id',
      'name',
      'description',
      'metadata',
      'parameters',
      'pre_steps',
      'steps',
      'post_steps',
      'created_by',
      'created_at',
      'updated_by',
      'updated_at',
      'deleted_at',
      'deleted_by',
      'trials',
    ]);
    expect(first['description']).toBe(HOSTILE_TEXT);
    expect(first['metadata']).toEqual(HOSTILE_KEYS);
    expect(first['trials']).toEqual(trials);
    expect(body[1]?.['trials']).toEqual([]);
  });

  it('masks credential-named parameters of a trial, as GET /trial does', async () => {
    const running = { ...trialIn(experiment.id, 'In Progress', '2024-05-01T10:00:00.000Z'), parameters: { api_token: 'tok-123', region: 'eu' } };
    const out = await text(renderJson(reportOf(GENERATED, [{ experiment, trials: [running] }])));
    expect(out).not.toContain('tok-123');
    expect((JSON.parse(out) as { trials: Trial[] }[])[0]?.trials[0]?.parameters).toEqual({ api_token: '***', region: 'eu' });
  });

  it('answers an empty array when nothing is selected', async () => {
    expect(await text(renderJson(reportOf(GENERATED, [])))).toBe('[]');
  });
});

describe('openapi.json GET /report examples', () => {
  const response = document.paths['/report'].get.responses['200'].content;
  const [example] = response['application/json'].examples.report.value as unknown as (ReportedExperiment & { trials: Trial[] })[];

  it('are what the renderers write for the same data', async () => {
    expect(example).toBeDefined();
    const { trials, ...experiment } = example as ReportedExperiment & { trials: Trial[] };
    const xmlExample = response['application/xml'].examples.kallisti.value;
    const generatedAt = /generated_at="([^"]+)"/.exec(xmlExample)?.[1] ?? '';
    const report = () => reportOf(generatedAt, [{ experiment, trials }]);
    const stylesheet = /<xsl:stylesheet[\s\S]*<\/xsl:stylesheet>/;
    const xml = await text(renderXml(report()));
    expect(xmlExample.replace(stylesheet, '')).toBe(xml.replace(stylesheet, ''));
    expect(response['application/xml'].examples.junit.value).toBe(await text(renderJUnit(report())));
    expect(JSON.parse(await text(renderJson(report())))).toEqual([example]);
  });
});

describe('chooseReportFormat', () => {
  it('lets format win, and otherwise picks JSON only when Accept prefers it to XML', () => {
    expect(chooseReportFormat('junit', 'application/json')).toBe('junit');
    expect(chooseReportFormat('xml', 'application/json')).toBe('xml');
    expect(chooseReportFormat('json', undefined)).toBe('json');
    expect(chooseReportFormat(undefined, undefined)).toBe('xml');
    expect(chooseReportFormat(undefined, '*/*')).toBe('xml');
    expect(chooseReportFormat(undefined, 'application/json')).toBe('json');
    expect(chooseReportFormat(undefined, 'application/json, text/plain, */*')).toBe('json');
    expect(chooseReportFormat(undefined, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('xml');
    expect(chooseReportFormat(undefined, 'application/xml, application/json;q=0.5')).toBe('xml');
    expect(chooseReportFormat(undefined, 'application/json;q=0.9, text/xml;q=0.5')).toBe('json');
    expect(chooseReportFormat(undefined, 'application/json;q=0')).toBe('xml');
    expect(chooseReportFormat(undefined, 'text/csv')).toBe('xml');
  });
});
