/** Small statistics helpers for the benchmarks: robust summaries, ratios and a least-squares fit. */

export interface Summary {
  n: number;
  median: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/** Linear-interpolated quantile of an ascending array (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    mean,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export interface Fit {
  slope: number;
  intercept: number;
  /** Coefficient of determination of the fit over the points given. */
  r2: number;
}

/** Ordinary least squares y = intercept + slope * x. */
export function leastSquares(points: readonly (readonly [number, number])[]): Fit {
  const n = points.length;
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
    syy += (y - meanY) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = meanY - slope * meanX;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}

export type Arms = Record<string, () => Promise<unknown>>;

/**
 * Runs every arm once per round, timing each call, and rotates the order each round
 * (A B C, B C A, C A B, …) so no arm always runs first or last: drift on a noisy
 * machine (other processes, GC, CPU frequency) then spreads over all arms alike
 * instead of biasing one. `warmup` rounds run the same way and are discarded.
 */
export async function interleave(arms: Arms, rounds: number, warmup = 0): Promise<Record<string, number[]>> {
  const names = Object.keys(arms);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < warmup + rounds; round += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(round + i) % names.length] as string;
      const arm = arms[name] as () => Promise<unknown>;
      const start = performance.now();
      await arm();
      const elapsed = performance.now() - start;
      if (round >= warmup) (samples[name] as number[]).push(elapsed);
    }
  }
  return samples;
}

/** The ratio of two medians (the headline "× floor" figure), and of the p95s. */
export function ratios(measured: Summary, floor: Summary): { median: number; p95: number } {
  return { median: measured.median / floor.median, p95: measured.p95 / floor.p95 };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Rounds every number of a Summary for the results file. */
export function rounded(summary: Summary, digits = 3): Summary {
  return {
    n: summary.n,
    median: round(summary.median, digits),
    p95: round(summary.p95, digits),
    mean: round(summary.mean, digits),
    min: round(summary.min, digits),
    max: round(summary.max, digits),
  };
}
