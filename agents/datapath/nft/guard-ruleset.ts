// Anti-spoofing on every endpoint port, policy or not, as one bridge-family
// table. Pure.
//
//   table bridge weft-guard {
//     set mac-src { type ifname . ether_addr }               port, its endpoint's MAC
//     set ip-src  { type ifname . ether_addr . ipv4_addr }   port, MAC, its endpoint's IPv4
//     set policed  { type ifname }                          ports of endpoints with an ingress policy
//     set no-ip6   { type ifname }                          ports of endpoints any policy applies to
//     map ip6-port { type ifname : verdict }                 dual-stack port -> goto its p6-<port> chain
//     counter ip / mac / arp / ip6 / other / broadcast
//     chain postrouting { type filter hook postrouting priority -300; policy accept;
//       oifname @policed ether type ip meta pkttype { broadcast, multicast } counter name broadcast drop
//       oifname @no-ip6 ether type ip6 counter name ip6 drop
//     }
//     chain prerouting { type filter hook prerouting priority -300; policy accept;
//       iifname != "wv-*" accept                       not an endpoint port: not ours to judge
//       iifname . ether saddr != @mac-src counter name mac drop
//       ether type arp arp saddr ip != 0.0.0.0 iifname . arp saddr ether . arp saddr ip != @ip-src counter name arp drop
//       ether type arp iifname . arp saddr ether != @mac-src counter name arp drop
//       ether type ip iifname . ether saddr . ip saddr != @ip-src counter name ip drop
//       ether type ip6 iifname @no-ip6 counter name ip6 drop
//       ether type ip6 icmpv6 type { nd-router-advert, nd-redirect, router-renumbering } counter name ip6 drop
//       ether type ip6 iifname vmap @ip6-port
//       ether type ip6 counter name ip6 drop
//       ether type != { ip, arp, ip6 } counter name other drop
//     }
//     chain p6-<port> {                                 one per dual-stack port; its addresses: A (own), L (fe80:: of its MAC)
//       icmpv6 type nd-neighbor-advert @th,64,128 != { A, L } counter name ip6 drop
//       ip6 saddr :: icmpv6 type nd-neighbor-solicit @th,64,128 != { A, L } counter name ip6 drop
//       ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } accept
//       ip6 saddr != { A, L } counter name ip6 drop
//     }
//   }
//
// An endpoint can send only from its own MAC and IPv4 address and can only
// claim its own address in ARP (no answering for others, no gratuitous ARP
// for another endpoint's address); ARP probes (sender 0.0.0.0) are allowed.
// IPv6 likewise, on a dual-stack network only: from its own address or the
// link-local address of its MAC (the kernel's default, needed for neighbour
// discovery), never a router advertisement, redirect or renumbering (the
// host's bridges take RAs: a workload could give the host a default
// route), a neighbour advertisement only for its own addresses, and from ::
// only its own duplicate-address probe or an MLD report. nft 1.0.6 has no
// `icmpv6 taddr` and no raw payload in a typed concatenation, so the
// neighbour-discovery target (bits 64-191 of the ICMPv6 message) is compared
// in a chain per port, reached in one map lookup. An endpoint of an
// IPv4-only network sends no IPv6 at all (not even link-local: it would be a
// way around every policy to listeners bound to ::), and neither does, nor
// receives, an endpoint that a FirewallPolicy applies to: policies judge
// IPv4 only. Fail closed: a `wv-*` port not in the sets (an attach in
// progress, an unknown port) sends nothing. Bridge family: the checks see
// every frame as it enters the bridge, before br_netfilter (priority 0) and
// before forwarding or delivery to the host.
//
// Broadcast and multicast IPv4 have no endpoint address to look a policy up
// by, so the policy table cannot judge them: they are not delivered to an
// endpoint that has an ingress policy (ARP, being no IPv4, still is).
import { canonicalIp6, ip6Hex, linkLocalOf } from '../../../model/dual-stack.js';
import { HOST_NFT_TABLES, VETH_PREFIX } from '../../../model/kernel-names.js';
import { SPOOF_REASONS, type GuardedPort, type IfnameChange, type SpoofReason } from '../policy-table-port.js';
import {
  deleteTableCommands, isCounterObject,
  type NftCommand, type NftConcatExpr, type NftDocument, type NftExpr, type NftListObject, type NftMapElem, type NftRule, type NftStatement,
} from '../../../model/nft-json.js';

