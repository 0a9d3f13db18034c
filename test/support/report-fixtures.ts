import type { Experiment } from '../../functions/domain/experiment.js';
import { emptyTrialRecord, type Trial, type TrialStatus } from '../../functions/domain/trial.js';
import { makeExperiment, makeTrial } from './memory-stores.js';

/** What a step's output or a user's input can put into a report. */
export const HOSTILE = [
  '<script>alert("x")</script>',
  'a & b && c; &amp; is literal, so is &#0;',
  ']]> ends CDATA, <![CDATA[ starts it',
  'quote " and apostrophe \'',
  'NUL\u0000 BS\u0008 ESC\u001b[31mred\u001b[0m VT\u000b FF\u000c',
  'lone high \ud800 lone low \udfff reversed \udc00\ud800',
  'emoji 🔥💥 family 👩‍👩‍👧 flag 🇺🇦',
  'CR\r\nLF\n\ttab',
  'non-characters \uFFFE\uFFFF, DEL\u007f and C1\u0085\u009f',
];

export const HOSTILE_TEXT = HOSTILE.join(' | ');

/** Map keys that are no XML element name, next to ordinary ones. */
export const HOSTILE_KEYS: Record<string, string> = {
  team: 'payments',
  'a b': HOSTILE_TEXT,
  '1st': 'starts with a digit',
  'x:y': 'has a colon',
  '<k>': 'markup',
  '': 'empty',
  xmlns: 'reserved',
  'emoji🔥': 'non-ASCII',
};

export function hostileExperiment(overrides: Partial<Experiment> = {}): Experiment {
  return {
    ...makeExperiment({
      name: `Hostile ${HOSTILE[0]}`,
      description: HOSTILE_TEXT,
      metadata: HOSTILE_KEYS,
      parameters: { base_url: 'http://127.0.0.1:9', nested: { list: [1, true, null, HOSTILE_TEXT], 'bad key': 2 } },
      steps: [{ step: `probe ${HOSTILE[2]}`, do: 'cm.http_probe', where: { url: '{{ base_url }}/health', headers: { 'X-Note': HOSTILE_TEXT } } }],
    }),
    ...overrides,
  };
}

const line = (at: string, level: 'INFO' | 'ERROR', message: string): string => `[${at} - ${level}] ${message}`;

/**
 * A trial of `experiment` in `status`, with a record like the executor writes:
 * a passing pre step, a main step that fails for Failed, a pre step that fails
 * for Aborted, nothing for Invalid, and hostile text in the logs.
 */
export function trialIn(experimentId: string, status: TrialStatus, createdAt: string, overrides: Partial<Trial> = {}): Trial {
  const at = (offsetMs: number): string => new Date(Date.parse(createdAt) + offsetMs).toISOString();
  const record = emptyTrialRecord();
  const started = !['Scheduled', 'Invalid'].includes(status);
  const finished = ['Succeeded', 'Failed', 'Aborted', 'Invalid', 'Stopped'].includes(status);
  if (started) {
    const preFails = status === 'Aborted';
    record.pre_steps.push({
      step_name: 'healthy before',
      step_parameters: { url: 'http://svc/health' },
      logs: [line(at(100), 'INFO', 'Starting cm.http_probe step "healthy before".'), preFails ? line(at(200), 'ERROR', `HTTP probe failed: status 503 ${HOSTILE_TEXT}`) : line(at(200), 'INFO', 'Completed.')],
    });
    if (!preFails) {
      record.steps.push({
        step_name: `probe ${HOSTILE[0]}`,
        step_parameters: { url: 'http://svc/orders', note: HOSTILE_TEXT },
        logs: [
          line(at(300), 'INFO', `Starting cm.http_probe step "probe". Output: ${HOSTILE_TEXT}`),
          status === 'Failed' ? line(at(400), 'ERROR', `Expectation failed: status_code expected eq 200, actual 500. ${HOSTILE[4]}`) : line(at(400), 'INFO', 'Completed.'),
        ],
      });
    }
  }
  const headline: Partial<Record<TrialStatus, string>> = {
    Succeeded: line(at(500), 'INFO', 'Trial Succeeded.'),
    Failed: line(at(500), 'ERROR', `Trial Failed: step 1 ("probe ${HOSTILE[0]}") failed.`),
    Aborted: line(at(500), 'ERROR', 'Trial Aborted: pre step 1 ("healthy before") failed, so the steps were not run.'),
    Invalid: line(at(500), 'ERROR', 'Trial Invalid: no value for parameter(s) base_url in the trial, schedule or experiment parameters.'),
    Stopped: line(at(500), 'ERROR', 'Trial Stopped: a stop was requested during step 1 ("probe").'),
  };
  const result = headline[status];
  if (result) record.result.push({ step_name: 'result', step_parameters: {}, logs: [result] });
  return makeTrial(experimentId, {
    status,
    created_at: createdAt,
    executed_at: started ? at(100) : null,
    completed_at: finished ? at(500) : null,
    parameters: { who: HOSTILE_TEXT },
    metadata: HOSTILE_KEYS,
    ticket: { id: 'CHG-1', note: HOSTILE[1] as string },
    initiated_by: `tester ${HOSTILE[3]}`,
    trial_record: record,
    ...overrides,
  });
}
