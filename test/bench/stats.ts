// Latency summaries for benchmarks: percentiles over raw samples (ms).
import { readdirSync, readFileSync } from 'node:fs';

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

/** How long `fn` took (wall clock, ms), and what it gave. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

export function fmtMs(v: number): string {
  return `${v.toFixed(2)} ms`;
}

/** One row of a weft-beside-the-peer table: the operation and both summaries (peer absent when not installed). */
export interface VersusRow {
  label: string;
  weft: Summary;
  peer?: Summary | undefined;
}

/** Print weft p50/p99 beside the peer's, with the p50 ratio, as an aligned table. */
export function printVersus(firstColumn: string, peerName: string, rows: VersusRow[]): void {
  const table: string[][] = [
    [firstColumn, 'weft p50', 'weft p99', `${peerName} p50`, `${peerName} p99`, 'speed-up (p50)'],
    ...rows.map((r) => [
      r.label,
      fmtMs(r.weft.p50),
      fmtMs(r.weft.p99),
      r.peer ? fmtMs(r.peer.p50) : 'n/a',
      r.peer ? fmtMs(r.peer.p99) : 'n/a',
      r.peer ? `${(r.peer.p50 / r.weft.p50).toFixed(1)}x` : 'n/a',
    ]),
  ];
  const widths = (table[0] as string[]).map((_, c) => Math.max(...table.map((row) => (row[c] as string).length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c] as number)).join('  '));
}

/** A 95% interval, as fractions (-0.05 = 5% lower). */
export interface Interval {
  low: number;
  high: number;
}

/**
 * How far the median of `a` lies from the median of `b`, as a fraction
 * (0.1 = 10% higher), with a 95% bootstrap interval. Samples come in
 * blocks: a[i] and b[i] were measured in the same block (one round of
 * every kind, taking turns), under the same conditions (what else ran,
 * the caches), so whole blocks are resampled, the same ones for both:
 * the interval then shows how much the figure moves from one set of
 * blocks to another, which is the noise to compare it with. A percentile
 * interval over a dozen blocks is a little narrow; read it as an
 * estimate. Seeded: the same samples give the same interval.
 */
export function medianShift(a: number[][], b: number[][], iterations = 2_000, seed = 1): { shift: number; interval: Interval } {
  if (a.length !== b.length || a.length === 0) throw new Error(`medianShift: ${a.length} and ${b.length} blocks; give both the same, at least one`);
  const median = (blocks: number[][]) => percentile([...blocks.flat()].sort((x, y) => x - y), 50);
  let state = seed >>> 0 || 1;
  const random = (n: number) => {
    // xorshift32: enough for resampling, and repeatable.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const shifts: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const picked = a.map(() => random(a.length));
    shifts.push(median(picked.map((k) => a[k] as number[])) / median(picked.map((k) => b[k] as number[])) - 1);
  }
  shifts.sort((x, y) => x - y);
  return { shift: median(a) / median(b) - 1, interval: { low: percentile(shifts, 2.5), high: percentile(shifts, 97.5) } };
}

/**
 * CPU time (ms) a process's threads have run so far, from the scheduler's
 * own accounting (/proc/PID/task/TID/schedstat, ns): user and kernel time
 * alike, and unlike wall time not stretched by other load on the machine.
 * `tid` alone: that one thread (e.g. the caller's main thread, tid = pid).
 */
export function cpuMs(pid: number, tid?: number): number {
  const tids = tid !== undefined ? [String(tid)] : readdirSync(`/proc/${pid}/task`);
  let ns = 0;
  for (const t of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e6;
}
