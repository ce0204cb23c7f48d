// The truth table of the firewall conformance test: probe every (source,
// destination, probe) cell with real packets, compare with the expected
// outcome, and print the matrix expected vs observed.
//
// A cell holds one character per probe kind (tcp/80 tcp/443 tcp/8080 udp/53
// icmp): ✓ a reply came back, · nothing came back before the timeout (a
// drop), R an active refusal (TCP reset, ICMP unreachable/prohibited), ✗ the
// observation differs from the expectation (listed under the table).
import type { Outcome, ProbeAgent, ProbeResult } from './firewall-conformance-probe.js';
import { bounded } from './firewall-conformance-probe.js';

export interface ProbeKind {
  proto: 'tcp' | 'udp' | 'icmp';
  port?: number;
  /** e.g. tcp/80 */
  label: string;
}

/** What the matrix needs of a workload. */
export interface Peer {
  name: string;
  ip: string;
  agent: ProbeAgent;
}

export interface CellResult {
  src: string;
  dst: string;
  probe: ProbeKind;
  expected: Outcome;
  observed: Outcome;
  ms: number;
  /** the first observation was "silent" and did not match: probed once more with a longer timeout */
  retried: boolean;
  /** the first observation, when the cell was re-probed */
  first?: ProbeResult;
  why?: string;
}

export interface MatrixOptions {
  /** probes in flight at once, over all sources */
  concurrency: number;
  timeoutMs: number;
  /** timeout of the one retry a silent mismatch gets (load on a small machine can delay a reply) */
  retryTimeoutMs: number;
}

const SYMBOL: Record<Outcome, string> = { open: '✓', silent: '·', refused: 'R' };
const WORD: Record<Outcome, string> = { open: '✓ reply', silent: '· silent drop', refused: 'R refused' };

export function symbolOf(o: Outcome): string {
  return SYMBOL[o];
}

function probeOnce(src: Peer, dst: Peer, p: ProbeKind, ms: number): Promise<ProbeResult> {
  if (p.proto === 'icmp') return src.agent.icmp(dst.ip, ms);
  if (p.proto === 'udp') return src.agent.udp(dst.ip, p.port as number, ms);
  return src.agent.tcp(dst.ip, p.port as number, ms);
}

/**
 * Probe every (source, destination, probe kind) of the given pairs (a pair
 * of a workload with itself is skipped); expected(src, dst, probe) states the
 * truth. One limit for all of them; the order interleaves sources and probe
 * kinds so no single agent takes a burst.
 */
export async function probePairs<W extends Peer>(
  pairs: ReadonlyArray<readonly [W, W]>,
  probes: readonly ProbeKind[],
  expected: (src: W, dst: W, p: ProbeKind) => Outcome,
  opts: MatrixOptions,
): Promise<CellResult[]> {
  const tasks: Array<() => Promise<CellResult>> = [];
  for (const p of probes) {
    for (const [src, dst] of pairs) {
      if (src.name === dst.name) continue;
      tasks.push(async () => {
        const want = expected(src, dst, p);
        const first = await probeOnce(src, dst, p, opts.timeoutMs);
        let r = first;
        if (r.outcome !== want && r.outcome === 'silent') r = await probeOnce(src, dst, p, opts.retryTimeoutMs);
        const cell: CellResult = { src: src.name, dst: dst.name, probe: p, expected: want, observed: r.outcome, ms: r.ms, retried: r !== first };
        if (r !== first) cell.first = first;
        if (r.why !== undefined) cell.why = r.why;
        return cell;
      });
    }
  }
  return bounded(opts.concurrency, tasks);
}

/** Every source to every destination. */
export function allPairs<W>(sources: readonly W[], destinations: readonly W[]): Array<[W, W]> {
  return sources.flatMap((s) => destinations.map((d): [W, W] => [s, d]));
}

export function mismatchesOf(cells: readonly CellResult[]): CellResult[] {
  return cells.filter((c) => c.expected !== c.observed);
}

const width = (s: string) => [...s].length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

/**
 * The matrix as text: rows = sources, columns = destinations, one character
 * per probe kind in each cell; self cells "-", unprobed cells blank. Under
 * it, every mismatch with what was expected and what was seen.
 */
export function renderMatrix(title: string, rows: readonly string[], cols: readonly string[], probes: readonly ProbeKind[], cells: readonly CellResult[]): string {
  const at = new Map<string, CellResult>();
  for (const c of cells) at.set(`${c.src}\u0000${c.dst}\u0000${c.probe.label}`, c);
  const rowWidth = Math.max(8, ...rows.map(width));
  const colWidth = Math.max(probes.length, ...cols.map(width));
  const lines: string[] = [title];
  lines.push(`${pad('src\\dst', rowWidth)}  ${cols.map((c) => pad(c, colWidth)).join(' ')}`);
  for (const r of rows) {
    const out = cols.map((c) => {
      if (c === r) return pad('-'.repeat(probes.length), colWidth);
      const chars = probes.map((p) => {
        const cell = at.get(`${r}\u0000${c}\u0000${p.label}`);
        if (!cell) return ' ';
        return cell.expected === cell.observed ? SYMBOL[cell.observed] : '✗';
      });
      return pad(chars.join(''), colWidth);
    });
    lines.push(`${pad(r, rowWidth)}  ${out.join(' ')}`);
  }
  const probed = cells.length;
  const bad = mismatchesOf(cells);
  const retried = cells.filter((c) => c.retried).length;
  lines.push(`${probed} cells probed, ${bad.length} mismatch${bad.length === 1 ? '' : 'es'}${retried > 0 ? `, ${retried} silent first probe${retried === 1 ? '' : 's'} re-probed` : ''}`);
  const reprobed = cells.filter((c) => c.retried && c.expected === c.observed);
  if (reprobed.length > 0) {
    lines.push(`  re-probed (first probe silent, the retry as expected): ${reprobed.map((c) => `${c.src}->${c.dst} ${c.probe.label} ${symbolOf(c.observed)} ${c.ms}ms`).join(', ')}`);
  }
  for (const c of bad) {
    lines.push(
      `  ✗ ${c.src} -> ${c.dst} ${c.probe.label}: expected ${WORD[c.expected]}, observed ${WORD[c.observed]} after ${c.ms} ms${c.why === undefined ? '' : ` (${c.why})`}${c.retried ? ' (on the retry)' : ''}`,
    );
  }
  return lines.join('\n');
}

export function legend(probes: readonly ProbeKind[]): string {
  return `cell = ${probes.map((p) => p.label).join(' ')}; ✓ reply, · dropped (no answer in time), R refused (TCP reset / ICMP error), ✗ mismatch (listed), - self`;
}
