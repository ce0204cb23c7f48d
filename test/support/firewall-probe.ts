// Packet probes for the firewall kernel tests: TCP listeners and a
// background probe loop, each a child process inside a workload namespace
// (`ip netns exec` execs the command, so the PID we hold is the process's own
// and stop() ends exactly it), plus a pure judge that checks a probe log
// against a timeline of policy changes.
//
// A probe is one TCP connect with a short timeout, and its verdict is what
// the first SYN met:
//   open     the connection was established (a listener answers every port probed)
//   refused  a TCP reset came back (a `reject` rule; a closed port would look
//            the same, which is why every probed port has a listener)
//   timeout  nothing came back within the timeout (a `deny` rule, or the default)
// The timeout is shorter than the first SYN retransmission (1 s), so a verdict
// is never a mix of two SYNs. Each probe ends with a reset (no TIME_WAIT), so
// thousands of probes neither exhaust source ports nor pile up conntrack
// entries. Timestamps are CLOCK_MONOTONIC in ms (process.hrtime), the same
// clock in every process on the machine: probe times compare directly with
// the test's own `monoMs()`.
import { spawn, type ChildProcess } from 'node:child_process';

export type Verdict = 'open' | 'refused' | 'timeout' | `error:${string}`;

export interface Flow {
  name: string;
  host: string;
  port: number;
  /** parallel probe lanes for this flow (default 1): more lanes, a shorter gap between SYNs when probes time out */
  lanes?: number;
}

export interface Probe {
  flow: string;
  /** just before connect() */
  t0: number;
  /** when the verdict was known */
  t1: number;
  verdict: Verdict;
}

/** Milliseconds on CLOCK_MONOTONIC, comparable with Probe.t0/t1. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A child process inside a namespace, owned by PID. */
export class NsProcess {
  readonly child: ChildProcess;
  private out = '';
  private readonly exited: Promise<void>;
  private readonly lineListeners: ((line: string) => void)[] = [];
  private partial = '';

