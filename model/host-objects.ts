// What in a host's network namespace is weft's, told by weft's ownership
// marks alone: a link is weft's when it has one of weft's name prefixes,
// the kind weft makes under it, and an ownership alias (`weft:...`); an nft
// table when it is one of HOST_NFT_TABLES; a namespace under /run/netns
// when it is one of this host's VNFs (vnf-names.ts) or `weft run`'s. A
// link without the alias is never taken for weft's here, whatever its name.
import { BRIDGE_PREFIX, OWNER_ALIAS_PREFIX, VETH_PREFIX, VXLAN_PREFIX } from './kernel-names.js';
import { VNF_UPLINK_PREFIX, VNF_VETH_PREFIX } from './vnf-names.js';

export type WeftLinkRole = 'bridge' | 'VXLAN device' | 'endpoint port' | 'VNF port' | 'VNF uplink';

const ROLES: ReadonlyArray<{ prefix: string; kind: string; role: WeftLinkRole }> = [
  { prefix: BRIDGE_PREFIX, kind: 'bridge', role: 'bridge' },
  { prefix: VXLAN_PREFIX, kind: 'vxlan', role: 'VXLAN device' },
  { prefix: VETH_PREFIX, kind: 'veth', role: 'endpoint port' },
  { prefix: VNF_VETH_PREFIX, kind: 'veth', role: 'VNF port' },
  { prefix: VNF_UPLINK_PREFIX, kind: 'veth', role: 'VNF uplink' },
];

/** The role weft gives links named like `name` (by prefix alone: whether one is weft's needs its mark, weftLinkRole). */
export function weftLinkNameRole(name: string): WeftLinkRole | undefined {
  return ROLES.find((r) => name.startsWith(r.prefix))?.role;
}

/** What a link is to weft, or undefined when it is not weft's. */
export function weftLinkRole(l: { name: string; kind?: string; alias?: string }): WeftLinkRole | undefined {
  if (!l.alias?.startsWith(OWNER_ALIAS_PREFIX)) return undefined;
  return ROLES.find((r) => l.name.startsWith(r.prefix) && l.kind === r.kind)?.role;
}
