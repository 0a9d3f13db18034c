import type { TrialRecordEntry } from './trial.js';
import type { JsonObject } from './types.js';

/**
 * Each record entry is stored as its own item (DynamoDB: at most 400 KB), written once
 * when its step ends. These caps keep every entry far below that, whatever a step
 * prints, so a step's output can never make its trial unsavable.
 */
export const RECORD_LIMITS = {
  /** One log line, in characters; longer lines keep their start and say how much was cut. */
  maxLineChars: 4 * 1024,
  /** Log lines of one entry; the first ones and the last ones are kept. */
  maxLines: 200,
  /** All log lines of one entry together, in characters. */
  maxLogChars: 64 * 1024,
  /** `step_parameters` as JSON, in characters; larger ones are replaced by a marker. */
  maxParametersChars: 32 * 1024,
} as const;

/** An entry cut to the limits: `truncated` is set (and each cut says so in place) only when something was cut. */
export type BoundedEntry = TrialRecordEntry & { truncated?: true };

function cutLine(line: string): string {
  if (line.length <= RECORD_LIMITS.maxLineChars) return line;
  return `${line.slice(0, RECORD_LIMITS.maxLineChars)}… [truncated: ${line.length - RECORD_LIMITS.maxLineChars} more characters]`;
}

function boundLines(logs: readonly string[]): { logs: string[]; cut: boolean } {
  const lines = logs.map(cutLine);
  const shortened = lines.some((line, i) => line !== logs[i]);
  let total = lines.reduce((sum, line) => sum + line.length, 0);
  if (lines.length <= RECORD_LIMITS.maxLines && total <= RECORD_LIMITS.maxLogChars) return { logs: lines, cut: shortened };
  // The start (what the step set out to do) and the end (how it ended) matter most:
  // lines are left out from the middle, and a marker says how many.
  const room = RECORD_LIMITS.maxLines - 1;
  const head = lines.slice(0, Math.ceil(Math.min(room, lines.length) / 2));
  const tail = lines.slice(lines.length - Math.floor(Math.min(room, lines.length) / 2));
  total = [...head, ...tail].reduce((sum, line) => sum + line.length, 0);
  while (total > RECORD_LIMITS.maxLogChars - 100 && head.length + tail.length > 2) {
    const removed = head.length > tail.length ? head.pop() : tail.shift();
    total -= removed?.length ?? 0;
  }
  const left = lines.length - head.length - tail.length;
  return { logs: [...head, `[truncated: ${left} log line(s) left out]`, ...tail], cut: true };
}

/** A copy of `entry` within RECORD_LIMITS; unchanged (and without `truncated`) when it already fits. */
export function boundEntry(entry: TrialRecordEntry): BoundedEntry {
  const { logs, cut } = boundLines(entry.logs);
  let parameters: JsonObject = entry.step_parameters;
  let parametersCut = false;
  const json = JSON.stringify(entry.step_parameters);
  if (json.length > RECORD_LIMITS.maxParametersChars) {
    parameters = { truncated: `step parameters of ${json.length} characters left out (limit ${RECORD_LIMITS.maxParametersChars})` };
    parametersCut = true;
  }
  const stepName = cutLine(entry.step_name);
  const bounded: BoundedEntry = { step_name: stepName, step_parameters: parameters, logs };
  if (cut || parametersCut || stepName !== entry.step_name) bounded.truncated = true;
  return bounded;
}
