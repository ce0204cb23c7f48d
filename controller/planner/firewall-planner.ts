// The firewall part of a host's plan: the FirewallPolicies that apply to at
// least one endpoint on the host, compiled for its agent, and the address
// sets they name. Pure; the host planner calls it.
//
// Compiling keeps what depends on the policy apart from what depends on
// the endpoints: rules name address sets (by the peer's selector and
// network), they never list addresses. An endpoint that attaches, detaches
// or changes labels therefore changes address sets only, and the agent
// updates set elements without touching any rule.
import { createHash } from 'node:crypto';
import type { PlanAddressSet, PlanFirewallPolicy, PlanFirewallRule, PlanPeer, PlanPolicyDirection } from '../../model/agent-protocol.js';
import {
  DEFAULT_POLICY_PRIORITY, type DefaultAction, type FirewallAction, type FirewallPeer, type FirewallPolicy, type FirewallProtocol, type PortEntry,
} from '../../model/firewall.js';

/** What the firewall needs of an endpoint: where it is, its address and its labels. */
export interface FirewallEndpoint {
  name: string;
  network: string;
  host: string;
  ip: string;
  labels?: Record<string, string>;
}

export interface FirewallPlan {
  firewallPolicies: PlanFirewallPolicy[];
  addressSets: PlanAddressSet[];
}

/** Set names longer than this end in a hash instead of spelling out the selector. */
export const MAX_SET_NAME = 200;
const HASH_CHARS = 16;

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A readable name, or its first characters and a hash of all of it when it is too long. */
function setName(readable: string): string {
  if (readable.length <= MAX_SET_NAME) return readable;
  const hash = createHash('sha256').update(readable).digest('hex').slice(0, HASH_CHARS);
  return `${readable.slice(0, MAX_SET_NAME - HASH_CHARS - 1)}~${hash}`;
}

/** The set of this host's endpoints a policy applies to. */
export function appliesSetName(policy: string): string {
  return setName(`applies:${policy}`);
}

/** The set of every endpoint (all hosts) on `network` (any network: undefined) carrying all of `selector`. */
export function peerSetName(network: string | undefined, selector: Record<string, string> | undefined): string {
  const labels = Object.keys(selector ?? {})
    .sort(compare)
    .map((k) => `${k}=${(selector as Record<string, string>)[k]}`)
    .join(',');
  return setName(`peer:${network ?? '*'}:${labels}`);
}