export const GUARD_FAMILY = HOST_NFT_TABLES.guard.family;
export const GUARD_TABLE = HOST_NFT_TABLES.guard.name;
const GUARD_CHAIN = 'prerouting';
const GUARD_PRIORITY = -300;
/** What leaves by a port, forwarded by the bridge or sent by the host (routed onto the bridge, or its own): the bridge's postrouting sees both, its forward hook only the first. */
const GUARD_EGRESS_CHAIN = 'postrouting';
const POLICED_SET = 'policed';
const NO_IP6_SET = 'no-ip6';
const IP6_PORT_MAP = 'ip6-port';
const BROADCAST_COUNTER = 'broadcast';

const base = () => ({ family: GUARD_FAMILY, table: GUARD_TABLE }) as const;
const iifname: NftExpr = { meta: { key: 'iifname' } };
const ether = (field: 'saddr' | 'type'): NftExpr => ({ payload: { protocol: 'ether', field } });
const arp = (field: 'saddr ip' | 'saddr ether'): NftExpr => ({ payload: { protocol: 'arp', field } });
const icmp6Type: NftExpr = { payload: { protocol: 'icmpv6', field: 'type' } };
const ip6Saddr: NftExpr = { payload: { protocol: 'ip6', field: 'saddr' } };
/** The target address of a neighbour solicitation or advertisement (RFC 4861 4.3, 4.4). */
const ndTarget: NftExpr = { payload: { base: 'th', offset: 64, len: 128 } };
const etherType = (t: string): NftStatement => ({ match: { op: '==', left: ether('type'), right: t } });
const drop = (reason: SpoofReason): NftStatement[] => [{ counter: reason }, { drop: null }];

function rule(expr: NftStatement[], chain = GUARD_CHAIN): NftRule {
  return { ...base(), chain, expr };
}

function egressRules(): NftRule[] {
  return [
    rule(
      [
        { match: { op: '==', left: { meta: { key: 'oifname' } }, right: `@${POLICED_SET}` } },
        etherType('ip'),
        { match: { op: '==', left: { meta: { key: 'pkttype' } }, right: { set: ['broadcast', 'multicast'] } } },
        { counter: BROADCAST_COUNTER },
        { drop: null },
      ],
      GUARD_EGRESS_CHAIN,
    ),
    rule([{ match: { op: '==', left: { meta: { key: 'oifname' } }, right: `@${NO_IP6_SET}` } }, etherType('ip6'), ...drop('ip6')], GUARD_EGRESS_CHAIN),
  ];
}

const macKey = (p: GuardedPort): NftConcatExpr => ({ concat: [p.ifname, p.mac.toLowerCase()] });
const ipKey = (p: GuardedPort): NftConcatExpr => ({ concat: [p.ifname, p.mac.toLowerCase(), p.ip] });

/** The chain holding one dual-stack port's IPv6 rules. */
export function portChain(ifname: string): string {
  return `p6-${ifname}`;
}

/** The addresses a dual-stack port may send from: its own and the link-local one of its MAC. */
function ip6Sources(p: GuardedPort & { ip6: string }): string[] {
  return [canonicalIp6(p.ip6), linkLocalOf(p.mac.toLowerCase())];
}

const dualStack = (p: GuardedPort): p is GuardedPort & { ip6: string } => p.ip6 !== undefined;

