// The one thing VNFs need in the host namespace besides their veths:
// packets coming out of a VNF onto a bridge are not tracked by the host's
// conntrack again. The agent's VNF host keeps this table while it runs any
// VNF, whatever the kind.
//
//   table bridge weft-vnf-ports {
//     chain prerouting { type filter hook prerouting priority -300; policy accept;
//       iifname "wf-*" notrack
//       iifname "wx-*" ether daddr & ff:ff:00:00:00:00 == 0a:77:00:00:00:00 notrack
//     }
//   }
//
// Why: a packet between two networks a VNF joins (a firewall's guarded
// networks, a router's) crosses the host namespace
// twice, bridged both times (br_netfilter runs the IP hooks for it):
// workload -> bridge A -> firewall, then firewall -> bridge B -> workload.
// Tracked both times, the second sighting meets a conntrack entry the first
// has already moved on (a reset closes it), is "invalid", and the host's
// FirewallPolicy table drops it: a refused connection across the firewall
// would hang instead of failing at once. Each packet is tracked and judged
// by the host's tables at its first sighting, where it enters from a
// workload's port (or a VXLAN device); the firewall judges it in between.
// Nothing but weft's VNF ports is named `wf-*`.
//
// And not from VXLAN devices to a VNF (its MACs start 0a:77, vnfMac):
// those packets were tracked and judged on the host they came from, where
// the workload's port is, and no policy of this host applies to them. More:
// a connection a router translates (NAT) comes back to this host's bridge
// from the router's own port, untracked, so a conntrack entry made here for
// its first direction would never see a reply: the next packet of the
// workload (its ACK) would be "invalid" and dropped.
//
// The bridge family, because only there is `iifname` the bridge port the
// frame came in on: in the IP hooks br_netfilter runs for bridged packets
// the input interface is the bridge itself, and nftables has no physdev
// match. The untracked mark set here holds in the IP hooks that follow.
import type { NftDocument } from '../model/nft-json.js';
import { HOST_NFT_TABLES, VXLAN_PREFIX } from '../model/kernel-names.js';
import { VNF_MAC_MASK, VNF_MAC_PREFIX, VNF_PORT_TABLE, VNF_VETH_PREFIX } from '../model/vnf-names.js';

/** Before br_netfilter's IP hooks, and so before conntrack. */
const PORT_TABLE_PRIORITY = -300;
export const PORT_TABLE_FAMILY = HOST_NFT_TABLES.vnfPorts.family;
const PORT_CHAIN = 'prerouting';

export function renderPortTable(): NftDocument {
  const table = { family: PORT_TABLE_FAMILY, name: VNF_PORT_TABLE } as const;
  const base = { family: PORT_TABLE_FAMILY, table: VNF_PORT_TABLE } as const;
  return {
    nftables: [
      { metainfo: { json_schema_version: 1 } },
      { add: { table } },
      { delete: { table } },
      { add: { table } },
      { add: { chain: { ...base, name: PORT_CHAIN, type: 'filter', hook: 'prerouting', prio: PORT_TABLE_PRIORITY, policy: 'accept' } } },
      { add: { rule: { ...base, chain: PORT_CHAIN, expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: `${VNF_VETH_PREFIX}*` } }, { notrack: null }] } } },
      {
        add: {
          rule: {
            ...base,
            chain: PORT_CHAIN,
            expr: [
              { match: { op: '==', left: { meta: { key: 'iifname' } }, right: `${VXLAN_PREFIX}*` } },
              { match: { op: '==', left: { '&': [{ payload: { protocol: 'ether', field: 'daddr' } }, VNF_MAC_MASK] }, right: VNF_MAC_PREFIX } },
              { notrack: null },
            ],
          },
        },
      },
    ],
  };
}

/** Removes the table; tolerates its absence (add + delete in one transaction). */
export function renderPortTableRemoval(): NftDocument {
  const table = { family: PORT_TABLE_FAMILY, name: VNF_PORT_TABLE } as const;
  return { nftables: [{ metainfo: { json_schema_version: 1 } }, { add: { table } }, { delete: { table } }] };
}
