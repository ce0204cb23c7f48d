// The Router VNF's nftables table inside its namespace, when it has a way
// out (an uplink in mode host, its external interface in mode interface).
// Pure. A router without one forwards between its networks with no table at
// all: routing needs none.
//
//   table ip weft-vnf-router {
//     chain prerouting { type nat hook prerouting priority dstnat;
//       iifname OUT [ip daddr ADDR] tcp dport 8080 counter ct mark set 0x77660001 dnat to 100.64.1.5:80   # "forward tcp/8080"
//       iifname OUT ip daddr 203.0.113.20 counter dnat to 100.64.1.5              # "floating 203.0.113.20"
//     }
//     chain postrouting { type nat hook postrouting priority srcnat;
//       oifname OUT ip saddr 100.64.1.5 counter snat to 203.0.113.20             # "floating 203.0.113.20"
//       oifname OUT ip saddr { <connected subnets> } counter masquerade | snat to ADDR   # "snat"
//     }
//     chain forward { type filter hook forward priority filter; policy accept;
//       ct state invalid counter drop
//       iifname OUT counter                                                         # "traffic in"
//       oifname OUT counter                                                         # "traffic out"
//       iifname OUT ct state established,related accept
//       iifname OUT ct status dnat accept
//       iifname OUT counter drop
//     }
//   }
//
// OUT is `uplink` in mode host, `external` in mode interface.
//
// Mode host: translated twice on the way out, here to the uplink's address,
// then by the host (vnf/uplink-table.ts) to the host's own address on the
// interface it leaves by. The host namespace holds every connected subnet
// itself (the gateways on the bridges), so it could not route replies to
// workload addresses back into the router: it only ever sees the uplink's.
// Published ports arrive on the uplink's address (the host sent them on).
//
// Mode interface: the router's own address (ADDR) is the one translated to
// (snat to it: the floating IPs are addresses of the same interface, and
// masquerade could pick any), and published ports listen on it only, so a
// floating IP's traffic is never taken by a port forward. A floating IP is
// 1:1: in, dnat to the endpoint; out, the endpoint's connections leave with
// the floating IP (its rule comes before the general one). With snat false
// the router only routes: no snat rule, and the outside, which routes the
// connected subnets to the router, may open connections to them (no
// forward filter beyond invalid packets); port forwards and floating IPs
// still apply.
//
// The forward chain otherwise lets in from the outside replies and what a
// port forward or floating IP translated only. NAT chains see the first
// packet of each connection, so their counters count connections (a
// floating IP's rule name gathers both directions).
import type { NftCommand, NftDocument, NftExpr, NftMatchOp, NftRule, NftStatement } from '../../model/nft-json.js';
import type { PlanRouterSpec } from '../../model/router.js';
import { VNF_EXTERNAL_IFNAME, VNF_UPLINK_IFNAME } from '../../model/vnf-names.js';

export const ROUTER_VNF_TABLE = 'weft-vnf-router';
export const ROUTER_FAMILY = 'ip';
export const SNAT_COMMENT = 'snat';
/** Counters of what crosses the way out, each direction (packets and bytes, not connections). */
export const TRAFFIC_IN_COMMENT = 'traffic in';
export const TRAFFIC_OUT_COMMENT = 'traffic out';
export const forwardComment = (protocol: string, port: number) => `forward ${protocol}/${port}`;
export const floatingComment = (address: string) => `floating ${address}`;
const DSTNAT = -100;
const SRCNAT = 100;
const FILTER = 0;

const base = () => ({ family: ROUTER_FAMILY, table: ROUTER_VNF_TABLE }) as const;
const match = (left: NftExpr, right: NftExpr, op: NftMatchOp = '=='): NftStatement => ({ match: { op, left, right } });
const eq = (left: NftExpr, right: NftExpr) => match(left, right);
const iif = (name: string) => eq({ meta: { key: 'iifname' } }, name);
const oif = (name: string) => eq({ meta: { key: 'oifname' } }, name);
const ipField = (field: 'saddr' | 'daddr', value: NftExpr) => eq({ payload: { protocol: 'ip', field } }, value);
/** The conntrack mark the port-forward rules set, so that describe's listing dumps only their connections (read-connections.ts). */
export const ROUTER_FORWARD_CT_MARK = 0x7766_0001;
/** Port-forwarded connections carry it. */
const MARK_FORWARDED: NftStatement = { mangle: { key: { ct: { key: 'mark' } }, value: ROUTER_FORWARD_CT_MARK } };

