// A firewall rule as boxes: each box is one inclusive interval per packet
// field (peer address, IP protocol, destination port), which is exactly what
// one element of an nftables interval map with the key
// `ipv4_addr . inet_proto . inet_service` can hold. A rule's boxes are
// disjoint from each other (its addresses and ports are merged first).
import type { PlanFirewallRule, PlanPeer } from '../../model/agent-protocol.js';
import type { FirewallProtocol } from '../../model/firewall.js';
import { ipv4ToInt, maskOf, parsePrefix4 } from '../../model/ip.js';

export type Interval = readonly [number, number];
/** [address, protocol, port] */
export type Box = readonly [Interval, Interval, Interval];

export const ANY_ADDRESS: Interval = [0, 0xffffffff];
export const ANY_PROTOCOL: Interval = [0, 255];
export const ANY_PORT: Interval = [0, 65535];

const PROTOCOL_NUMBERS: Record<Exclude<FirewallProtocol, 'any'>, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

export function protocolInterval(p: FirewallProtocol): Interval {
  if (p === 'any') return ANY_PROTOCOL;
  const n = PROTOCOL_NUMBERS[p];
  return [n, n];
}

/** Sorted, merged (overlapping or adjacent intervals joined). */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** `outer` minus every interval in `holes`. */
export function subtractIntervals(outer: Interval, holes: readonly Interval[]): Interval[] {
  let pieces: Interval[] = [outer];
  for (const [hlo, hhi] of mergeIntervals(holes)) {
    const next: Interval[] = [];
    for (const [lo, hi] of pieces) {
      if (hhi < lo || hlo > hi) {
        next.push([lo, hi]);
        continue;
      }
      if (hlo > lo) next.push([lo, hlo - 1]);
      if (hhi < hi) next.push([hhi + 1, hi]);
    }
    pieces = next;
  }
  return pieces;
}

const cidrCache = new Map<string, Interval>();
const CIDR_CACHE_MAX = 200_000;

/** "a.b.c.d/n" -> its address interval. Cached: plans repeat the same CIDRs across rules and updates. */
export function cidrInterval(cidr: string): Interval {
  const hit = cidrCache.get(cidr);
  if (hit) return hit;
  const parsed = parsePrefix4(cidr);
  if (!('prefix' in parsed)) throw new RangeError(`not an IPv4 CIDR: ${JSON.stringify(cidr)} (${parsed.hint})`);
  const { base, length } = parsed.prefix;
  const interval: Interval = [base, (base | (~maskOf(length) >>> 0)) >>> 0];
  if (cidrCache.size >= CIDR_CACHE_MAX) cidrCache.clear();
  cidrCache.set(cidr, interval);
  return interval;
}

/** The addresses of a rule's peers as merged intervals; `sets` resolves `{ set }` peers. */
export function peerIntervals(peers: readonly PlanPeer[] | undefined, sets: ReadonlyMap<string, readonly string[]>): Interval[] {
  if (peers === undefined) return [ANY_ADDRESS];
  const all: Interval[] = [];
  for (const peer of peers) {
    if ('set' in peer) {
      // An unknown set is an empty one: the peer matches nobody (fail closed for allow rules).
      for (const ip of sets.get(peer.set) ?? []) {
        const n = ipv4ToInt(ip);
        all.push([n, n]);
      }
    } else {
      all.push(...subtractIntervals(cidrInterval(peer.cidr), (peer.except ?? []).map(cidrInterval)));
    }
  }
  return mergeIntervals(all);
}

export function portIntervals(rule: PlanFirewallRule): Interval[] {
  if (rule.ports === undefined || (rule.protocol !== 'tcp' && rule.protocol !== 'udp')) return [ANY_PORT];
  return mergeIntervals(rule.ports);
}

interface CachedBoxes {
  /** the address lists the boxes were made from, by identity (plans replace a set's list when it changes) */
  lists: ReadonlyArray<readonly string[] | undefined>;
  boxes: Box[];
}

// A plan update replaces only the rules and sets it changes; every other rule
// object (and set list) is the same object as before, so its boxes are too.
const boxCache = new WeakMap<PlanFirewallRule, CachedBoxes>();

function computeBoxes(rule: PlanFirewallRule, sets: ReadonlyMap<string, readonly string[]>): Box[] {
  const proto = protocolInterval(rule.protocol);
  const ports = portIntervals(rule);
  const boxes: Box[] = [];
  for (const a of peerIntervals(rule.peers, sets)) for (const p of ports) boxes.push([a, proto, p]);
  return boxes;
}

export function ruleBoxes(rule: PlanFirewallRule, sets: ReadonlyMap<string, readonly string[]>): Box[] {
  const lists = (rule.peers ?? []).flatMap((p) => ('set' in p ? [sets.get(p.set)] : []));
  const cached = boxCache.get(rule);
  if (cached && cached.lists.length === lists.length && cached.lists.every((l, i) => l === lists[i])) return cached.boxes;
  const boxes = computeBoxes(rule, sets);
  boxCache.set(rule, { lists, boxes });
  return boxes;
}

export function overlaps(a: Box, b: Box): boolean {
  for (let i = 0; i < 3; i++) {
    const x = a[i] as Interval;
    const y = b[i] as Interval;
    if (x[1] < y[0] || y[1] < x[0]) return false;
  }
  return true;
}

export function contains(outer: Box, inner: Box): boolean {
  for (let i = 0; i < 3; i++) {
    const x = outer[i] as Interval;
    const y = inner[i] as Interval;
    if (y[0] < x[0] || y[1] > x[1]) return false;
  }
  return true;
}

/** Stable text key of a box, the same for the box weft renders and the one nft lists back. */
const keyCache = new WeakMap<Box, string>();

export function boxKey(b: Box): string {
  let k = keyCache.get(b);
  if (k === undefined) {
    k = `${b[0][0]}-${b[0][1]}/${b[1][0]}-${b[1][1]}/${b[2][0]}-${b[2][1]}`;
    keyCache.set(b, k);
  }
  return k;
}