  constructor(ns: string, argv: string[]) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      const s = d.toString();
      this.out += s;
      this.partial += s;
      const lines = this.partial.split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) for (const f of this.lineListeners) f(l);
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((r) => {
      this.child.once('exit', () => r());
      this.child.once('error', () => r());
    });
  }

  output(): string {
    return this.out;
  }

  onLine(f: (line: string) => void): void {
    this.lineListeners.push(f);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForOutput(text: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.out.includes(text)) {
      if (!this.running) throw new Error(`process exited before printing "${text}": ${this.out.slice(-500)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}": ${this.out.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited (its output is complete). */
  async stop(): Promise<void> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// Accepts on every port given and holds each connection until the client
// ends it (the probe resets it): a reset in an established connection can
// only come from the client, so a probe never mistakes one for a verdict.
// Bounded: exits by itself after maxMs.
const LISTENER_JS = `
const net = require('net');
const [ports, maxMs] = JSON.parse(process.argv[1]);
let up = 0;
for (const p of ports) {
  const s = net.createServer((c) => { c.on('error', () => c.destroy()); c.on('end', () => c.destroy()); });
  s.on('error', (e) => { console.error('listen ' + p + ': ' + e.message); process.exit(2); });
  s.listen(p, '0.0.0.0', () => { if (++up === ports.length) console.log('listening'); });
}
setTimeout(() => process.exit(0), maxMs).unref();
process.on('SIGTERM', () => process.exit(0));
`;

/** TCP listeners on `ports` inside `ns` (resolves once all listen). */
export async function startListeners(ns: string, ports: readonly number[], maxMs = 600_000): Promise<NsProcess> {
  const p = new NsProcess(ns, [process.execPath, '-e', LISTENER_JS, JSON.stringify([ports, maxMs])]);
  await p.waitForOutput('listening');
  return p;
}

// Per lane: connect, judge, reset, pause, again; one line per probe:
//   p <flow> <t0> <t1> <verdict>
// Bounded: stops by itself after maxMs.
const PROBE_JS = `
const net = require('net');
const { flows, timeoutMs, pauseMs, maxMs } = JSON.parse(process.argv[1]);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const end = now() + maxMs;
let stopping = false;
function probe(f) {
  return new Promise((resolve) => {
    const t0 = now();
    let done = false;
    const s = net.connect({ host: f.host, port: f.port });
    const finish = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const t1 = now();
      if (v === 'open') s.resetAndDestroy(); else s.destroy();
      process.stdout.write('p ' + f.name + ' ' + t0.toFixed(3) + ' ' + t1.toFixed(3) + ' ' + v + '\\n');
      resolve();
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    s.on('connect', () => finish('open'));
    s.on('error', (e) => finish(e.code === 'ECONNREFUSED' ? 'refused' : 'error:' + e.code));
  });
}
async function lane(f) {
  while (!stopping && now() < end) {
    await probe(f);
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}
process.on('SIGTERM', () => { stopping = true; });
console.log('probing');
Promise.all(flows.flatMap((f) => Array.from({ length: f.lanes || 1 }, () => lane(f)))).then(() => process.exit(0));
`;

export interface ProbeLoopOptions {
  /** a probe that sees nothing back within this is 'timeout' (keep it under 1000: SYN retransmission) */
  timeoutMs?: number;
  /** pause between two probes of one lane */
  pauseMs?: number;
  /** the loop ends by itself after this long */
  maxMs?: number;
}

/** A background probe loop in namespace `ns`; collect() returns what it saw so far. */
export class ProbeLoop {
  private readonly proc: NsProcess;
  private readonly probes: Probe[] = [];

  private constructor(ns: string, flows: readonly Flow[], opts: Required<ProbeLoopOptions>) {
    this.proc = new NsProcess(ns, [process.execPath, '-e', PROBE_JS, JSON.stringify({ flows, ...opts })]);
    this.proc.onLine((line) => {
      const m = /^p (\S+) ([0-9.]+) ([0-9.]+) (\S+)$/.exec(line);
      if (m) this.probes.push({ flow: m[1]!, t0: Number(m[2]), t1: Number(m[3]), verdict: m[4] as Verdict });
    });
  }

  static async start(ns: string, flows: readonly Flow[], opts: ProbeLoopOptions = {}): Promise<ProbeLoop> {
    const loop = new ProbeLoop(ns, flows, { timeoutMs: opts.timeoutMs ?? 400, pauseMs: opts.pauseMs ?? 5, maxMs: opts.maxMs ?? 150_000 });
    await loop.proc.waitForOutput('probing');
    return loop;
  }

  /** Probes seen so far (a copy). */
  collect(): Probe[] {
    return [...this.probes];
  }

  /** Probes of `flow` that started at or after `since`. */
  since(since: number, flow?: string): Probe[] {
    return this.probes.filter((p) => p.t0 >= since && (flow === undefined || p.flow === flow));
  }

  /** Resolves once at least `n` more probes of `flow` have finished. */
  async waitForMore(flow: string, n: number, timeoutMs = 20_000): Promise<void> {
    const target = this.probes.filter((p) => p.flow === flow).length + n;
    const deadline = Date.now() + timeoutMs;
    while (this.probes.filter((p) => p.flow === flow).length < target) {
      if (!this.proc.running) throw new Error(`probe loop exited: ${this.proc.output().slice(-500)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} probes of ${flow}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves with the first probe of `flow` that started at or after `since` and saw `verdict`. */
  async waitForVerdict(flow: string, verdict: Verdict, since: number, timeoutMs = 30_000): Promise<Probe> {
    const deadline = Date.now() + timeoutMs;
    let from = 0;
    for (;;) {
      for (; from < this.probes.length; from++) {
        const p = this.probes[from]!;
        if (p.flow === flow && p.t0 >= since && p.verdict === verdict) return p;
      }
      if (!this.proc.running) throw new Error(`probe loop exited: ${this.proc.output().slice(-500)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${flow} to see ${verdict}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** Stop the loop (in-flight probes finish) and return every probe. */
  async stop(): Promise<Probe[]> {
    await this.proc.stop();
    return this.collect();
  }
}

// ---- judging ----------------------------------------------------------------

/** What each flow's probes must see while a policy is in force. */
export type Expectation = Record<string, Verdict>;

/** One change of policy: `before` is in force until `start`, `after` from `end` on, either in between. */
export interface Change {
  label: string;
  start: number;
  end: number;
  before: Expectation;
  after: Expectation;
}

export interface Violation {
  probe: Probe;
  allowed: Verdict[];
  /** the change in flight, or the one last completed */
  near: string;
}

export interface Judgement {
  probes: number;
  /** flow -> verdict -> count */
  perFlow: Record<string, Record<string, number>>;
  /** probes that overlapped a change in flight */
  duringChanges: number;
  violations: Violation[];
}

/**
 * Every probe must see a verdict of a policy that could have been in force
 * while it ran: the settled policy between changes, old or new during one.
 * `changes` in time order and not overlapping; `initial` holds before the first.
 */
export function judge(probes: readonly Probe[], initial: Expectation, changes: readonly Change[]): Judgement {
  const perFlow: Judgement['perFlow'] = {};
  const violations: Violation[] = [];
  let during = 0;
  // periods: [from, to) with the verdict sets allowed in them
  const periods: { from: number; to: number; allowed: Expectation[]; label: string }[] = [];
  let t = -Infinity;
  let state = initial;
  let label = 'initial';
  for (const c of changes) {
    periods.push({ from: t, to: c.start, allowed: [state], label });
    periods.push({ from: c.start, to: c.end, allowed: [c.before, c.after], label: `${c.label} (in flight)` });
    t = c.end;
    state = c.after;
    label = c.label;
  }
  periods.push({ from: t, to: Infinity, allowed: [state], label });
  for (const p of probes) {
    const byVerdict = (perFlow[p.flow] ??= {});
    byVerdict[p.verdict] = (byVerdict[p.verdict] ?? 0) + 1;
    const overlapping = periods.filter((x) => x.from <= p.t1 && p.t0 < x.to);
    if (overlapping.some((x) => x.label.endsWith('(in flight)'))) during++;
    const allowed = [...new Set(overlapping.flatMap((x) => x.allowed.map((e) => e[p.flow]).filter((v): v is Verdict => v !== undefined)))];
    if (allowed.length > 0 && !allowed.includes(p.verdict)) violations.push({ probe: p, allowed, near: overlapping.map((x) => x.label).join(' / ') });
  }
  return { probes: probes.length, perFlow, duringChanges: during, violations };
}

/** A few lines for the test log. */
export function describeJudgement(j: Judgement, max = 10): string {
  const lines = [`probes: ${j.probes} (${j.duringChanges} overlapping a change in flight), violations: ${j.violations.length}`];
  for (const [flow, counts] of Object.entries(j.perFlow)) {
    lines.push(`  ${flow}: ${Object.entries(counts).map(([v, n]) => `${v} ${n}`).join(', ')}`);
  }
  for (const v of j.violations.slice(0, max)) {
    lines.push(`  VIOLATION ${v.probe.flow} saw ${v.probe.verdict} at [${v.probe.t0.toFixed(1)}, ${v.probe.t1.toFixed(1)}] ms, allowed ${v.allowed.join('|')} (${v.near})`);
  }
  return lines.join('\n');
}