function rule(chain: string, expr: NftStatement[], comment?: string): NftRule {
  const r: NftRule = { ...base(), chain, expr };
  if (comment !== undefined) r.comment = comment;
  return r;
}

function prefixExpr(cidr: string) {
  const [addr, len] = cidr.split('/') as [string, string];
  return { prefix: { addr, len: Number(len) } };
}

/** The router's way out as its table sees it: the interface, the address it listens and translates on (mode interface), and whether it translates. */
interface WayOut {
  ifname: string;
  /** mode interface: the router's own address on the segment */
  address?: string;
  snat: boolean;
}

function wayOut(spec: PlanRouterSpec): WayOut | undefined {
  if (spec.uplink) return { ifname: VNF_UPLINK_IFNAME, snat: true };
  if (spec.external) return { ifname: VNF_EXTERNAL_IFNAME, address: spec.external.ip, snat: spec.external.snat };
  return undefined;
}

/** The table, or undefined when the router has no way out. Replaces the table whole in one transaction. */
export function renderRouterTable(spec: PlanRouterSpec): NftDocument | undefined {
  const out = wayOut(spec);
  if (!out) return undefined;
  const floating = spec.external?.floatingIPs ?? [];
  const table = { family: ROUTER_FAMILY, name: ROUTER_VNF_TABLE } as const;
  const cmds: NftCommand[] = [{ add: { table } }, { delete: { table } }, { add: { table } }];
  const chain = (name: string, type: 'nat' | 'filter', hook: 'prerouting' | 'postrouting' | 'forward', prio: number): NftCommand => ({
    add: { chain: { ...base(), name, type, hook, prio, policy: 'accept' } },
  });
  const add = (r: NftRule): NftCommand => ({ add: { rule: r } });
  cmds.push(chain('prerouting', 'nat', 'prerouting', DSTNAT));
  const toOwnAddress = out.address === undefined ? [] : [ipField('daddr', out.address)];
  for (const f of spec.portForwards) {
    cmds.push(add(rule('prerouting', [iif(out.ifname), ...toOwnAddress, eq({ payload: { protocol: f.protocol, field: 'dport' } }, f.port), { counter: null }, MARK_FORWARDED, { dnat: { addr: f.toIp, port: f.toPort } }], forwardComment(f.protocol, f.port))));
  }
  for (const f of floating) {
    cmds.push(add(rule('prerouting', [iif(out.ifname), ipField('daddr', f.address), { counter: null }, { dnat: { addr: f.toIp } }], floatingComment(f.address))));
  }
  cmds.push(chain('postrouting', 'nat', 'postrouting', SRCNAT));
  for (const f of floating) {
    cmds.push(add(rule('postrouting', [oif(out.ifname), ipField('saddr', f.toIp), { counter: null }, { snat: { addr: f.address } }], floatingComment(f.address))));
  }
  if (out.snat && spec.subnets.length > 0) {
    const translate: NftStatement = out.address === undefined ? { masquerade: null } : { snat: { addr: out.address } };
    cmds.push(add(rule('postrouting', [oif(out.ifname), ipField('saddr', { set: spec.subnets.map(prefixExpr) }), { counter: null }, translate], SNAT_COMMENT)));
  }
  cmds.push(chain('forward', 'filter', 'forward', FILTER));
  // The router sees both directions of everything it forwards (the host bridges do not always: see agents/datapath/nft/policy-ruleset.ts).
  cmds.push(add(rule('forward', [match({ ct: { key: 'state' } }, 'invalid', 'in'), { counter: null }, { drop: null }])));
  // Counting only (no verdict): what comes in and goes out by the way out.
  cmds.push(add(rule('forward', [iif(out.ifname), { counter: null }], TRAFFIC_IN_COMMENT)), add(rule('forward', [oif(out.ifname), { counter: null }], TRAFFIC_OUT_COMMENT)));
  if (out.snat) {
    cmds.push(
      add(rule('forward', [iif(out.ifname), match({ ct: { key: 'state' } }, ['established', 'related'], 'in'), { accept: null }])),
      add(rule('forward', [iif(out.ifname), match({ ct: { key: 'status' } }, 'dnat', 'in'), { accept: null }])),
      add(rule('forward', [iif(out.ifname), { counter: null }, { drop: null }])),
    );
  }
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}
