// Interval arithmetic of firewall rules, and a rule as boxes (ruleBoxes):
// the distributed policy's have one peer field (agents/firewall/), the
// perimeter firewall's two (vnf/firewall/); box-packer.ts packs both. Pure;
// model/ so both sides may import it.
import type { PlanPeer } from './agent-protocol.js';
import type { FirewallProtocol } from './firewall.js';
import { ipv4ToInt, maskOf, parsePrefix4 } from './ip.js';

export type Interval = readonly [number, number];

export const ANY_ADDRESS: Interval = [0, 0xffffffff];
export const ANY_PROTOCOL: Interval = [0, 255];
export const ANY_PORT: Interval = [0, 65535];

/** IP protocol numbers of the protocols rules and port forwards name. */
export const PROTOCOL_NUMBERS: Readonly<Record<Exclude<FirewallProtocol, 'any'>, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

function protocolInterval(p: FirewallProtocol): Interval {
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
function subtractIntervals(outer: Interval, holes: readonly Interval[]): Interval[] {
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

/** A rule's destination ports as merged intervals: every port unless tcp/udp with ports listed. */
function portIntervals(rule: { protocol: FirewallProtocol; ports?: Array<[number, number]> }): Interval[] {
  if (rule.ports === undefined || (rule.protocol !== 'tcp' && rule.protocol !== 'udp')) return [ANY_PORT];
  return mergeIntervals(rule.ports);
}

/** A rule's box: one interval per peer list (in the order given), then the protocol's, then the destination port's. */
export type RuleBox<P extends readonly unknown[]> = readonly [...{ [K in keyof P]: Interval }, Interval, Interval];

/**
 * A rule as boxes: every combination of its peer lists' address intervals,
 * its protocol and its destination ports, which is what the elements of an
 * nftables interval map keyed `ipv4_addr . ... . inet_proto . inet_service`
 * hold. A rule's boxes are disjoint from each other (each field's intervals
 * are merged first). `sets` resolves `{ set }` peers.
 */
export function ruleBoxes<const P extends ReadonlyArray<readonly PlanPeer[] | undefined>>(
  peers: P,
  rule: { protocol: FirewallProtocol; ports?: Array<[number, number]> },
  sets: ReadonlyMap<string, readonly string[]>,
): RuleBox<P>[] {
  const fields = [...peers.map((p) => peerIntervals(p, sets)), [protocolInterval(rule.protocol)], portIntervals(rule)];
  let boxes: Interval[][] = [[]];
  for (const field of fields) boxes = boxes.flatMap((head) => field.map((iv) => [...head, iv]));
  // One interval per field: P's length plus protocol and port, which is what RuleBox<P> says.
  return boxes as unknown as RuleBox<P>[];
}
