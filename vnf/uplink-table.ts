// What VNF uplinks (a Router's external mode host) need in the host
// namespace, for every uplink of the host at once. Pure; the agent's VNF
// host applies it while any uplink exists, and removes it with the last.
//
//   table ip weft-vnf-uplinks {
//     chain forward { type filter hook forward priority filter - 10; policy accept;
//       iifname "wb-*" oifname != "wb-*" ct state new drop
//       oifname "wb-*" iifname != "wb-*" ct status dnat accept
//       oifname "wb-*" iifname != "wb-*" ct state new drop
//     }
//     chain prerouting { type nat hook prerouting priority dstnat;
//       iifname != "wb-*" fib daddr type local tcp dport 8080 dnat to 169.254.x.2
//     }
//     chain output { type nat hook output priority dstnat;
//       ip daddr != 127.0.0.0/8 fib daddr type local tcp dport 8080 dnat to 169.254.x.2
//     }
//     chain postrouting { type nat hook postrouting priority srcnat;
//       ip saddr { <uplink addresses> } oifname != "wu-*" masquerade
//       iifname "wu-*" oifname "wu-*" ct status dnat masquerade
//     }
//   }
//
// Why each part:
// - Uplinks need the host namespace to forward IPv4 (the VNF host turns
//   net.ipv4.ip_forward on, as Docker does). Forwarding would also let the
//   networks' gateways route workloads of any network straight out with
//   their own addresses, and let the outside in to them: the forward chain
//   refuses new connections between a weft bridge and anything that is not
//   one (bridge to bridge is the isolation table's), so a network keeps its
//   only way out through a router. Connections something translated towards
//   a bridge on purpose (the CNI portmap plugin's DNAT) still pass.
// - prerouting/output: published ports on the host's own addresses (like
//   Docker's `-p`), from the outside and from the host itself, to the
//   router's uplink address; the router forwards them on (same port).
//   Not from weft bridges: the gateways are local addresses too. From an
//   uplink they are (hairpin: a workload behind a router reaching a port
//   published on the host's address, as Docker's users do), and the host
//   then translates the source to its end of the uplink the connection goes
//   in by: the router would take its own uplink address as a martian.
// - postrouting: what leaves from an uplink address leaves with the host's
//   address on the interface it goes out by.
import type { NftCommand, NftDocument, NftExpr, NftMatchOp, NftRule, NftStatement } from '../model/nft-json.js';
import { BRIDGE_PREFIX, HOST_NFT_TABLES } from '../model/kernel-names.js';
import type { RouterProtocol } from '../model/router.js';
import { VNF_UPLINK_PREFIX, VNF_UPLINK_TABLE } from '../model/vnf-names.js';

export const UPLINK_TABLE_FAMILY = HOST_NFT_TABLES.vnfUplinks.family;

/** One uplink as the host sees it: the VNF's address at the far end, and the ports published to it. */
export interface HostUplink {
  ip: string;
  publish: Array<{ protocol: RouterProtocol; port: number }>;
}

const FORWARD_PRIORITY = -10;
const DSTNAT = -100;
const SRCNAT = 100;
const base = { family: UPLINK_TABLE_FAMILY, table: VNF_UPLINK_TABLE } as const;
const match = (left: NftExpr, right: NftExpr, op: NftMatchOp = '=='): NftStatement => ({ match: { op, left, right } });
const iifname: NftExpr = { meta: { key: 'iifname' } };
const oifname: NftExpr = { meta: { key: 'oifname' } };
const BRIDGES = `${BRIDGE_PREFIX}*`;
const UPLINKS = `${VNF_UPLINK_PREFIX}*`;
const localDestination = match({ fib: { result: 'type', flags: ['daddr'] } }, 'local');

const rule = (chain: string, expr: NftStatement[]): NftCommand => ({ add: { rule: { ...base, chain, expr } as NftRule } });
const chain = (name: string, type: 'nat' | 'filter', hook: 'prerouting' | 'postrouting' | 'forward' | 'output', prio: number): NftCommand => ({
  add: { chain: { ...base, name, type, hook, prio, policy: 'accept' } },
});

function publishRules(chainName: string, guard: NftStatement[], uplinks: readonly HostUplink[]): NftCommand[] {
  return uplinks.flatMap((u) =>
    u.publish.map((p) => rule(chainName, [...guard, localDestination, match({ payload: { protocol: p.protocol, field: 'dport' } }, p.port), { dnat: { addr: u.ip } }])),
  );
}

export function renderUplinkTable(uplinks: readonly HostUplink[]): NftDocument {
  const table = { family: UPLINK_TABLE_FAMILY, name: VNF_UPLINK_TABLE } as const;
  const ctNew = match({ ct: { key: 'state' } }, 'new', 'in');
  const cmds: NftCommand[] = [
    { add: { table } },
    { delete: { table } },
    { add: { table } },
    chain('forward', 'filter', 'forward', FORWARD_PRIORITY),
    rule('forward', [match(iifname, BRIDGES), match(oifname, BRIDGES, '!='), ctNew, { drop: null }]),
    rule('forward', [match(oifname, BRIDGES), match(iifname, BRIDGES, '!='), match({ ct: { key: 'status' } }, 'dnat', 'in'), { accept: null }]),
    rule('forward', [match(oifname, BRIDGES), match(iifname, BRIDGES, '!='), ctNew, { drop: null }]),
    chain('prerouting', 'nat', 'prerouting', DSTNAT),
    ...publishRules('prerouting', [match(iifname, BRIDGES, '!=')], uplinks),
    chain('output', 'nat', 'output', DSTNAT),
    ...publishRules('output', [match({ payload: { protocol: 'ip', field: 'daddr' } }, { prefix: { addr: '127.0.0.0', len: 8 } }, '!=')], uplinks),
    chain('postrouting', 'nat', 'postrouting', SRCNAT),
  ];
  if (uplinks.length > 0) {
    cmds.push(rule('postrouting', [match({ payload: { protocol: 'ip', field: 'saddr' } }, { set: uplinks.map((u) => u.ip) }), match(oifname, UPLINKS, '!='), { masquerade: null }]));
    cmds.push(rule('postrouting', [match(iifname, UPLINKS), match(oifname, UPLINKS), match({ ct: { key: 'status' } }, 'dnat', 'in'), { masquerade: null }]));
  }
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}

/** Removes the table; tolerates its absence. */
export function renderUplinkTableRemoval(): NftDocument {
  const table = { family: UPLINK_TABLE_FAMILY, name: VNF_UPLINK_TABLE } as const;
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, { add: { table } }, { delete: { table } }] };
}
