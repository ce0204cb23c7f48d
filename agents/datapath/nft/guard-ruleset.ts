// Anti-spoofing on every endpoint port, policy or not, as one bridge-family
// table. Pure.
//
//   table bridge weft-guard {
//     set mac-src { type ifname . ether_addr }               port, its endpoint's MAC
//     set ip-src  { type ifname . ether_addr . ipv4_addr }   port, MAC, its endpoint's IPv4
//     set policed  { type ifname }                          ports of endpoints with an ingress policy
//     counter ip / mac / arp / ip6 / other / broadcast
//     chain forward { type filter hook forward priority -300; policy accept;
//       oifname @policed ether type ip meta pkttype { broadcast, multicast } counter name broadcast drop
//     }
//     chain prerouting { type filter hook prerouting priority -300; policy accept;
//       iifname != "wv-*" accept                       not an endpoint port: not ours to judge
//       iifname . ether saddr != @mac-src counter name mac drop
//       ether type arp arp saddr ip != 0.0.0.0 iifname . arp saddr ether . arp saddr ip != @ip-src counter name arp drop
//       ether type arp iifname . arp saddr ether != @mac-src counter name arp drop
//       ether type ip iifname . ether saddr . ip saddr != @ip-src counter name ip drop
//       ether type ip6 counter name ip6 drop
//       ether type != { ip, arp, ip6 } counter name other drop
//     }
//   }
//
// An endpoint can send only from its own MAC and IPv4 address and can only
// claim its own address in ARP (no answering for others, no gratuitous ARP
// for another endpoint's address); ARP probes (sender 0.0.0.0) are allowed.
// Endpoints have no IPv6 addresses yet and policies judge IPv4 only, so an
// endpoint sends no IPv6 at all (not even link-local: it would be a way
// around every policy to listeners bound to ::). Fail closed: a `wv-*` port not in the sets (an attach in
// progress, an unknown port) sends nothing. Bridge family: the checks see
// every frame as it enters the bridge, before br_netfilter (priority 0) and
// before forwarding or delivery to the host.
//
// Broadcast and multicast IPv4 have no endpoint address to look a policy up
// by, so the policy table cannot judge them: they are not delivered to an
// endpoint that has an ingress policy (ARP, being no IPv4, still is).
import { HOST_NFT_TABLES, VETH_PREFIX } from '../../../model/kernel-names.js';
import { SPOOF_REASONS, type GuardedPort, type SpoofReason } from '../policy-table-port.js';
import { deleteTableCommands, isCounterObject, type NftCommand, type NftConcatExpr, type NftDocument, type NftExpr, type NftListObject, type NftRule, type NftStatement } from '../../../model/nft-json.js';

export const GUARD_FAMILY = HOST_NFT_TABLES.guard.family;
export const GUARD_TABLE = HOST_NFT_TABLES.guard.name;
const GUARD_CHAIN = 'prerouting';
const GUARD_PRIORITY = -300;
const GUARD_FORWARD_CHAIN = 'forward';
const POLICED_SET = 'policed';
const BROADCAST_COUNTER = 'broadcast';

const base = () => ({ family: GUARD_FAMILY, table: GUARD_TABLE }) as const;
const iifname: NftExpr = { meta: { key: 'iifname' } };
const ether = (field: 'saddr' | 'type'): NftExpr => ({ payload: { protocol: 'ether', field } });
const arp = (field: 'saddr ip' | 'saddr ether'): NftExpr => ({ payload: { protocol: 'arp', field } });
const etherType = (t: string): NftStatement => ({ match: { op: '==', left: ether('type'), right: t } });
const drop = (reason: SpoofReason): NftStatement[] => [{ counter: reason }, { drop: null }];

function rule(expr: NftStatement[], chain = GUARD_CHAIN): NftRule {
  return { ...base(), chain, expr };
}

