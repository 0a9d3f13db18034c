import { junitOutcome, renderJUnit } from '../../functions/domain/report/junit.js';
import { reportOf } from '../../functions/domain/report/model.js';
import { xmlSafe } from '../../functions/domain/report/xml-escape.js';
import { TRIAL_STATUSES, type Trial } from '../../functions/domain/trial.js';
import { makeExperiment } from '../support/memory-stores.js';
import { junitSchemaProblems } from '../support/junit-schema.js';
import { HOSTILE, HOSTILE_TEXT, hostileExperiment, trialIn } from '../support/report-fixtures.js';
import { child, childElements, parseXml, textOf, type XmlElement } from '../support/xml.js';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

const GENERATED = '2024-05-02T00:00:00.000Z';
const experiment = hostileExperiment();
const other = makeExperiment({ name: 'second', steps: [{ step: 's', do: 'cm.wait', where: { time_in_seconds: 1 } }] });
const trials: Trial[] = TRIAL_STATUSES.map((status, i) => trialIn(experiment.id, status, `2024-05-01T1${i}:00:00.000Z`));
const otherTrials = [trialIn(other.id, 'Succeeded', '2024-05-01T09:00:00.000Z'), trialIn(other.id, 'Failed', '2024-05-01T08:00:00.000Z')];

async function render(): Promise<{ xml: string; root: XmlElement }> {
  const xml = await text(renderJUnit(reportOf(GENERATED, [{ experiment, trials }, { experiment: other, trials: otherTrials }])));
  return { xml, root: parseXml(xml).root };
}

function testcases(suite: XmlElement): XmlElement[] {
  return childElements(suite, 'testcase');
}

function caseOf(root: XmlElement, trial: Trial): XmlElement {
  const found = childElements(root, 'testsuite').flatMap(testcases).find((c) => c.attributes['name'] === trial.id);
  if (!found) throw new Error(`no testcase for ${trial.id}`);
  return found;
}

