// Benchmark: a one-rule FirewallPolicy change end to end, from the user's
// PUT to the kernel and to the policy's Ready, with a real controller and
// agent (child processes, SingleHostLab) and a policy of 10,000 rules
// protecting one workload.
//
// When the kernel holds the change is judged by packets, not by listing the
// table: a probe loop in the client workload connects to tcp/80 of the
// protected one every few milliseconds, and the only rule each change
// edits flips that flow between allow (the connection opens) and reject (a
// reset comes back). The first probe started after the PUT that sees the
// new verdict marks the moment; its error is one probe interval (~3 ms).
// Listing the map instead (`nft -j list map ...`, about 10,000 elements)
// costs tens of ms of CPU per poll on the machine that does the work it
// times, only shows that an element is there, and reads netlink, not the
// verdict a packet meets.
//
// Ready: GET /api/v1/firewallpolicies/NAME every POLL_MS from the moment the
// PUT answered (what `weft wait` does, more often), until the status says the
// new generation is enforced.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { PlanFirewallRule } from '../../model/agent-protocol.js';
import type { FirewallPolicySpec, IngressRule } from '../../model/firewall.js';
import { monoMs, ProbeLoop, startListeners, type NsProcess, type Verdict } from '../support/firewall-probe.js';
import { attachWorkload, putPolicy, waitForEndpoints, waitPolicyReady, type Workload } from '../support/firewall-probe-lab.js';
import { SingleHostLab } from '../support/test-lab.js';
import { LAST_RULE, scenario } from './firewall-rules.js';
import { percentile } from './stats.js';

const NETWORK = 'fwe2e';
const SUBNET = '100.127.251.0/24';
const POLICY = 'big';
const PROBE_PORT = 80;
const POLL_MS = 50;
const PROBE_PAUSE_MS = 2;
/** changes before the measured ones (JIT in the controller and the agent) */
const WARMUP = 2;
/** settled time between changes */
const GAP_MS = 200;

export interface FirewallE2eResult {
  rules: number;
  /** POST -> Ready of the whole policy */
  firstLoadMs: number;
  /** PUT sent -> its answer */
  put: number[];
  /** PUT sent -> the first probe that sees the new verdict has its answer */
  kernel: number[];
  /** PUT sent -> a GET that says the new generation is Ready */
  ready: number[];
}

/** The lab while it runs, so a signal can take it down synchronously. */
let live: SingleHostLab | undefined;

/** A compiled benchmark rule as the user writes it (CIDR peers, tcp ports). */
function sourceRule(r: PlanFirewallRule): IngressRule {
  const out: IngressRule = { name: r.name, action: r.action, protocol: r.protocol };
  if (r.peers) out.from = r.peers.map((p) => ('cidr' in p ? { cidr: p.cidr } : {}));
  if (r.ports) out.ports = r.ports.map(([lo, hi]) => (lo === hi ? lo : `${lo}-${hi}`));
  return out;
}

/**
 * The benchmark's rules (firewall-rules.ts, all in one policy) but for the
 * last, which is the probed one: from the client to tcp/80, `action`.
 */
function policySpec(rules: number, client: string, action: 'allow' | 'reject'): FirewallPolicySpec {
  const all = scenario(rules).policies.flatMap((p) => p.ingress?.rules ?? []).filter((r) => r.name !== LAST_RULE).map(sourceRule);
  all.push({ name: 'probe', action, from: [{ cidr: `${client}/32` }], protocol: 'tcp', ports: [PROBE_PORT] });
  return { appliesTo: { network: NETWORK, selector: { role: 'server' } }, ingress: { defaultAction: 'deny', rules: all } };
}

const verdictOf = (action: 'allow' | 'reject'): Verdict => (action === 'allow' ? 'open' : 'refused');

