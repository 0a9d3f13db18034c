import type { JsonObject, StringMap } from '../types.js';

/**
 * What a halt or a freeze window applies to: every experiment when `labels` is
 * empty, otherwise the experiments whose metadata has every one of the labels.
 */
export interface SafetyScope {
  labels: StringMap;
}

export const EVERYTHING: SafetyScope = { labels: {} };

function hasLabels(labels: StringMap, metadata: JsonObject): boolean {
  return Object.entries(labels).every(([name, value]) => metadata[name] === value);
}

/**
 * Whether a trial falls in `scope`. Both the experiment's own metadata and the
 * trial's (experiment metadata overlaid by the trial or schedule's) are checked,
 * so a trial cannot step out of a halt by relabelling itself.
 */
export function inScope(scope: SafetyScope, metadata: { experiment?: JsonObject; trial?: JsonObject }): boolean {
  if (Object.keys(scope.labels).length === 0) return true;
  return [metadata.experiment, metadata.trial].some((labels) => labels !== undefined && hasLabels(scope.labels, labels));
}

export function describeScope(scope: SafetyScope): string {
  const entries = Object.entries(scope.labels);
  if (entries.length === 0) return 'every experiment';
  return `experiments labelled ${entries.map(([name, value]) => `${name}=${value}`).join(', ')}`;
}
