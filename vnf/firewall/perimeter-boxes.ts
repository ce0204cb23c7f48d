// A perimeter rule as boxes: one inclusive interval per packet field of the
// key `ip saddr . ip daddr . meta l4proto . th dport`, which is exactly what
// one element of an nftables interval map with the type
// `ipv4_addr . ipv4_addr . inet_proto . inet_service` holds. A rule's boxes
// are disjoint from each other (its sources, destinations and ports are
// merged first).
//
// The same idea as agents/firewall/rule-boxes.ts (3 fields: one peer), with
// both peers; the interval arithmetic is model/rule-intervals.ts.
import { peerIntervals, portIntervals, protocolInterval, type Interval } from '../../model/rule-intervals.js';
import type { PlanPerimeterRule } from '../../model/vnf-protocol.js';

export { ANY_ADDRESS, ANY_PORT, ANY_PROTOCOL, cidrInterval, mergeIntervals, peerIntervals, portIntervals, protocolInterval, subtractIntervals, type Interval } from '../../model/rule-intervals.js';
/** [source, destination, protocol, destination port] */
export type Box = readonly [Interval, Interval, Interval, Interval];

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
