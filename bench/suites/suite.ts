import type { Row } from '../lib/report.js';

export interface SuiteContext {
  /** `--slow`: also the measurements that wait for real minute boundaries. */
  slow: boolean;
  /** Scales a default number of repetitions (`--quick` runs a tenth, for trying the harness). */
  rounds(defaultRounds: number): number;
  /** A progress line on stderr (the table goes to stdout). */
  progress(message: string): void;
}

export interface SuiteResult {
  rows: Row[];
  /** Everything measured, for bench/results.json. */
  data: Record<string, unknown>;
}
