import type { StepList } from '../experiment.js';
import type { Trial, TrialRecordEntry, TrialStatus } from '../trial.js';
import { trialDurationMs, type Report, type StatusTally } from './model.js';
import { xmlAttributes, xmlText } from './xml-escape.js';

/**
 * How a trial shows up in a CI system.
 * - `passed`: Succeeded.
 * - `failure`: Failed (a step, an expectation or a post step failed), Aborted (a
 *   pre step failed, so the system was not fit to test), Invalid (missing
 *   parameters): the experiment did not show the system resilient.
 * - `skipped`: Stopped (someone stopped it on purpose: no verdict), and trials not
 *   finished when the report was made (Scheduled, In Progress, Stop Initiated).
 * `error` is left for failures of the test machinery itself, which a trial's
 * status cannot tell apart, so it is always 0.
 */
export type JUnitOutcome = 'passed' | 'failure' | 'skipped';

const OUTCOMES: Record<TrialStatus, JUnitOutcome> = {
  Succeeded: 'passed',
  Failed: 'failure',
  Aborted: 'failure',
  Invalid: 'failure',
  Stopped: 'skipped',
  Scheduled: 'skipped',
  'In Progress': 'skipped',
  'Stop Initiated': 'skipped',
};

export function junitOutcome(status: TrialStatus): JUnitOutcome {
  return OUTCOMES[status];
}

export interface JUnitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export function junitCounts(tally: StatusTally): JUnitCounts {
  const counts: JUnitCounts = { tests: tally.total, failures: 0, errors: 0, skipped: 0 };
  for (const [status, n] of Object.entries(tally.byStatus) as [TrialStatus, number][]) {
    const outcome = junitOutcome(status);
    if (outcome === 'failure') counts.failures += n;
    if (outcome === 'skipped') counts.skipped += n;
  }
  return counts;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

const ERROR_LINE = /^\[[^\]]* - ERROR\] /;
const LINE_PREFIX = /^\[[^\]]*\] /;
const PHASES: readonly StepList[] = ['pre_steps', 'steps', 'post_steps'];
const PHASE_LABEL: Record<StepList, string> = { pre_steps: 'pre step', steps: 'step', post_steps: 'post step' };

function recordOf(trial: Trial, phase: StepList | 'result'): TrialRecordEntry[] {
  return trial.trial_record?.[phase] ?? [];
}

/** The result's first error line without its `[time - LEVEL]` prefix, e.g. `Trial Failed: step 2 ("probe") failed.` */
function headline(trial: Trial): string {
  const lines = recordOf(trial, 'result').flatMap((e) => e.logs ?? []);
  const line = lines.find((l) => ERROR_LINE.test(l)) ?? lines[0];
  return line ? line.replace(LINE_PREFIX, '') : `Trial ${trial.status}`;
}

function entryText(label: string, entry: TrialRecordEntry): string {
  return [`${label}: ${entry.step_name}`, ...(entry.logs ?? [])].join('\n');
}

/** The step that failed (the first with an error line), with its logs, then the trial's result lines. */
function failureText(trial: Trial): string {
  const parts: string[] = [];
  for (const phase of PHASES) {
    const index = recordOf(trial, phase).findIndex((e) => (e.logs ?? []).some((l) => ERROR_LINE.test(l)));
    const entry = recordOf(trial, phase)[index];
    if (entry) {
      parts.push(entryText(`${PHASE_LABEL[phase]} ${index + 1}`, entry));
      break;
    }
  }
  const result = recordOf(trial, 'result').flatMap((e) => e.logs ?? []);
  if (result.length > 0) parts.push(result.join('\n'));
  return parts.join('\n\n');
}

/** The whole trial as a CI log: who ran it, with what, then every step's logs. */
function systemOut(trial: Trial): string {
  const header = [
    `Trial ${trial.id} ${trial.status}`,
    `initiated by ${trial.initiated_by} via ${trial.schedule_id ? `schedule ${trial.schedule_id}` : trial.initiated_from}`,
    `created ${trial.created_at}; executed ${trial.executed_at ?? '-'}; completed ${trial.completed_at ?? '-'}`,
    `parameters ${JSON.stringify(trial.parameters ?? {})}`,
  ];
  if (Object.keys(trial.ticket ?? {}).length > 0) header.push(`ticket ${JSON.stringify(trial.ticket)}`);
  const steps = PHASES.flatMap((phase) => recordOf(trial, phase).map((entry, i) => entryText(`${PHASE_LABEL[phase]} ${i + 1}`, entry)));
  const result = recordOf(trial, 'result').flatMap((e) => e.logs ?? []);
  return [header.join('\n'), ...steps, ...(result.length > 0 ? [`result\n${result.join('\n')}`] : [])].join('\n\n');
}

export function renderTestcase(trial: Trial, classname: string): string {
  const outcome = junitOutcome(trial.status);
  const attributes = xmlAttributes({
    name: trial.id,
    classname,
    time: seconds(trialDurationMs(trial)),
    timestamp: trial.executed_at ?? undefined,
  });
  let verdict = '';
  if (outcome === 'failure') {
    verdict = `\n      <failure${xmlAttributes({ message: headline(trial), type: trial.status })}>${xmlText(failureText(trial))}</failure>`;
  } else if (outcome === 'skipped') {
    const message = trial.status === 'Stopped' ? headline(trial) : `Trial ${trial.status} when the report was made`;
    verdict = `\n      <skipped${xmlAttributes({ message })}/>`;
  }
  return `\n    <testcase${attributes}>${verdict}\n      <system-out>${xmlText(systemOut(trial))}</system-out>\n    </testcase>`;
}

/**
 * JUnit XML (the Ant/Jenkins dialect CI systems read): one `<testsuite>` per
 * experiment, one `<testcase>` per trial. Counts come from the tallies, so
 * each suite's opening tag is written before its trials are read.
 */
export async function* renderJUnit(report: Report): AsyncGenerator<string> {
  const total = junitCounts(report.tally);
  yield '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites${xmlAttributes({ name: 'kallisti', tests: total.tests, failures: total.failures, errors: total.errors, time: seconds(report.tally.durationMs) })}>`;
  for await (const section of report.sections) {
    const { experiment, tally } = section;
    const counts = junitCounts(tally);
    yield `\n  <testsuite${xmlAttributes({
      name: experiment.name,
      id: experiment.id,
      tests: counts.tests,
      failures: counts.failures,
      errors: counts.errors,
      skipped: counts.skipped,
      time: seconds(tally.durationMs),
    })}>` +
      `\n    <properties>${[
        ['experiment.id', experiment.id],
        ['experiment.description', experiment.description],
        ['experiment.deleted_at', experiment.deleted_at],
      ]
        .filter(([, value]) => value)
        .map(([name, value]) => `\n      <property${xmlAttributes({ name, value })}/>`)
        .join('')}\n    </properties>`;
    for await (const trial of section.trials) yield renderTestcase(trial, experiment.name);
    yield '\n  </testsuite>';
  }
  yield '\n</testsuites>\n';
}