function forwardRule(): NftRule {
  return rule(
    [
      { match: { op: '==', left: { meta: { key: 'oifname' } }, right: `@${POLICED_SET}` } },
      etherType('ip'),
      { match: { op: '==', left: { meta: { key: 'pkttype' } }, right: { set: ['broadcast', 'multicast'] } } },
      { counter: BROADCAST_COUNTER },
      { drop: null },
    ],
    GUARD_FORWARD_CHAIN,
  );
}

const macKey = (p: GuardedPort): NftConcatExpr => ({ concat: [p.ifname, p.mac.toLowerCase()] });
const ipKey = (p: GuardedPort): NftConcatExpr => ({ concat: [p.ifname, p.mac.toLowerCase(), p.ip] });

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
    // No IPv6 at all: endpoints have no IPv6 addresses, and the policy table judges IPv4 only,
    // so a link-local IPv6 path would reach every listener bound to :: past any policy.
    rule([etherType('ip6'), ...drop('ip6')]),
    rule([{ match: { op: '!=', left: ether('type'), right: { set: ['ip', 'arp', 'ip6'] } } }, ...drop('other')]),
  ];
}

/** The whole table for `ports`, replacing any table of that name in one transaction. */
export function renderGuard(ports: readonly GuardedPort[], policed: readonly string[] = []): NftDocument {
  const cmds: NftCommand[] = [...deleteTableCommands(GUARD_FAMILY, GUARD_TABLE), { add: { table: { family: GUARD_FAMILY, name: GUARD_TABLE } } }];
  const macSet = { ...base(), name: 'mac-src', type: ['ifname', 'ether_addr'] as ['ifname', 'ether_addr'] };
  const ipSet = { ...base(), name: 'ip-src', type: ['ifname', 'ether_addr', 'ipv4_addr'] as ['ifname', 'ether_addr', 'ipv4_addr'] };
  cmds.push({ add: { set: ports.length > 0 ? { ...macSet, elem: ports.map(macKey) } : macSet } });
  cmds.push({ add: { set: ports.length > 0 ? { ...ipSet, elem: ports.map(ipKey) } : ipSet } });
  const policedSet = { ...base(), name: POLICED_SET, type: 'ifname' as const };
  cmds.push({ add: { set: policed.length > 0 ? { ...policedSet, elem: [...policed] } : policedSet } });
  for (const reason of [...SPOOF_REASONS, BROADCAST_COUNTER]) cmds.push({ add: { counter: { ...base(), name: reason } } });
  cmds.push({ add: { chain: { ...base(), name: GUARD_CHAIN, type: 'filter', hook: 'prerouting', prio: GUARD_PRIORITY, policy: 'accept' } } });
  for (const r of rules()) cmds.push({ add: { rule: r } });
  cmds.push({ add: { chain: { ...base(), name: GUARD_FORWARD_CHAIN, type: 'filter', hook: 'forward', prio: GUARD_PRIORITY, policy: 'accept' } } });
  cmds.push({ add: { rule: forwardRule() } });
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/** Element changes for one transaction; undefined when there are none. */
export function diffGuard(
  add: readonly GuardedPort[],
  remove: readonly GuardedPort[],
  policed: { add: readonly string[]; remove: readonly string[] } = { add: [], remove: [] },
): NftDocument | undefined {
  const cmds: NftCommand[] = [];
  if (policed.remove.length > 0) cmds.push({ delete: { element: { ...base(), name: POLICED_SET, elem: [...policed.remove] } } });
  if (policed.add.length > 0) cmds.push({ add: { element: { ...base(), name: POLICED_SET, elem: [...policed.add] } } });
  if (remove.length > 0) {
    cmds.push({ delete: { element: { ...base(), name: 'ip-src', elem: remove.map(ipKey) } } });
    cmds.push({ delete: { element: { ...base(), name: 'mac-src', elem: remove.map(macKey) } } });
  }
  if (add.length > 0) {
    cmds.push({ add: { element: { ...base(), name: 'mac-src', elem: add.map(macKey) } } });
    cmds.push({ add: { element: { ...base(), name: 'ip-src', elem: add.map(ipKey) } } });
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
