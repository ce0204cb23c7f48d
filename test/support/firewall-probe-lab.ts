// SingleHostLab additions for the firewall kernel tests: workloads attached
// through the agent, FirewallPolicy writes over REST with a wait for Ready,
// the policy and guard tables read back with `nft -j` in the lab's host
// namespace (the kernel's word, not the agent's), and an agent started
// without waiting for the controller (restarts while it is away).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { callAgent } from '../../runtime/agent-client.js';
import type { FirewallPolicy, FirewallPolicySpec } from '../../model/firewall.js';
import { CLI, netnsAdd, startProc, waitFor, type SingleHostLab } from './test-lab.js';
import { monoMs } from './firewall-probe.js';

const run = promisify(execFile);

export interface Workload {
  /** namespace name */
  ns: string;
  ip: string;
  mac: string;
  hostIfname: string;
  containerId: string;
}

/** A fresh namespace (named with the lab's prefix) attached to `network` by the agent. */
export async function attachWorkload(lab: SingleHostLab, network: string, id: string, labels: Record<string, string> = {}): Promise<Workload> {
  const ns = `${lab.prefix}${id}`;
  const path = await netnsAdd(ns);
  const r = await callAgent(lab.socket, 'attach', { network, containerId: id, netns: path, labels });
  return { ns, ip: r.ip, mac: r.mac, hostIfname: r.hostIfname, containerId: id };
}

/** The controller knows the endpoint (policies select endpoints the controller has). */
export async function waitForEndpoints(lab: SingleHostLab, ips: readonly string[]): Promise<void> {
  await waitFor('controller records the endpoints', async () => {
    const eps = await lab.api<{ items: { status?: { ip?: string } }[] }>('GET', '/api/v1/endpoints');
    const have = new Set(eps.items.map((e) => e.status?.ip));
    return ips.every((ip) => have.has(ip));
  });
}

export function policyDoc(name: string, spec: FirewallPolicySpec): FirewallPolicy {
  return { apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name }, spec } as FirewallPolicy;
}

/** Create or replace the policy over REST; returns its new generation. */
export async function putPolicy(lab: SingleHostLab, name: string, spec: FirewallPolicySpec): Promise<number> {
  const doc = policyDoc(name, spec);
  let saved: FirewallPolicy;
  try {
    saved = await lab.api<FirewallPolicy>('PUT', `/api/v1/firewallpolicies/${name}`, doc);
  } catch (e) {
    if ((e as { status?: number }).status !== 404) throw e;
    saved = await lab.api<FirewallPolicy>('POST', '/api/v1/firewallpolicies', doc);
  }
  return saved.metadata.generation ?? 1;
}

export async function getPolicy(lab: SingleHostLab, name: string): Promise<FirewallPolicy> {
  return lab.api<FirewallPolicy>('GET', `/api/v1/firewallpolicies/${name}`);
}

export function isReady(p: FirewallPolicy, generation: number): boolean {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && p.status?.observedGeneration === generation && ready.reason === 'Ready';
}

/** Waits until the policy's status says `generation` is enforced everywhere (Ready). Returns when it saw that (monoMs). */
export async function waitPolicyReady(lab: SingleHostLab, name: string, generation: number, timeoutMs = 30_000, pollMs = 50): Promise<number> {
  let last: FirewallPolicy | undefined;
  try {
    await waitFor(
      `policy ${name} generation ${generation} Ready`,
      async () => {
        last = await getPolicy(lab, name);
        return isReady(last, generation);
      },
      timeoutMs,
      // a read returns the whole policy and computes its status: with 5,000 rules that is
      // 75-500 ms of the controller's time, so not back to back
      pollMs,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
  return monoMs();
}

// ---- nft in the lab's host namespace --------------------------------------------

export async function nftList(hostNs: string, family: string, table: string): Promise<Record<string, unknown>[] | undefined> {
  try {
    const { stdout } = await run('ip', ['netns', 'exec', hostNs, 'nft', '-j', 'list', 'table', family, table], { maxBuffer: 256 * 1024 * 1024 });
    return (JSON.parse(stdout) as { nftables: Record<string, unknown>[] }).nftables;
  } catch (e) {
    if (/No such file or directory/.test(String((e as { stderr?: string }).stderr))) return undefined;
    throw e;
  }
}

/** The table's kernel handle (changes when the table is deleted and added again), or undefined when absent. */
export async function tableHandle(hostNs: string, family: string, table: string): Promise<number | undefined> {
  const listing = await nftList(hostNs, family, table);
  const t = listing?.find((o) => 'table' in o)?.table as { handle?: number } | undefined;
  return t?.handle;
}

function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'handle') continue;
    if (k === 'counter' && x !== null && typeof x === 'object' && 'packets' in (x as object)) {
      out[k] = null; // an anonymous counter's values change with traffic
      continue;
    }
    if (k === 'packets' || k === 'bytes') continue;
    out[k] = stripVolatile(x);
  }
  return out;
}

/**
 * The table's meaning without handles or counter values, sorted, so two
 * listings compare equal exactly when they hold the same rules, chains, maps
 * and elements.
 */
export async function tableSemantics(hostNs: string, family: string, table: string): Promise<string[] | undefined> {
  const listing = await nftList(hostNs, family, table);
  if (!listing) return undefined;
  return listing
    .filter((o) => !('metainfo' in o))
    .map((o) => {
      const s = stripVolatile(o) as Record<string, Record<string, unknown>>;
      const m = s.map ?? s.set;
      if (m && Array.isArray(m.elem)) m.elem = (m.elem as unknown[]).map((e) => JSON.stringify(e)).sort();
      return JSON.stringify(s);
    })
    .sort();
}

export interface GuardCounters {
  ip: number;
  mac: number;
  arp: number;
  ip6: number;
  other: number;
}

/** The anti-spoofing drop counters, read from the kernel. */
export async function guardCounters(hostNs: string): Promise<GuardCounters> {
  const listing = (await nftList(hostNs, 'bridge', 'weft-guard')) ?? [];
  const out: GuardCounters = { ip: 0, mac: 0, arp: 0, ip6: 0, other: 0 };
  for (const o of listing) {
    const c = o.counter as { name?: string; packets?: number } | undefined;
    if (c?.name !== undefined && c.name in out) out[c.name as keyof GuardCounters] = c.packets ?? 0;
  }
  return out;
}

// ---- processes ---------------------------------------------------------------

/**
 * Start the lab's agent (same name, state dir and socket as
 * SingleHostLab.startAgent) and wait only for its RPC socket to answer,
 * not for the controller: it may be away.
 */
export async function startAgentDetached(lab: SingleHostLab, controllerUrl = lab.url): Promise<void> {
  lab.agent = startProc([
    CLI, 'agent', '--controller', controllerUrl, '--name', 'h1', '--token-file', join(lab.dir, 'controller/agent.token'),
    '--socket', lab.socket, '--state-dir', join(lab.dir, 'agent'), '--host-netns', `/run/netns/${lab.hostNs}`, '--log-level', 'warn',
  ]);
  const agent = lab.agent;
  await waitFor(
    'agent answers on its socket',
    async () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output().slice(-1000)}`);
      if (!existsSync(lab.socket)) return false;
      await callAgent(lab.socket, 'health', {}, { timeoutMs: 1_000 });
      return true;
    },
    60_000,
    50,
  );
}
