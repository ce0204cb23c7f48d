// Anti-spoofing on every endpoint port, policy or not, as one bridge-family
// table. Pure.
//
//   table bridge weft-guard {
//     set mac-src { type ifname . ether_addr }               port, its endpoint's MAC
//     set ip-src  { type ifname . ether_addr . ipv4_addr }   port, MAC, its endpoint's IPv4
//     counter ip / mac / arp / ip6 / other
//     chain prerouting { type filter hook prerouting priority -300; policy accept;
//       iifname != "wv-*" accept                       not an endpoint port: not ours to judge
//       iifname . ether saddr != @mac-src counter name mac drop
//       ether type arp arp saddr ip != 0.0.0.0 iifname . arp saddr ether . arp saddr ip != @ip-src counter name arp drop
//       ether type arp iifname . arp saddr ether != @mac-src counter name arp drop
//       ether type ip iifname . ether saddr . ip saddr != @ip-src counter name ip drop
//       ether type ip6 ip6 saddr != { fe80::/10, :: } counter name ip6 drop
//       ether type != { ip, arp, ip6 } counter name other drop
//     }
//   }
//
// An endpoint can send only from its own MAC and IPv4 address and can only
// claim its own address in ARP (no answering for others, no gratuitous ARP
// for another endpoint's address); ARP probes (sender 0.0.0.0) are allowed.
// Endpoints have no IPv6 addresses yet: only link-local and unspecified
// sources pass. Fail closed: a `wv-*` port not in the sets (an attach in
// progress, an unknown port) sends nothing. Bridge family: the checks see
// every frame as it enters the bridge, before br_netfilter (priority 0) and
// before forwarding or delivery to the host.
import { VETH_PREFIX } from '../../../model/kernel-names.js';
import { deleteTableCommands, isCounterObject, type NftCommand, type NftConcatExpr, type NftDocument, type NftExpr, type NftListObject, type NftRule, type NftStatement } from './nft-json.js';

export const GUARD_FAMILY = 'bridge';
export const GUARD_TABLE = 'weft-guard';
export const GUARD_CHAIN = 'prerouting';
export const GUARD_PRIORITY = -300;
export const SPOOF_REASONS = ['ip', 'mac', 'arp', 'ip6', 'other'] as const;
export type SpoofReason = (typeof SPOOF_REASONS)[number];

export interface GuardedPort {
  /** host-side interface (wv-*) */
  ifname: string;
  mac: string;
  ip: string;
}

const base = () => ({ family: GUARD_FAMILY, table: GUARD_TABLE }) as const;
const iifname: NftExpr = { meta: { key: 'iifname' } };
const ether = (field: 'saddr' | 'type'): NftExpr => ({ payload: { protocol: 'ether', field } });
const arp = (field: 'saddr ip' | 'saddr ether'): NftExpr => ({ payload: { protocol: 'arp', field } });
const etherType = (t: string): NftStatement => ({ match: { op: '==', left: ether('type'), right: t } });
const drop = (reason: SpoofReason): NftStatement[] => [{ counter: reason }, { drop: null }];

function rule(expr: NftStatement[]): NftRule {
  return { ...base(), chain: GUARD_CHAIN, expr };
}

const macKey = (p: GuardedPort): NftConcatExpr => ({ concat: [p.ifname, p.mac.toLowerCase()] });
const ipKey = (p: GuardedPort): NftConcatExpr => ({ concat: [p.ifname, p.mac.toLowerCase(), p.ip] });

export function guardPortKey(p: GuardedPort): string {
  return `${p.ifname}|${p.mac.toLowerCase()}|${p.ip}`;
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
    rule([
      etherType('ip6'),
      { match: { op: '!=', left: { payload: { protocol: 'ip6', field: 'saddr' } }, right: { set: ['::', { prefix: { addr: 'fe80::', len: 10 } }] } } },
      ...drop('ip6'),
    ]),
    rule([{ match: { op: '!=', left: ether('type'), right: { set: ['ip', 'arp', 'ip6'] } } }, ...drop('other')]),
  ];
}

/** The whole table for `ports`, replacing any table of that name in one transaction. */
export function renderGuard(ports: readonly GuardedPort[]): NftDocument {
  const cmds: NftCommand[] = [...deleteTableCommands(GUARD_FAMILY, GUARD_TABLE), { add: { table: { family: GUARD_FAMILY, name: GUARD_TABLE } } }];
  const macSet = { ...base(), name: 'mac-src', type: ['ifname', 'ether_addr'] as ['ifname', 'ether_addr'] };
  const ipSet = { ...base(), name: 'ip-src', type: ['ifname', 'ether_addr', 'ipv4_addr'] as ['ifname', 'ether_addr', 'ipv4_addr'] };
  cmds.push({ add: { set: ports.length > 0 ? { ...macSet, elem: ports.map(macKey) } : macSet } });
  cmds.push({ add: { set: ports.length > 0 ? { ...ipSet, elem: ports.map(ipKey) } : ipSet } });
  for (const reason of SPOOF_REASONS) cmds.push({ add: { counter: { ...base(), name: reason } } });
  cmds.push({ add: { chain: { ...base(), name: GUARD_CHAIN, type: 'filter', hook: 'prerouting', prio: GUARD_PRIORITY, policy: 'accept' } } });
  for (const r of rules()) cmds.push({ add: { rule: r } });
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/** Element changes for one transaction; undefined when there are none. */
export function diffGuard(add: readonly GuardedPort[], remove: readonly GuardedPort[]): NftDocument | undefined {
  const cmds: NftCommand[] = [];
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
