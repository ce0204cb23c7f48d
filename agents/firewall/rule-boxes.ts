// A firewall rule as boxes: each box is one inclusive interval per packet
// field (peer address, IP protocol, destination port), which is exactly what
// one element of an nftables interval map with the key
// `ipv4_addr . inet_proto . inet_service` can hold. A rule's boxes are
// disjoint from each other (its addresses and ports are merged first).
import type { PlanFirewallRule } from '../../model/agent-protocol.js';
import { peerIntervals, portIntervals, protocolInterval, type Interval } from '../../model/rule-intervals.js';

export { ANY_ADDRESS, ANY_PORT, ANY_PROTOCOL, cidrInterval, mergeIntervals, peerIntervals, portIntervals, protocolInterval, subtractIntervals, type Interval } from '../../model/rule-intervals.js';
/** [address, protocol, port] */
export type Box = readonly [Interval, Interval, Interval];

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