function portRules(p: GuardedPort & { ip6: string }): NftRule[] {
  const chain = portChain(p.ifname);
  const sources = ip6Sources(p);
  // a raw 128-bit payload compares with integer immediates, not address text
  const targets: NftExpr = { set: sources.map(ip6Hex) };
  const fromUnspecified: NftStatement = { match: { op: '==', left: ip6Saddr, right: '::' } };
  return [
    rule([{ match: { op: '==', left: icmp6Type, right: 'nd-neighbor-advert' } }, { match: { op: '!=', left: ndTarget, right: targets } }, ...drop('ip6')], chain),
    rule([fromUnspecified, { match: { op: '==', left: icmp6Type, right: 'nd-neighbor-solicit' } }, { match: { op: '!=', left: ndTarget, right: targets } }, ...drop('ip6')], chain),
    rule([fromUnspecified, { match: { op: '==', left: icmp6Type, right: { set: ['nd-neighbor-solicit', 'mld2-listener-report'] } } }, { accept: null }], chain),
    rule([{ match: { op: '!=', left: ip6Saddr, right: { set: sources } } }, ...drop('ip6')], chain),
  ];
}

const portElem = (p: GuardedPort): NftMapElem => [p.ifname, { goto: { target: portChain(p.ifname) } }];

/** Commands adding a dual-stack port's chain and its map element (the chain first: the element refers to it). */
function addPort6(p: GuardedPort & { ip6: string }): NftCommand[] {
  return [
    { add: { chain: { ...base(), name: portChain(p.ifname) } } },
    ...portRules(p).map((r): NftCommand => ({ add: { rule: r } })),
    { add: { element: { ...base(), name: IP6_PORT_MAP, elem: [portElem(p)] } } },
  ];
}

/** Commands removing a dual-stack port's map element, then its chain (with its rules). */
function removePort6(p: GuardedPort & { ip6: string }): NftCommand[] {
  return [{ delete: { element: { ...base(), name: IP6_PORT_MAP, elem: [portElem(p)] } } }, { delete: { chain: { ...base(), name: portChain(p.ifname) } } }];
}

function rules(): NftRule[] {
  return [
    rule([{ match: { op: '!=', left: iifname, right: `${VETH_PREFIX}*` } }, { accept: null }]),
    rule([{ match: { op: '!=', left: { concat: [iifname, ether('saddr')] }, right: '@mac-src' } }, ...drop('mac')]),
    rule([
      etherType('arp'),
      { match: { op: '!=', left: arp('saddr ip'), right: '0.0.0.0' } },
      { match: { op: '!=', left: { concat: [iifname, arp('saddr ether'), arp('saddr ip')] }, right: '@ip-src' } },
      ...drop('arp'),
    ]),
    rule([etherType('arp'), { match: { op: '!=', left: { concat: [iifname, arp('saddr ether')] }, right: '@mac-src' } }, ...drop('arp')]),
    rule([etherType('ip'), { match: { op: '!=', left: { concat: [iifname, ether('saddr'), { payload: { protocol: 'ip', field: 'saddr' } }] }, right: '@ip-src' } }, ...drop('ip')]),
    // Policies judge IPv4 only: an endpoint one applies to has no IPv6 path around it.
    rule([etherType('ip6'), { match: { op: '==', left: iifname, right: `@${NO_IP6_SET}` } }, ...drop('ip6')]),
    rule([etherType('ip6'), { match: { op: '==', left: icmp6Type, right: { set: ['nd-router-advert', 'nd-redirect', 'router-renumbering'] } } }, ...drop('ip6')]),
    rule([etherType('ip6'), { vmap: { key: iifname, data: `@${IP6_PORT_MAP}` } }]),
    // Ports of IPv4-only networks (not in the map): no IPv6 at all.
    rule([etherType('ip6'), ...drop('ip6')]),
    rule([{ match: { op: '!=', left: ether('type'), right: { set: ['ip', 'arp', 'ip6'] } } }, ...drop('other')]),
  ];
}

