import type { Step, StepList } from '../domain/experiment.js';
import { redact, scrubText } from '../domain/redaction.js';
import type { TrialRecordEntry } from '../domain/trial.js';
import type { Json, JsonObject } from '../domain/types.js';
import { isErrorLine } from './trial-log.js';

const MAX_SUMMARY_LENGTH = 300;
const PHASE_LABEL: Record<StepList, string> = { pre_steps: 'pre step', steps: 'step', post_steps: 'post step' };

/** `step 2 ("probe")`, numbered from 1 within its list. */
export function stepLabel(phase: StepList, index: number, step: Step | undefined): string {
  return `${PHASE_LABEL[phase]} ${index + 1}${step ? ` ("${step.step}")` : ''}`;
}

export function isJsonObject(value: Json): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A short, secret-free line about a step's output: its top-level scalar fields (the raw body is left out). */
export function summarize(output: Json, secrets: readonly string[]): string {
  const safe = redact(output);
  let shown: Json = safe;
  if (isJsonObject(safe)) {
    const scalars: JsonObject = {};
    for (const [key, value] of Object.entries(safe)) {
      if (key !== 'response_text' && (value === null || typeof value !== 'object')) scalars[key] = value;
    }
    shown = scalars;
  }
  const text = scrubText(JSON.stringify(shown), secrets);
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH)}…` : text;
}

/** Whether a record entry says how its step ended (an error line, or `Completed.` last). */
export function entryFinished(entry: TrialRecordEntry): boolean {
  return entry.logs.some(isErrorLine) || (entry.logs.at(-1)?.endsWith('] Completed.') ?? false);
}