export async function benchFirewallE2e(rules: number, changes: number): Promise<FirewallE2eResult> {
  const lab = new SingleHostLab('fe');
  const procs: NsProcess[] = [];
  let probes: ProbeLoop | undefined;
  live = lab;
  try {
    await lab.start();
    await lab.createNetwork(NETWORK, SUBNET);
    const client: Workload = await attachWorkload(lab, NETWORK, 'fe-cli', { role: 'client' });
    const server: Workload = await attachWorkload(lab, NETWORK, 'fe-srv', { role: 'server' });
    await waitForEndpoints(lab, [client.ip, server.ip]);
    procs.push(await startListeners(server.ns, [PROBE_PORT]));

    let action: 'allow' | 'reject' = 'allow';
    const t0 = monoMs();
    const g0 = await putPolicy(lab, POLICY, policySpec(rules, client.ip, action));
    const firstLoadMs = (await waitPolicyReady(lab, POLICY, g0, 60_000, POLL_MS)) - t0;

    const loop = await ProbeLoop.start(client.ns, [{ name: 'p', host: server.ip, port: PROBE_PORT }], { timeoutMs: 400, pauseMs: PROBE_PAUSE_MS, maxMs: 120_000 });
    probes = loop;
    await loop.waitForVerdict('p', verdictOf(action), monoMs(), 10_000);

    const result: FirewallE2eResult = { rules, firstLoadMs, put: [], kernel: [], ready: [] };
    for (let i = 0; i < WARMUP + changes; i++) {
      action = action === 'allow' ? 'reject' : 'allow';
      const spec = policySpec(rules, client.ip, action);
      const start = monoMs();
      const gen = await putPolicy(lab, POLICY, spec);
      const putMs = monoMs() - start;
      const [seen, readyAt] = await Promise.all([loop.waitForVerdict('p', verdictOf(action), start), waitPolicyReady(lab, POLICY, gen, 30_000, POLL_MS)]);
      if (i >= WARMUP) {
        result.put.push(putMs);
        result.kernel.push(seen.t1 - start);
        result.ready.push(readyAt - start);
      }
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    return result;
  } finally {
    await probes?.stop();
    for (const p of procs) await p.stop();
    await lab.stop();
    live = undefined;
  }
}

function killPid(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * Kill the lab's processes by PID (the controller and agent by the PIDs we
 * started, the listener and probe loop as the processes inside the lab's
 * namespaces), delete its namespaces and directory. Synchronous, for a
 * signal handler; tolerates a lab that is gone.
 */
export function stopFirewallE2eNow(): void {
  const lab = live;
  live = undefined;
  if (!lab) return;
  killPid(lab.agent?.child.pid);
  killPid(lab.controller?.child.pid);
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(lab.prefix));
  for (const ns of namespaces) {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter((x) => x !== '');
      for (const pid of pids) killPid(Number(pid));
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // gone already
    }
  }
  rmSync(lab.dir, { recursive: true, force: true });
}

// ---- printing ---------------------------------------------------------------

const ms = (v: number) => `${v.toFixed(1)} ms`;
const stat = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? NaN };
};

/** @param agentOnly the agent's own compile + diff + nft per change (firewall-change.ts), to print beside */
export function printFirewallE2e(r: FirewallE2eResult, agentOnly: number[] | undefined): void {
  console.log(
    `\n# firewall end to end: one-rule change of a ${r.rules.toLocaleString('en')}-rule FirewallPolicy over REST, ` +
      `controller + agent as processes, ${r.kernel.length} changes after ${WARMUP} unmeasured; first load (POST -> Ready) ${ms(r.firstLoadMs)}`,
  );
  const rows: string[][] = [['one-rule change', 'p50', 'p95', 'max']];
  const row = (label: string, xs: number[]) => {
    const s = stat(xs);
    rows.push([label, ms(s.p50), ms(s.p95), ms(s.max)]);
  };
  row('PUT -> its answer', r.put);
  row('PUT -> kernel (first probe with the new verdict)', r.kernel);
  row(`PUT -> Ready (GET every ${POLL_MS} ms)`, r.ready);
  if (agentOnly && agentOnly.length > 0) row('agent alone: compile + diff + nft (above)', agentOnly);
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((x) => (x[c] ?? '').length)));
  for (const x of rows) console.log(x.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ').trimEnd());
  console.log(
    `(kernel: a probe loop (tcp connect every ~${PROBE_PAUSE_MS} ms) from the client to tcp/${PROBE_PORT} of the protected workload; each change flips the one probed rule between allow and reject)`,
  );
}