/** The whole table for `ports`, replacing any table of that name in one transaction. */
export function renderGuard(ports: readonly GuardedPort[], policed: readonly string[] = [], noIp6: readonly string[] = []): NftDocument {
  const cmds: NftCommand[] = [...deleteTableCommands(GUARD_FAMILY, GUARD_TABLE), { add: { table: { family: GUARD_FAMILY, name: GUARD_TABLE } } }];
  const macSet = { ...base(), name: 'mac-src', type: ['ifname', 'ether_addr'] as ['ifname', 'ether_addr'] };
  const ipSet = { ...base(), name: 'ip-src', type: ['ifname', 'ether_addr', 'ipv4_addr'] as ['ifname', 'ether_addr', 'ipv4_addr'] };
  cmds.push({ add: { set: ports.length > 0 ? { ...macSet, elem: ports.map(macKey) } : macSet } });
  cmds.push({ add: { set: ports.length > 0 ? { ...ipSet, elem: ports.map(ipKey) } : ipSet } });
  const policedSet = { ...base(), name: POLICED_SET, type: 'ifname' as const };
  cmds.push({ add: { set: policed.length > 0 ? { ...policedSet, elem: [...policed] } : policedSet } });
  const noIp6Set = { ...base(), name: NO_IP6_SET, type: 'ifname' as const };
  cmds.push({ add: { set: noIp6.length > 0 ? { ...noIp6Set, elem: [...noIp6] } : noIp6Set } });
  cmds.push({ add: { map: { ...base(), name: IP6_PORT_MAP, type: 'ifname', map: 'verdict' } } });
  for (const reason of [...SPOOF_REASONS, BROADCAST_COUNTER]) cmds.push({ add: { counter: { ...base(), name: reason } } });
  for (const p of ports.filter(dualStack)) cmds.push(...addPort6(p));
  cmds.push({ add: { chain: { ...base(), name: GUARD_CHAIN, type: 'filter', hook: 'prerouting', prio: GUARD_PRIORITY, policy: 'accept' } } });
  for (const r of rules()) cmds.push({ add: { rule: r } });
  cmds.push({ add: { chain: { ...base(), name: GUARD_EGRESS_CHAIN, type: 'filter', hook: 'postrouting', prio: GUARD_PRIORITY, policy: 'accept' } } });
  for (const r of egressRules()) cmds.push({ add: { rule: r } });
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

const NO_CHANGE: IfnameChange = { add: [], remove: [] };

/** Element changes for one transaction; undefined when there are none. */
export function diffGuard(add: readonly GuardedPort[], remove: readonly GuardedPort[], policed: IfnameChange = NO_CHANGE, noIp6: IfnameChange = NO_CHANGE): NftDocument | undefined {
  const cmds: NftCommand[] = [];
  for (const [name, change] of [[POLICED_SET, policed], [NO_IP6_SET, noIp6]] as const) {
    if (change.remove.length > 0) cmds.push({ delete: { element: { ...base(), name, elem: [...change.remove] } } });
    if (change.add.length > 0) cmds.push({ add: { element: { ...base(), name, elem: [...change.add] } } });
  }
  if (remove.length > 0) {
    cmds.push({ delete: { element: { ...base(), name: 'ip-src', elem: remove.map(ipKey) } } });
    cmds.push({ delete: { element: { ...base(), name: 'mac-src', elem: remove.map(macKey) } } });
    for (const p of remove.filter(dualStack)) cmds.push(...removePort6(p));
  }
  if (add.length > 0) {
    cmds.push({ add: { element: { ...base(), name: 'mac-src', elem: add.map(macKey) } } });
    cmds.push({ add: { element: { ...base(), name: 'ip-src', elem: add.map(ipKey) } } });
    for (const p of add.filter(dualStack)) cmds.push(...addPort6(p));
  }
  return cmds.length === 0 ? undefined : { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/** Drops per reason from a listing of the table. */
export function readSpoofDrops(listing: readonly NftListObject[]): Record<SpoofReason, number> {
  const out = Object.fromEntries(SPOOF_REASONS.map((r) => [r, 0])) as Record<SpoofReason, number>;
  for (const o of listing) {
    if (isCounterObject(o) && (SPOOF_REASONS as readonly string[]).includes(o.counter.name)) out[o.counter.name as SpoofReason] = o.counter.packets ?? 0;
  }
  return out;
}