/** matchLabels: every key of the selector with its value (an empty or absent selector matches all). */
export function matchesSelector(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/** Does the policy protect this endpoint? appliesTo omitted: every endpoint. */
function policyAppliesTo(policy: FirewallPolicy, ep: FirewallEndpoint): boolean {
  const a = policy.spec.appliesTo;
  if (!a) return true;
  return (a.network === undefined || a.network === ep.network) && matchesSelector(a.selector, ep.labels);
}

/**
 * Destination ports as sorted, merged, inclusive ranges, named port sets
 * expanded (a set may name another; a cycle or an unknown name adds
 * nothing: validation refuses both). undefined when the rule lists no
 * ports (every port); an empty list when the ports it lists resolve to
 * none, so the rule matches nothing rather than everything.
 */
export function resolvePorts(ports: PortEntry[] | undefined, portSets: Record<string, PortEntry[]> | undefined): Array<[number, number]> | undefined {
  if (ports === undefined) return undefined;
  // Most rules name one port: the general path below gives the same answer.
  if (ports.length === 1) {
    const only = ports[0];
    if (typeof only === 'number' && Number.isInteger(only) && only >= 1 && only <= 65535) return [[only, only]];
  }
  const ranges: Array<[number, number]> = [];
  const expand = (entries: PortEntry[], seen: Set<string>) => {
    for (const e of entries) {
      if (typeof e === 'number') {
        ranges.push([e, e]);
        continue;
      }
      if (e.startsWith('@')) {
        const name = e.slice(1);
        const set = portSets?.[name];
        if (set && !seen.has(name)) expand(set, new Set([...seen, name]));
        continue;
      }
      const [lo, hi = lo] = e.split('-').map(Number) as [number, number?];
      ranges.push([lo, hi]);
    }
  };
  expand(ports, new Set());
  const valid = ranges.filter(([lo, hi]) => Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi <= 65535 && lo <= hi).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const [lo, hi] of valid) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

/** The peer's compiled form: an address set (selector and/or network) or a CIDR; validation keeps the two apart, a CIDR wins. */
function compilePeer(p: FirewallPeer): PlanPeer {
  if (p.cidr !== undefined) return p.except !== undefined && p.except.length > 0 ? { cidr: p.cidr, except: [...p.except] } : { cidr: p.cidr };
  return { set: peerSetName(p.network, p.selector) };
}

/**
 * An ingress or egress rule as the spec holds it. Action and protocol are
 * typed loosely: validation already limited them to their literals.
 */
interface SourceRule {
  name?: string;
  action: string;
  log?: boolean;
  from?: FirewallPeer[];
  to?: FirewallPeer[];
  protocol?: string;
  ports?: PortEntry[];
}

function compileRule(rule: SourceRule, index: number, peers: FirewallPeer[] | undefined, portSets: Record<string, PortEntry[]> | undefined): PlanFirewallRule {
  const out: PlanFirewallRule = { name: rule.name ?? String(index), action: rule.action as FirewallAction, protocol: (rule.protocol ?? 'any') as FirewallProtocol };
  if (rule.log === true) out.log = true;
  // No peers, or an empty list: any peer.
  if (peers !== undefined && peers.length === 1) out.peers = [compilePeer(peers[0] as FirewallPeer)];
  else if (peers !== undefined && peers.length > 0) {
    const unique = new Map<string, PlanPeer>();
    for (const p of peers.map(compilePeer)) unique.set(JSON.stringify(p), p);
    out.peers = [...unique.values()];
  }
  const ports = resolvePorts(rule.ports, portSets);
  if (ports !== undefined) out.ports = ports;
  return out;
}

function compileDirection(
  dir: { defaultAction?: string; rules?: SourceRule[] } | undefined,
  peerField: 'from' | 'to',
  portSets: Record<string, PortEntry[]> | undefined,
): PlanPolicyDirection | undefined {
  if (!dir) return undefined;
  const out: PlanPolicyDirection = { rules: (dir.rules ?? []).map((r, i) => compileRule(r, i, r[peerField], portSets)) };
  if (dir.defaultAction !== undefined) out.defaultAction = dir.defaultAction as DefaultAction;
  return out;
}

/** A policy as every host enforces it, but for which endpoints it applies to (the applies set). */
export function compilePolicy(policy: FirewallPolicy): PlanFirewallPolicy {
  const name = policy.metadata.name;
  const out: PlanFirewallPolicy = {
    name,
    priority: policy.spec.priority ?? DEFAULT_POLICY_PRIORITY,
    generation: policy.metadata.generation ?? 1,
    appliesTo: appliesSetName(name),
  };
  const ingress = compileDirection(policy.spec.ingress, 'from', policy.spec.portSets);
  const egress = compileDirection(policy.spec.egress, 'to', policy.spec.portSets);
  if (ingress) out.ingress = ingress;
  if (egress) out.egress = egress;
  return out;
}

/** The selector peers of a policy, by set name. */
function selectorPeers(policy: FirewallPolicy): Map<string, FirewallPeer> {
  const out = new Map<string, FirewallPeer>();
  const add = (peers: FirewallPeer[] | undefined) => {
    for (const p of peers ?? []) if (p.cidr === undefined) out.set(peerSetName(p.network, p.selector), p);
  };
  for (const r of policy.spec.ingress?.rules ?? []) add(r.from);
  for (const r of policy.spec.egress?.rules ?? []) add(r.to);
  return out;
}

const uniqueSorted = (ips: Iterable<string>) => [...new Set(ips)].sort(compareIpv4);

/** Numeric order for dotted quads (so 10.0.0.9 comes before 10.0.0.10); anything else after them, as text. */
function compareIpv4(a: string, b: string): number {
  const na = ipv4Number(a);
  const nb = ipv4Number(b);
  if (na !== undefined && nb !== undefined) return na - nb;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return compare(a, b);
}

function ipv4Number(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

/** Everything of one planning input that does not depend on the host being planned. */
interface FirewallIndex {
  /** compiled policies by name */
  compiled: Map<string, PlanFirewallPolicy>;
  /** policy -> host -> addresses of the host's endpoints it applies to */
  applied: Map<string, Map<string, string[]>>;
  /** policy -> the peer sets its rules name */
  peerSetsOf: Map<string, string[]>;
  /** peer set name -> addresses of every endpoint it matches */
  peerSets: Map<string, string[]>;
}

/**
 * Compiled policies kept from one planning pass to the next, so a write
 * recompiles only the policies it changed. A stored policy's spec never
 * changes within a generation (the store bumps the generation with every
 * spec change and a policy made again gets a new uid), so uid and
 * generation identify the compiled form; a policy without a uid (not from
 * the store) is compiled every time. Holds the policies of the last pass
 * only.
 */
export class CompiledPolicyCache {
  private entries = new Map<string, { uid: string; generation: number; compiled: PlanFirewallPolicy }>();

  compile(policy: FirewallPolicy): PlanFirewallPolicy {
    const { name, uid } = policy.metadata;
    const generation = policy.metadata.generation ?? 1;
    if (uid === undefined) return compilePolicy(policy);
    const hit = this.entries.get(name);
    if (hit && hit.uid === uid && hit.generation === generation) return hit.compiled;
    const compiled = compilePolicy(policy);
    this.entries.set(name, { uid, generation, compiled });
    return compiled;
  }

  /** Forget every policy but these (the ones of the latest pass). */
  retain(names: ReadonlySet<string>): void {
    for (const name of [...this.entries.keys()]) if (!names.has(name)) this.entries.delete(name);
  }
}

function buildIndex(policies: readonly FirewallPolicy[], endpoints: readonly FirewallEndpoint[], cache: CompiledPolicyCache | undefined): FirewallIndex {
  const idx: FirewallIndex = { compiled: new Map(), applied: new Map(), peerSetsOf: new Map(), peerSets: new Map() };
  cache?.retain(new Set(policies.map((p) => p.metadata.name)));
  for (const policy of policies) {
    const name = policy.metadata.name;
    idx.compiled.set(name, cache ? cache.compile(policy) : compilePolicy(policy));
    const byHost = new Map<string, string[]>();
    for (const ep of endpoints) {
      if (!policyAppliesTo(policy, ep)) continue;
      let ips = byHost.get(ep.host);
      if (!ips) byHost.set(ep.host, (ips = []));
      ips.push(ep.ip);
    }
    idx.applied.set(name, byHost);
    const peers = selectorPeers(policy);
    idx.peerSetsOf.set(name, [...peers.keys()]);
    for (const [set, p] of peers) {
      if (idx.peerSets.has(set)) continue;
      idx.peerSets.set(set, uniqueSorted(endpoints.filter((ep) => (p.network === undefined || ep.network === p.network) && matchesSelector(p.selector, ep.labels)).map((ep) => ep.ip)));
    }
  }
  return idx;
}

/**
 * Plans firewalls for many hosts from one input: the host-independent part
 * (compiled rules, peer sets) is built once, on the first call.
 */
export class FirewallPlanner {
  private index: FirewallIndex | undefined;
  private byName: Map<string, FirewallPolicy> | undefined;

  /** @param cache compiled policies of earlier passes to reuse (and to keep this pass's in) */
  constructor(
    private readonly policies: readonly FirewallPolicy[],
    private readonly endpoints: readonly FirewallEndpoint[],
    private readonly cache?: CompiledPolicyCache,
  ) {}

  /** The host's policies (those applying to at least one of its endpoints) and exactly the sets they name, both sorted by name. */
  planHost(host: string): FirewallPlan {
    const idx = (this.index ??= buildIndex(this.policies, this.endpoints, this.cache));
    const firewallPolicies: PlanFirewallPolicy[] = [];
    const sets = new Map<string, PlanAddressSet>();
    for (const [name, byHost] of idx.applied) {
      const local = byHost.get(host);
      if (!local || local.length === 0) continue;
      const compiled = idx.compiled.get(name) as PlanFirewallPolicy;
      firewallPolicies.push(compiled);
      sets.set(compiled.appliesTo, { name: compiled.appliesTo, addresses: uniqueSorted(local) });
      for (const set of idx.peerSetsOf.get(name) ?? []) sets.set(set, { name: set, addresses: idx.peerSets.get(set) ?? [] });
    }
    return {
      firewallPolicies: firewallPolicies.sort((a, b) => compare(a.name, b.name)),
      addressSets: [...sets.values()].sort((a, b) => compare(a.name, b.name)),
    };
  }

  /**
   * How many endpoints (every host) a policy applies to, and how many on
   * each host. Only appliesTo matters: nothing is compiled (a status read
   * must not cost a compile of every rule).
   */
  appliedCounts(policy: string): { total: number; byHost: Map<string, number> } {
    const byHost = new Map<string, number>();
    let total = 0;
    this.byName ??= new Map(this.policies.map((p) => [p.metadata.name, p]));
    const p = this.byName.get(policy);
    if (!p) return { total, byHost };
    for (const ep of this.endpoints) {
      if (!policyAppliesTo(p, ep)) continue;
      byHost.set(ep.host, (byHost.get(ep.host) ?? 0) + 1);
      total++;
    }
    return { total, byHost };
  }
}

/** One host's firewall plan (convenience over FirewallPlanner for a single host). */
export function planFirewall(policies: readonly FirewallPolicy[], endpoints: readonly FirewallEndpoint[], host: string): FirewallPlan {
  return new FirewallPlanner(policies, endpoints).planHost(host);
}
