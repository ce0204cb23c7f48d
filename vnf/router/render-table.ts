// The Router VNF's nftables table inside its namespace, when it has a way
// out (an uplink). Pure. A router without one forwards between its
// networks with no table at all: routing needs none.
//
//   table ip weft-vnf-router {
//     chain prerouting { type nat hook prerouting priority dstnat;
//       iifname "uplink" tcp dport 8080 counter dnat to 100.64.1.5:80   # "forward tcp/8080"
//     }
//     chain postrouting { type nat hook postrouting priority srcnat;
//       oifname "uplink" ip saddr { <connected subnets> } counter masquerade   # "snat"
//     }
//     chain forward { type filter hook forward priority filter; policy accept;
//       ct state invalid counter drop
//       iifname "uplink" ct state established,related accept
//       iifname "uplink" ct status dnat accept
//       iifname "uplink" counter drop
//     }
//   }
//
// Translated twice on the way out: here to the uplink's address, then by
// the host (vnf/uplink-table.ts) to the host's own address on the
// interface it leaves by. The host namespace holds every connected subnet
// itself (the gateways on the bridges), so it could not route replies to
// workload addresses back into the router: it only ever sees the uplink's.
// The forward chain lets in from the outside replies and published ports
// only. NAT chains see the first packet of each connection, so their
// counters count connections.
import type { NftCommand, NftDocument, NftExpr, NftMatchOp, NftRule, NftStatement } from '../../model/nft-json.js';
import type { PlanRouterSpec } from '../../model/router.js';
import { VNF_UPLINK_IFNAME } from '../../model/vnf-names.js';

export const ROUTER_VNF_TABLE = 'weft-vnf-router';
export const ROUTER_FAMILY = 'ip';
export const SNAT_COMMENT = 'snat';
export const forwardComment = (protocol: string, port: number) => `forward ${protocol}/${port}`;
const DSTNAT = -100;
const SRCNAT = 100;
const FILTER = 0;

const base = () => ({ family: ROUTER_FAMILY, table: ROUTER_VNF_TABLE }) as const;
const match = (left: NftExpr, right: NftExpr, op: NftMatchOp = '=='): NftStatement => ({ match: { op, left, right } });
const eq = (left: NftExpr, right: NftExpr) => match(left, right);
const iif = (name: string) => eq({ meta: { key: 'iifname' } }, name);
const oif = (name: string) => eq({ meta: { key: 'oifname' } }, name);

function rule(chain: string, expr: NftStatement[], comment?: string): NftRule {
  const r: NftRule = { ...base(), chain, expr };
  if (comment !== undefined) r.comment = comment;
  return r;
}

function prefixExpr(cidr: string) {
  const [addr, len] = cidr.split('/') as [string, string];
  return { prefix: { addr, len: Number(len) } };
}

/** The table, or undefined when the router has no uplink. Replaces the table whole in one transaction. */
export function renderRouterTable(spec: PlanRouterSpec): NftDocument | undefined {
  if (!spec.uplink) return undefined;
  const table = { family: ROUTER_FAMILY, name: ROUTER_VNF_TABLE } as const;
  const cmds: NftCommand[] = [{ add: { table } }, { delete: { table } }, { add: { table } }];
  const chain = (name: string, type: 'nat' | 'filter', hook: 'prerouting' | 'postrouting' | 'forward', prio: number): NftCommand => ({
    add: { chain: { ...base(), name, type, hook, prio, policy: 'accept' } },
  });
  cmds.push(chain('prerouting', 'nat', 'prerouting', DSTNAT));
  for (const f of spec.portForwards) {
    cmds.push({
      add: {
        rule: rule('prerouting', [iif(VNF_UPLINK_IFNAME), eq({ payload: { protocol: f.protocol, field: 'dport' } }, f.port), { counter: null }, { dnat: { addr: f.toIp, port: f.toPort } }], forwardComment(f.protocol, f.port)),
      },
    });
  }
  cmds.push(chain('postrouting', 'nat', 'postrouting', SRCNAT));
  if (spec.subnets.length > 0) {
    cmds.push({
      add: {
        rule: rule('postrouting', [oif(VNF_UPLINK_IFNAME), eq({ payload: { protocol: 'ip', field: 'saddr' } }, { set: spec.subnets.map(prefixExpr) }), { counter: null }, { masquerade: null }], SNAT_COMMENT),
      },
    });
  }
  cmds.push(chain('forward', 'filter', 'forward', FILTER));
  cmds.push(
    // The router sees both directions of everything it forwards (the host bridges do not always: see agents/datapath/nft/policy-ruleset.ts).
    { add: { rule: rule('forward', [match({ ct: { key: 'state' } }, 'invalid', 'in'), { counter: null }, { drop: null }]) } },
    { add: { rule: rule('forward', [iif(VNF_UPLINK_IFNAME), match({ ct: { key: 'state' } }, ['established', 'related'], 'in'), { accept: null }]) } },
    { add: { rule: rule('forward', [iif(VNF_UPLINK_IFNAME), match({ ct: { key: 'status' } }, 'dnat', 'in'), { accept: null }]) } },
    { add: { rule: rule('forward', [iif(VNF_UPLINK_IFNAME), { counter: null }, { drop: null }]) } },
  );
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, ...cmds] };
}
