// A perimeter rule as boxes: one inclusive interval per packet field of the
// key `ip saddr . ip daddr . meta l4proto . th dport`, which is exactly what
// one element of an nftables interval map with the type
// `ipv4_addr . ipv4_addr . inet_proto . inet_service` holds. A rule's boxes
// are disjoint from each other (its sources, destinations and ports are
// merged first).
//
// The same idea as agents/firewall/rule-boxes.ts (3 fields: one peer), with
// both peers; vnf/ may import only model/, so the interval helpers are
// repeated here rather than shared.
import type { PlanPeer } from '../../model/agent-protocol.js';
import type { FirewallProtocol } from '../../model/firewall.js';
import { ipv4ToInt, maskOf, parsePrefix4 } from '../../model/ip.js';
import type { PlanPerimeterRule } from '../../model/vnf-protocol.js';

export type Interval = readonly [number, number];
/** [source, destination, protocol, destination port] */
export type Box = readonly [Interval, Interval, Interval, Interval];

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

export function cidrInterval(cidr: string): Interval {
  const parsed = parsePrefix4(cidr);
  if (!('prefix' in parsed)) throw new RangeError(`not an IPv4 CIDR: ${JSON.stringify(cidr)} (${parsed.hint})`);
  const { base, length } = parsed.prefix;
  return [base, (base | (~maskOf(length) >>> 0)) >>> 0];
}

/** A peer list's addresses as merged intervals; undefined: any address. An unknown set is empty (fail closed for allow rules). */
export function peerIntervals(peers: readonly PlanPeer[] | undefined, sets: ReadonlyMap<string, readonly string[]>): Interval[] {
  if (peers === undefined) return [ANY_ADDRESS];
  const all: Interval[] = [];
  for (const peer of peers) {
    if ('set' in peer) {
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

export function portIntervals(rule: PlanPerimeterRule): Interval[] {
  if (rule.ports === undefined || (rule.protocol !== 'tcp' && rule.protocol !== 'udp')) return [ANY_PORT];
  return mergeIntervals(rule.ports);
}

export function ruleBoxes(rule: PlanPerimeterRule, sets: ReadonlyMap<string, readonly string[]>): Box[] {
  const proto = protocolInterval(rule.protocol);
  const ports = portIntervals(rule);
  const dsts = peerIntervals(rule.to, sets);
  const boxes: Box[] = [];
  for (const s of peerIntervals(rule.from, sets)) for (const d of dsts) for (const p of ports) boxes.push([s, d, proto, p]);
  return boxes;
}

/** Stable text key of a box: the same for the box rendered and the one nft lists back. */
export function boxKey(b: readonly Interval[]): string {
  return b.map(([lo, hi]) => `${lo}-${hi}`).join('/');
}
