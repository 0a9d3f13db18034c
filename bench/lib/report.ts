/** One line of the printed table (and of `table` in bench/results.json). */
export interface Row {
  benchmark: string;
  /** The measured figure, formatted (e.g. "1.23 ms / 2.01 ms" for median / p95). */
  measured: string;
  /** The floor it is compared with, when there is one. */
  floor?: string;
  /** Measured ÷ floor, side by side in the same run. */
  ratio?: string;
  target?: string;
  /** `met`, `NOT MET`, or `info` for figures without a target. */
  result: 'met' | 'NOT MET' | 'info';
}

export const ms = (value: number): string => (value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`);
export const medP95 = (s: { median: number; p95: number }): string => `${ms(s.median)} / ${ms(s.p95)}`;
export const times = (value: number): string => `${value.toFixed(2)}×`;
export const verdict = (ok: boolean): Row['result'] => (ok ? 'met' : 'NOT MET');
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** The rows as a plain-text table that fits a terminal (and a Markdown code block). */
export function formatTable(rows: readonly Row[]): string {
  const headers = ['Benchmark', 'Measured (median / p95)', 'Floor (median / p95)', 'Ratio', 'Target', 'Result'];
  const cells = rows.map((r) => [r.benchmark, r.measured, r.floor ?? '', r.ratio ?? '', r.target ?? '', r.result]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i] as number)).join(' | ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

/** The rows as a Markdown table. */
export function markdownTable(rows: readonly Row[]): string {
  const headers = ['Benchmark', 'Measured (median / p95)', 'Floor (median / p95)', 'Ratio', 'Target', 'Result'];
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const cells = rows.map((r) => [r.benchmark, r.measured, r.floor ?? '', r.ratio ?? '', r.target ?? '', r.result].map(escape));
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...cells.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}
