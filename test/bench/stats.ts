// Latency summaries for benchmarks: percentiles over raw samples (ms).
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / Math.max(1, samples.length);
  return { n: samples.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

export function fmtMs(v: number): string {
  return `${v.toFixed(2)} ms`;
}
