// Rule sets for the firewall benchmarks, and the naive peer. Pure.
//
// A scenario is what a host's plan would hold: `rules` ingress rules for one
// server workload, split over up to four FirewallPolicies (the first sets
// `defaultAction: deny`), in the order the compiler sees them. The mix:
// single peer addresses with one port (most), /28 CIDRs, port ranges, rules
// with two peers and two ports, and three deny rules (a /26 of addresses
// earlier rules allow) at about 1/4, 1/2 and 3/4 of the list: each overlaps
// an earlier allow, so the packer starts a new block there — four blocks.
// The LAST rule allows the benchmark's client to the iperf3 port, so a design
// that walks rules in order walks all of them for every packet of the flow.
//
// Addresses (all in 100.64.0.0/10): rule i's single peer 100.64.0.0 + i,
// /28s from 100.80.0.0, second peers from 100.96.0.0, edited peers from
// 100.112.0.0, the lab's workloads 100.127.250.0/24.
//
// The naive peer is the same meaning as one nft rule per firewall rule in a
// chain (`ip saddr X tcp dport P counter accept` ... `drop`), with a mirrored
// chain for replies (`ip daddr X tcp sport P`), because weft judges every
// packet, replies included, by its connection's first packet.
import type { PlanFirewallPolicy, PlanFirewallRule, PlanPeer } from '../../model/agent-protocol.js';
import { intToIpv4, ipv4ToInt } from '../../model/ip.js';
import { deleteTableCommands, type NftCommand, type NftDocument, type NftExpr, type NftRule, type NftStatement } from '../../model/nft-json.js';

export const SERVER_IP = '100.127.250.12';
export const CLIENT_IP = '100.127.250.11';
export const WORKLOAD_PREFIX_LEN = 24;
export const IPERF_PORT = 5201;
export const APPLIES_TO = 'applies:fw-server';
export const LAST_RULE = 'iperf';

const HOSTS = ipv4ToInt('100.64.0.0');
const CIDRS = ipv4ToInt('100.80.0.0');
const SECOND_PEERS = ipv4ToInt('100.96.0.0');
const EDITED_PEERS = ipv4ToInt('100.112.0.0');
const MAX_POLICIES = 4;

export interface Scenario {
  rules: number;
  policies: PlanFirewallPolicy[];
  sets: Map<string, string[]>;
  /** indexes (in rule order) of the deny rules */
  denies: number[];
}

const host = (base: number, i: number) => intToIpv4(base + i);
const cidr = (addr: string, len: number): PlanPeer => ({ cidr: `${addr}/${len}` });

/** Deny positions: multiples of 64 near n/4, n/2, 3n/4 (none for tiny lists). */
function denyPositions(n: number): number[] {
  if (n < 256) return [];
  const q = Math.max(64, Math.round(n / 4 / 64) * 64);
  return [q, 2 * q, 3 * q].filter((p) => p < n - 1);
}

/** Rule i of a list of n (i < n - 1, not a deny). */
function allowRule(i: number): PlanFirewallRule {
  const name = `r${i}`;
  const kind = i % 20;
  if (kind <= 12) return { name, action: 'allow', protocol: 'tcp', peers: [cidr(host(HOSTS, i), 32)], ports: [[1024 + ((i * 37) % 28000), 1024 + ((i * 37) % 28000)]] };
  if (kind <= 15) return { name, action: 'allow', protocol: 'tcp', peers: [cidr(host(CIDRS, i * 16), 28)], ports: [[443, 443]] };
  if (kind <= 17) {
    const lo = 30000 + (i % 200) * 10;
    return { name, action: 'allow', protocol: 'tcp', peers: [cidr(host(HOSTS, i), 32)], ports: [[lo, lo + 9]] };
  }
  if (kind === 18) {
    return { name, action: 'allow', protocol: 'tcp', peers: [cidr(host(HOSTS, i), 32), cidr(host(SECOND_PEERS, i), 32)], ports: [[443, 443], [8443, 8443]] };
  }
  return { name, action: 'allow', protocol: 'tcp', peers: [cidr(host(HOSTS, i), 32)], ports: [[5432, 5432]] };
}

