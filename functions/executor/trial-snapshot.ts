import { parameterSecrets, secretParameterNames } from '../domain/redaction.js';
import { snapshotOf, type ExperimentSnapshot, type Trial } from '../domain/trial.js';
import type { JsonObject } from '../domain/types.js';
import type { ExperimentStore, TrialStore } from '../ports.js';

/** Snapshots kept in memory: immutable, so a warm worker reads each trial's snapshot once. */
const SNAPSHOT_CACHE_SIZE = 32;

export function stepsOf(experiment: ExperimentSnapshot | undefined) {
  return experiment ? [...experiment.pre_steps, ...experiment.steps, ...experiment.post_steps] : [];
}

/** The values of parameters that hold credentials, to scrub from everything a run records. */
export function secretsOfParameters(experiment: ExperimentSnapshot | undefined, params: JsonObject): string[] {
  return parameterSecrets(params, secretParameterNames(stepsOf(experiment), params));
}

/** What each trial runs, read once per trial and kept for the container's next slices. */
export class SnapshotCache {
  private readonly snapshots = new Map<string, ExperimentSnapshot | undefined>();

  constructor(
    private readonly trials: Pick<TrialStore, 'get'>,
    private readonly experiments: Pick<ExperimentStore, 'get'>,
  ) {}

  /**
   * What the trial runs: the snapshot taken when it was created. Trials created before
   * snapshots existed run the stored experiment (a deleted one too: it is kept for audit).
   */
  async of(trial: Pick<Trial, 'id' | 'experiment' | 'experiment_snapshot'>): Promise<ExperimentSnapshot | undefined> {
    if (this.snapshots.has(trial.id)) return this.snapshots.get(trial.id);
    const snapshot = trial.experiment_snapshot ?? (await this.trials.get(trial.id))?.experiment_snapshot;
    const experiment = snapshot ?? (await this.experiments.get(trial.experiment, { includeDeleted: true }).then((stored) => stored && snapshotOf(stored)));
    if (this.snapshots.size >= SNAPSHOT_CACHE_SIZE) this.snapshots.delete(this.snapshots.keys().next().value as string);
    this.snapshots.set(trial.id, experiment);
    return experiment;
  }

  /** A finished trial's snapshot is not needed again. */
  forget(trialId: string): void {
    this.snapshots.delete(trialId);
  }
}