describe('renderJUnit', () => {
  it('is valid against the Jenkins/Ant JUnit schema, hostile text included', async () => {
    const { root } = await render();
    expect(junitSchemaProblems(root)).toEqual([]);
  });

  it('writes one testsuite per experiment and one testcase per trial, with consistent counts', async () => {
    const { root } = await render();
    const suites = childElements(root, 'testsuite');
    expect(suites.map((s) => s.attributes['name'])).toEqual([xmlSafe(experiment.name), 'second']);
    expect(suites.map((s) => s.attributes['id'])).toEqual([experiment.id, other.id]);
    expect(testcases(suites[0] as XmlElement).map((c) => c.attributes['name'])).toEqual(trials.map((t) => t.id));
    expect(testcases(suites[0] as XmlElement).every((c) => c.attributes['classname'] === xmlSafe(experiment.name))).toBe(true);
    // Failed, Aborted, Invalid fail; Stopped and the unfinished three are skipped.
    expect(suites[0]?.attributes).toMatchObject({ tests: '8', failures: '3', errors: '0', skipped: '4' });
    expect(suites[1]?.attributes).toMatchObject({ tests: '2', failures: '1', errors: '0', skipped: '0' });
    expect(root.attributes).toMatchObject({ name: 'kallisti', tests: '10', failures: '4', errors: '0' });
    for (const suite of suites) {
      const cases = testcases(suite);
      expect(cases).toHaveLength(Number(suite.attributes['tests']));
      expect(cases.filter((c) => childElements(c, 'failure').length > 0)).toHaveLength(Number(suite.attributes['failures']));
      expect(cases.filter((c) => childElements(c, 'skipped').length > 0)).toHaveLength(Number(suite.attributes['skipped']));
    }
  });

  it('maps each status to passed, failure or skipped', () => {
    expect(Object.fromEntries(TRIAL_STATUSES.map((s) => [s, junitOutcome(s)]))).toEqual({
      Scheduled: 'skipped',
      'In Progress': 'skipped',
      Succeeded: 'passed',
      Failed: 'failure',
      Aborted: 'failure',
      Invalid: 'failure',
      'Stop Initiated': 'skipped',
      Stopped: 'skipped',
    });
  });

  it('puts the failing step and its logs into the failure, headed by the trial result', async () => {
    const { root } = await render();
    const failed = trials[TRIAL_STATUSES.indexOf('Failed')] as Trial;
    const failure = child(caseOf(root, failed), 'failure');
    expect(failure.attributes['type']).toBe('Failed');
    expect(failure.attributes['message']).toBe(xmlSafe(`Trial Failed: step 1 ("probe ${HOSTILE[0]}") failed.`));
    const body = textOf(failure);
    expect(body.startsWith(xmlSafe(`step 1: probe ${HOSTILE[0]}`))).toBe(true);
    for (const line of failed.trial_record.steps[0]?.logs ?? []) expect(body).toContain(xmlSafe(line));
    expect(body).not.toContain('healthy before');

    const aborted = trials[TRIAL_STATUSES.indexOf('Aborted')] as Trial;
    const abortedFailure = child(caseOf(root, aborted), 'failure');
    expect(abortedFailure.attributes['type']).toBe('Aborted');
    expect(textOf(abortedFailure)).toContain(xmlSafe(`HTTP probe failed: status 503 ${HOSTILE_TEXT}`));

    const invalid = child(caseOf(root, trials[TRIAL_STATUSES.indexOf('Invalid')] as Trial), 'failure');
    expect(invalid.attributes['message']).toContain('no value for parameter(s) base_url');
  });

  it('skips Stopped trials with the stop reason and unfinished ones as not finished', async () => {
    const { root } = await render();
    expect(child(caseOf(root, trials[TRIAL_STATUSES.indexOf('Stopped')] as Trial), 'skipped').attributes['message']).toBe('Trial Stopped: a stop was requested during step 1 ("probe").');
    expect(child(caseOf(root, trials[TRIAL_STATUSES.indexOf('In Progress')] as Trial), 'skipped').attributes['message']).toBe('Trial In Progress when the report was made');
  });

  it('gives every trial its duration, start time and full log in system-out', async () => {
    const { root } = await render();
    const succeeded = trials[TRIAL_STATUSES.indexOf('Succeeded')] as Trial;
    const testcase = caseOf(root, succeeded);
    expect(testcase.attributes).toMatchObject({ time: '0.400', timestamp: succeeded.executed_at });
    expect(childElements(testcase).map((e) => e.name)).toEqual(['system-out']);
    const out = textOf(child(testcase, 'system-out'));
    expect(out).toContain(`Trial ${succeeded.id} Succeeded`);
    expect(out).toContain(xmlSafe(`initiated by tester ${HOSTILE[3]} via api`));
    for (const line of [...succeeded.trial_record.pre_steps, ...succeeded.trial_record.steps, ...succeeded.trial_record.result].flatMap((e) => e.logs)) {
      expect(out).toContain(xmlSafe(line));
    }
    const scheduled = caseOf(root, trials[TRIAL_STATUSES.indexOf('Scheduled')] as Trial);
    expect(scheduled.attributes['time']).toBe('0.000');
    expect(scheduled.attributes['timestamp']).toBeUndefined();
  });

  it('writes a valid empty document when nothing is selected', async () => {
    const { root } = parseXml(await text(renderJUnit(reportOf(GENERATED, []))));
    expect(root.attributes).toMatchObject({ tests: '0', failures: '0', errors: '0' });
    expect(junitSchemaProblems(root)).toEqual([]);
  });

  it('is rejected by the schema check when it breaks the schema (the check is not vacuous)', () => {
    const { root } = parseXml('<testsuites><testsuite tests="x"><testcase name="a"><bogus/></testcase><properties/></testsuite></testsuites>');
    expect(junitSchemaProblems(root)).toEqual([
      'testsuites/testsuite[0]: missing attribute name',
      'testsuites/testsuite[0]: tests="x" is not a count',
      'testsuites/testsuite[0]/testcase[0]/bogus[0]: not allowed in <testcase>',
      'testsuites/testsuite[0]/properties[1]: out of order in <testsuite>',
      'testsuites/testsuite[0]/properties[1]: 0 <property> (allowed 1 to Infinity)',
    ]);
  });
});
