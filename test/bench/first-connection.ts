// The first TCP connection of a freshly attached workload to a workload on
// another host that a FirewallPolicy protects (ingress: default deny, allow
// tcp/PORT from endpoints labelled as clients). The fresh endpoint carries
// the client label, so the connection is allowed once the protecting host's
// allow set holds the new address; a SYN that arrives before that is
// dropped and retransmitted after TCP's initial 1 s. Each round counts the
// fresh namespace's SYN retransmits (TcpExt TCPSynRetrans: the namespace is
// new, so its counters start at zero).
import type { FirewallPolicy } from '../../model/kinds.js';
import type { Lab, Workload } from '../lab/index.js';
import { isReady, policyDoc } from '../support/firewall-probe-lab.js';
import { startListeners, type NsProcess } from '../support/firewall-probe.js';
import { flushNeighbours, primed, type Primed } from './overlay-lab.js';

export const GUARDED_PORT = 7070;
const CONNECT_TIMEOUT_S = 5;
const LABEL = 'first-conn';

export interface ConnectionRounds {
  rounds: number;
  /** SYN retransmits per round, in order */
  synRetransmits: number[];
  /** from the go to the connecting process's end, ms */
  connectMs: number[];
  attachMs: number[];
  failures: string[];
}

/** The namespace's TcpExt TCPSynRetrans. */
export async function synRetransmits(lab: Lab, w: Workload): Promise<number> {
  const r = await lab.exec(w, ['cat', '/proc/net/netstat']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf('TCPSynRetrans');
  if (i < 0 || values[i] === undefined) throw new Error(`no TcpExt TCPSynRetrans in ${w.netns}'s /proc/net/netstat`);
  return Number(values[i]);
}

/** A TCP connect started ahead in `w` (bash's /dev/tcp: connect, then close), made the moment it is told the address. */
export function primeConnect(w: Workload, port: number, timeoutS = CONNECT_TIMEOUT_S): Primed {
  return primed(w, ['timeout', String(timeoutS), 'bash', '-c', `exec 3<>"/dev/tcp/$1/${port}"`, 'connect']);
}

/** Make the primed connect to `ip` now; ok when it opened. */
export async function connectNow(p: Primed, ip: string): Promise<{ ok: boolean; ms: number; detail: string }> {
  const t0 = process.hrtime.bigint();
  p.go(ip);
  const r = await p.done;
  return { ok: r.code === 0, ms: Number(process.hrtime.bigint() - t0) / 1e6, detail: `exit ${r.code} ${r.out.trim()}` };
}

/** The policy protecting the server: only the fresh clients' label may open tcp/GUARDED_PORT. */
export function guardPolicy(network: string, tag: string): FirewallPolicy {
  return policyDoc(`${tag}-guard`, {
    appliesTo: { network, selector: { [LABEL]: `${tag}-server` } },
    ingress: { defaultAction: 'deny', rules: [{ name: 'clients', action: 'allow', from: [{ selector: clientLabels(tag) }], protocol: 'tcp', ports: [GUARDED_PORT] }] },
  });
}

async function waitReady(lab: Lab, name: string, generation: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: FirewallPolicy | undefined;
  while (Date.now() < until) {
    last = await lab.api<FirewallPolicy>('GET', `/api/v1/firewallpolicies/${name}`);
    if (isReady(last, generation)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`policy ${name} not Ready within ${timeoutMs} ms: ${JSON.stringify(last?.status)}`);
}

export interface GuardedServer {
  server: Workload;
  ip: string;
  listener: NsProcess;
  policy: string;
  stop: () => Promise<void>;
}

/** A listening workload on h1 protected by the policy, Ready before it returns. */
export async function startGuardedServer(lab: Lab, network: string, tag: string): Promise<GuardedServer> {
  const server = await lab.workload('h1', `${tag}-server`);
  const containerId = `${tag}-server`;
  let attached = false;
  let listener: NsProcess | undefined;
  const policy = guardPolicy(network, tag);
  let created = false;
  const stop = async () => {
    await listener?.stop();
    if (created) await lab.api('DELETE', `/api/v1/firewallpolicies/${policy.metadata.name}`).catch(() => undefined);
    if (attached) await lab.agent('h1', 'detach', { containerId }).catch(() => undefined);
    lab.removeWorkload(server);
  };
  try {
    const a = await lab.attach('h1', { network, containerId, netns: server.path, labels: { [LABEL]: `${tag}-server` } });
    attached = true;
    listener = await startListeners(server.netns, [GUARDED_PORT]);
    const saved = await lab.api<FirewallPolicy>('POST', '/api/v1/firewallpolicies', policy);
    created = true;
    await waitReady(lab, policy.metadata.name, saved.metadata.generation ?? 1);
    return { server, ip: a.ip, listener, policy: policy.metadata.name, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface ConnectionRound {
  attachMs: number;
  synRetransmits: number;
  connect: { ok: boolean; ms: number; detail: string };
}

/** A fresh workload on h2 with `labels` connects to the guarded server the moment its attach returns. */
export async function firstConnectionRound(lab: Lab, network: string, guarded: GuardedServer, containerId: string, labels: Record<string, string>): Promise<ConnectionRound> {
  await flushNeighbours(lab, guarded.server);
  const w = await lab.workload('h2', containerId);
  // Started now, connecting the moment the attach returns: no process start-up in between.
  const connecting = primeConnect(w, GUARDED_PORT);
  let attached = false;
  try {
    const t0 = process.hrtime.bigint();
    await lab.attach('h2', { network, containerId, netns: w.path, labels });
    attached = true;
    const attachMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const connect = await connectNow(connecting, guarded.ip);
    return { attachMs, connect, synRetransmits: await synRetransmits(lab, w) };
  } finally {
    connecting.kill();
    await connecting.done;
    if (attached) await lab.agent('h2', 'detach', { containerId });
    lab.removeWorkload(w);
  }
}

/** The label that lets a fresh workload through the guard policy of `tag`. */
export const clientLabels = (tag: string): Record<string, string> => ({ [LABEL]: `${tag}-client` });

/** `rounds` fresh labelled clients on h2, each connecting to the guarded server on h1 the moment its attach returns. */
export async function firstConnections(lab: Lab, network: string, rounds: number, tag: string): Promise<ConnectionRounds> {
  const out: ConnectionRounds = { rounds, synRetransmits: [], connectMs: [], attachMs: [], failures: [] };
  const guarded = await startGuardedServer(lab, network, tag);
  try {
    for (let i = 0; i < rounds; i++) {
      const r = await firstConnectionRound(lab, network, guarded, `${tag}-c${i}`, clientLabels(tag));
      out.attachMs.push(r.attachMs);
      out.synRetransmits.push(r.synRetransmits);
      if (r.connect.ok) out.connectMs.push(r.connect.ms);
      else out.failures.push(`round ${i}: connect to ${guarded.ip}:${GUARDED_PORT} failed (${r.connect.detail})`);
    }
  } finally {
    await guarded.stop();
  }
  return out;
}
