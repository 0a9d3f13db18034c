/**
 * Every metric Kallisti publishes: CloudWatch (Embedded Metric Format) on AWS,
 * Prometheus text on `GET /metrics` locally. The CDK dashboard and alarms are built
 * from these names, so a metric shown or alarmed on is one the code can publish.
 *
 * Dimensions are few on purpose: every distinct combination of dimension values is a
 * separate CloudWatch custom metric, billed monthly. An experiment id is therefore
 * never a dimension; where it matters it travels as `context` (an EMF property, which
 * CloudWatch Logs Insights can group by at no metric cost, and a Prometheus label,
 * which costs nothing locally).
 */

export const METRICS_NAMESPACE = 'Kallisti';

/** The one dimension on every metric: `kallisti-<stage>` on AWS, so stages in one account stay apart. */
export const SERVICE_DIMENSION = 'service';

export type MetricUnit = 'Count' | 'Milliseconds';

export interface MetricDefinition {
  readonly unit: MetricUnit;
  /** CloudWatch dimensions (and Prometheus labels). */
  readonly dimensions: readonly string[];
  /** Extra facts: EMF properties (not dimensions) on AWS, extra labels locally. */
  readonly context: readonly string[];
  /** Count: a Prometheus counter summing values. Milliseconds: a histogram in seconds. */
  readonly help: string;
  /** Histogram buckets (seconds) for Milliseconds metrics locally. */
  readonly buckets?: readonly number[];
}

const STEP_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
const TRIAL_BUCKETS = [0.1, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400];
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

export const METRIC_DEFINITIONS = {
  TrialsFinished: { unit: 'Count', dimensions: ['Status'], context: ['experiment'], help: 'Trials that reached a final status, by status' },
  TrialDuration: { unit: 'Milliseconds', dimensions: ['Status'], context: [], help: 'From a trial starting to run (executed_at) to its final status', buckets: TRIAL_BUCKETS },
  StepDuration: { unit: 'Milliseconds', dimensions: ['Module'], context: [], help: 'Time one step took, by step command (do)', buckets: STEP_BUCKETS },
  StepsFailed: { unit: 'Count', dimensions: ['Module'], context: [], help: 'Steps whose command failed (an error or a time-out; failed expectations are not counted here), by step command' },
  HttpStepErrors: { unit: 'Count', dimensions: ['Kind'], context: [], help: 'HTTP steps that got no usable answer, by kind: timeout, network, blocked (address or scheme refused), redirects, status (an error status for cm.http_probe), other' },
  Firings: { unit: 'Count', dimensions: ['Outcome'], context: [], help: 'Schedule firings received, by what they did: trial (a trial to run), nothing (a duplicate, an exhausted, stale or deleted schedule), error (retried)' },
  FiringLag: { unit: 'Milliseconds', dimensions: [], context: [], help: 'From a firing’s scheduled time to the worker receiving it', buckets: LAG_BUCKETS },
  TrialSlices: { unit: 'Count', dimensions: [], context: [], help: 'Worker invocations (slices) a finished trial took; one value per trial' },
  QueueHandOffs: { unit: 'Count', dimensions: [], context: [], help: 'Times a running trial was handed back to the queue to continue in a later slice' },
  OverdueTrials: { unit: 'Count', dimensions: [], context: ['experiment'], help: 'Trials the watchdog found unable to progress (message lost, no worker past their slice) and ended, or handed to a recovery run' },
  MessageFailures: { unit: 'Count', dimensions: ['Outcome'], context: [], help: 'Queue messages whose handling failed, by what happened next: retried (after a backoff) or given_up (acknowledged so the queue goes on; the watchdog ends the trial)' },
  SafetyRefusals: { unit: 'Count', dimensions: ['Kind', 'Source'], context: [], help: 'Trials refused by a halt or a freeze window (Kind), at the API, a schedule firing or the worker (Source)' },
  HaltsEngaged: { unit: 'Count', dimensions: [], context: [], help: 'Halts (kill switch) engaged' },
  HaltsLifted: { unit: 'Count', dimensions: [], context: [], help: 'Halts lifted' },
  TrialsStoppedByHalt: { unit: 'Count', dimensions: [], context: [], help: 'Queued or running trials a halt asked to stop' },
  FiringsSkipped: { unit: 'Count', dimensions: ['Outcome'], context: [], help: 'Schedule firings skipped by a halt (skipped_halted) or a freeze window (skipped_frozen)' },
  GuardTrips: { unit: 'Count', dimensions: ['Phase'], context: [], help: 'Guards that tripped, by when they were checked (before, during, after)' },
  FreezeWindowsCreated: { unit: 'Count', dimensions: [], context: [], help: 'Freeze windows created' },
  ScheduleDrift: { unit: 'Count', dimensions: ['Kind'], context: [], help: 'Differences a schedule reconciliation found (and repaired) between stored schedules and cloud schedules, by kind: orphan, missing, stale, cascaded' },
  ScheduleRepairFailures: { unit: 'Count', dimensions: [], context: [], help: 'Repairs a schedule reconciliation could not make (retried by the next run)' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRIC_DEFINITIONS;
export type DimensionName<N extends MetricName> = (typeof METRIC_DEFINITIONS)[N]['dimensions'][number];
export type ContextName<N extends MetricName> = (typeof METRIC_DEFINITIONS)[N]['context'][number];
export type Dimensions<N extends MetricName> = { readonly [K in DimensionName<N>]: string };
export type MetricContext<N extends MetricName> = { readonly [K in ContextName<N>]?: string };

export const METRIC_NAMES = Object.keys(METRIC_DEFINITIONS) as MetricName[];

export function definitionOf(name: MetricName): MetricDefinition {
  return METRIC_DEFINITIONS[name];
}

/** `TrialsFinished` → `kallisti_trials_finished_total`; `StepDuration` → `kallisti_step_duration_seconds`. */
export function prometheusName(name: MetricName): string {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return `kallisti_${snake}${definitionOf(name).unit === 'Count' ? '_total' : '_seconds'}`;
}

/** `Status` → `status`, `Module` → `module`: Prometheus labels are lower snake case. */
export function prometheusLabel(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}