/** The scenario with `n` rules; n = 0 is no policy at all. */
export function scenario(n: number): Scenario {
  const sets = new Map<string, string[]>([[APPLIES_TO, [SERVER_IP]]]);
  if (n === 0) return { rules: 0, policies: [], sets, denies: [] };
  const denies = denyPositions(n);
  const all: PlanFirewallRule[] = [];
  for (let i = 0; i < n - 1; i++) {
    // the /26 of single peers of rules [i - 64, i): all earlier than the deny
    if (denies.includes(i)) all.push({ name: `deny-${i}`, action: 'deny', protocol: 'tcp', peers: [cidr(host(HOSTS, i - 64), 26)], ports: [[1024, 65535]] });
    else all.push(allowRule(i));
  }
  all.push({ name: LAST_RULE, action: 'allow', protocol: 'tcp', peers: [cidr(CLIENT_IP, 32)], ports: [[IPERF_PORT, IPERF_PORT]] });
  const count = Math.min(MAX_POLICIES, n);
  const per = Math.ceil(n / count);
  const policies: PlanFirewallPolicy[] = [];
  for (let j = 0; j < count; j++) {
    const p: PlanFirewallPolicy = { name: `fw-${j}`, priority: 100 + j, generation: 1, appliesTo: APPLIES_TO, ingress: { rules: all.slice(j * per, (j + 1) * per) } };
    if (j === 0) p.ingress!.defaultAction = 'deny';
    policies.push(p);
  }
  return { rules: n, policies, sets, denies };
}

/** Rule positions a one-rule change may edit: not a deny, not the last (iperf) rule. */
export function editableRules(s: Scenario): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.rules - 1; i++) if (!s.denies.includes(i)) out.push(i);
  return out;
}

/** The rule at position `index` over all policies, and where it sits. */
function locate(policies: readonly PlanFirewallPolicy[], index: number): { policy: number; rule: number } {
  let left = index;
  for (let p = 0; p < policies.length; p++) {
    const n = policies[p]!.ingress?.rules.length ?? 0;
    if (left < n) return { policy: p, rule: left };
    left -= n;
  }
  throw new RangeError(`no rule at position ${index}`);
}

/** Edit k of a run: even k moves the rule to another port, odd k to another peer address. */
export function editRule(r: PlanFirewallRule, k: number): PlanFirewallRule {
  if (k % 2 === 0) return { ...r, ports: [[40000 + k, 40000 + k]] };
  return { ...r, peers: [cidr(host(EDITED_PEERS, k), 32)] };
}

/**
 * The plan after one rule changed, as the agent receives it: a new policy
 * object for the edited one (its generation bumped), every other shared.
 */
export function withRuleEdited(policies: readonly PlanFirewallPolicy[], index: number, k: number): { policies: PlanFirewallPolicy[]; rule: PlanFirewallRule } {
  const at = locate(policies, index);
  const old = policies[at.policy]!;
  const rules = [...old.ingress!.rules];
  const rule = editRule(rules[at.rule]!, k);
  rules[at.rule] = rule;
  const next = [...policies];
  next[at.policy] = { ...old, generation: old.generation + 1, ingress: { ...old.ingress!, rules } };
  return { policies: next, rule };
}

// ---- the naive peer: one nft rule per firewall rule -----------------------

export const NAIVE_TABLE = 'weft-naive';
export const NAIVE_CHAIN = 'in';
export const NAIVE_REPLY_CHAIN = 'in-r';
const naive = () => ({ family: 'inet', table: NAIVE_TABLE }) as const;

function addressExpr(p: PlanPeer): NftExpr {
  if ('set' in p) throw new TypeError('the naive peer renders CIDR peers only');
  const [addr, len] = p.cidr.split('/') as [string, string];
  return len === '32' ? addr : { prefix: { addr, len: Number(len) } };
}

function oneOrSet(items: NftExpr[]): NftExpr {
  return items.length === 1 ? items[0]! : { set: items };
}

/** The chain rule(s) of one firewall rule: its match on peer and port, a counter, the verdict. */
export function naiveRuleExpr(r: PlanFirewallRule, reply: boolean): NftStatement[] {
  const expr: NftStatement[] = [];
  if (r.peers) expr.push({ match: { op: '==', left: { payload: { protocol: 'ip', field: reply ? 'daddr' : 'saddr' } }, right: oneOrSet(r.peers.map(addressExpr)) } });
  if (r.protocol !== 'tcp') throw new TypeError('the naive peer renders tcp rules only');
  const ports = (r.ports ?? []).map(([lo, hi]): NftExpr => (lo === hi ? lo : { range: [lo, hi] }));
  if (ports.length > 0) expr.push({ match: { op: '==', left: { payload: { protocol: 'tcp', field: reply ? 'sport' : 'dport' } }, right: oneOrSet(ports) } });
  else expr.push({ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } });
  expr.push({ counter: null }, r.action === 'allow' ? { accept: null } : { drop: null });
  return expr;
}

const naiveRule = (chain: string, expr: NftStatement[]): NftRule => ({ ...naive(), chain, expr });
const ctDirection = (dir: 'original' | 'reply'): NftStatement => ({ match: { op: '==', left: { ct: { key: 'direction' } }, right: dir } });

/**
 * The whole naive table: forward (same hook and priority as weft's) jumps to
 * `in` for the server's original-direction packets and to `in-r` for its
 * replies; each walks the rules in order and ends in the default drop.
 */
export function renderNaiveTable(s: Scenario): NftDocument {
  const cmds: NftCommand[] = [...deleteTableCommands('inet', NAIVE_TABLE), { add: { table: { family: 'inet', name: NAIVE_TABLE } } }];
  const rules = s.policies.flatMap((p) => p.ingress?.rules ?? []);
  for (const [chain, reply] of [[NAIVE_CHAIN, false], [NAIVE_REPLY_CHAIN, true]] as const) {
    cmds.push({ add: { chain: { ...naive(), name: chain } } });
    for (const r of rules) cmds.push({ add: { rule: naiveRule(chain, naiveRuleExpr(r, reply)) } });
    cmds.push({ add: { rule: naiveRule(chain, [{ counter: null }, { drop: null }]) } });
  }
  cmds.push({ add: { chain: { ...naive(), name: 'forward', type: 'filter', hook: 'forward', prio: -5, policy: 'accept' } } });
  const dst = (field: 'saddr' | 'daddr'): NftStatement => ({ match: { op: '==', left: { payload: { protocol: 'ip', field } }, right: SERVER_IP } });
  cmds.push({ add: { rule: naiveRule('forward', [ctDirection('original'), dst('daddr'), { jump: { target: NAIVE_CHAIN } }]) } });
  cmds.push({ add: { rule: naiveRule('forward', [ctDirection('reply'), dst('saddr'), { jump: { target: NAIVE_REPLY_CHAIN } }]) } });
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/**
 * The naive one-rule change: replace the rule's two chain rules by handle.
 * `replace` is not in nft-json.ts's command type (weft never replaces rules),
 * hence the cast; nft 1.0.6 accepts it.
 */
export function renderNaiveReplace(r: PlanFirewallRule, handle: number, replyHandle: number): NftDocument {
  const replace = (chain: string, h: number, reply: boolean) => ({ replace: { rule: { ...naiveRule(chain, naiveRuleExpr(r, reply)), handle: h } } });
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, replace(NAIVE_CHAIN, handle, false), replace(NAIVE_REPLY_CHAIN, replyHandle, true)] } as unknown as NftDocument;
}
