// Deterministic, prefixed kernel object names (at most 15 bytes: IFNAMSIZ
// 16 with the NUL; a 16-byte name fails with ERANGE) and the ownership
// alias weft stamps on every link it creates, so a restarted agent can tell
// its objects from anyone else's.

export const IFNAME_MAX = 15;
/** Where named network namespaces live (iproute2's convention): /run/netns/NAME. */
export const NETNS_RUN_DIR = '/run/netns';
export const BRIDGE_PREFIX = 'wb-';
export const VETH_PREFIX = 'wv-';
export const VXLAN_PREFIX = 'wx-';
/** IFLA_IFALIAS prefix on every link weft owns. */
export const OWNER_ALIAS_PREFIX = 'weft:';
/** Namespaces `weft run` makes: /run/netns/wr-XXXXXXXX. */
export const RUN_NETNS_PREFIX = 'wr-';

/**
 * The nft tables weft makes in a host's namespace (the agent's bridge
 * namespace), one per purpose: every module that writes one takes its name
 * from here, and `weft reset` removes exactly these.
 */
export const HOST_NFT_TABLES = {
  /** no forwarding between weft bridges (agents/datapath/nft/isolation-ruleset.ts) */
  isolation: { family: 'inet', name: 'weft-isolation' },
  /** FirewallPolicy enforcement (agents/datapath/nft/policy-ruleset.ts) */
  policy: { family: 'inet', name: 'weft-firewall' },
  /** anti-spoofing on endpoint ports (agents/datapath/nft/guard-ruleset.ts) */
  guard: { family: 'bridge', name: 'weft-guard' },
  /** the VNFs' ports (vnf/port-table.ts) */
  vnfPorts: { family: 'bridge', name: 'weft-vnf-ports' },
  /** the VNFs' uplinks: their NAT and published ports on the host's addresses (vnf/uplink-table.ts) */
  vnfUplinks: { family: 'ip', name: 'weft-vnf-uplinks' },
} as const;

export function hostNftTable(t: { family: string; name: string }): (typeof HOST_NFT_TABLES)[keyof typeof HOST_NFT_TABLES] | undefined {
  return Object.values(HOST_NFT_TABLES).find((x) => x.family === t.family && x.name === t.name);
}

/** FNV-1a 32-bit: stable across runs and processes, no crypto needed. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function bridgeName(vni: number): string {
  return `${BRIDGE_PREFIX}${vni.toString(16).padStart(6, '0')}`;
}

/**
 * The anycast gateway MAC of a network: locally administered, unicast, and
 * derived from the VNI so every host gives its bridge the same one.
 */
export function gatewayMac(vni: number): string {
  const b = [0x02, 0x77, 0x66, (vni >>> 16) & 255, (vni >>> 8) & 255, vni & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * An endpoint's MAC when none is asked for: locally administered, unicast,
 * 0a:58 then its IPv4 address (as Docker and OVN-Kubernetes do). An address
 * handed to a new workload comes back with the MAC it had, so a neighbour
 * entry its peers on the same bridge still hold (a router, a firewall,
 * another workload) stays right, where a new MAC would leave them sending
 * to the old one until the entry went stale (5 s or more). One address is
 * on one network once, so the MAC is unique on its segment (a requested MAC
 * may not take one of weft's: ownMacRange); the same address on another
 * network is another segment.
 */
export function endpointMac(ip: string): string {
  const b = [0x0a, 0x58, ...ip.split('.').map(Number)];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The prefixes of MACs weft derives (an endpoint's from its address, a VNF's, a network's gateway): a requested MAC in one could take another's identity on the segment. */
const OWN_MAC_PREFIXES: ReadonlyArray<[string, string]> = [
  ['0a:58:', "endpoints' MACs derived from their addresses"],
  ['0a:77:', "network functions' MACs"],
  ['02:77:66:', "networks' gateway MACs"],
];

/** What a requested MAC in one of weft's own ranges would collide with, or undefined when it is in none. */
export function ownMacRange(mac: string): string | undefined {
  const m = mac.toLowerCase();
  return OWN_MAC_PREFIXES.find(([prefix]) => m.startsWith(prefix))?.[1];
}

export function vxlanName(vni: number): string {
  return `${VXLAN_PREFIX}${vni.toString(16).padStart(6, '0')}`;
}

/** Host-side veth of an endpoint: one per (container, interface). */
export function hostVethName(containerId: string, ifname: string): string {
  return `${VETH_PREFIX}${fnv1a32(`${containerId}/${ifname}`).toString(16).padStart(8, '0')}`;
}

export function bridgeAlias(network: string): string {
  return `${OWNER_ALIAS_PREFIX}net:${network}`;
}

export function endpointAlias(endpointName: string): string {
  return `${OWNER_ALIAS_PREFIX}ep:${endpointName}`;
}

export function parseOwnerAlias(alias: string | undefined): { type: 'net' | 'ep'; name: string } | undefined {
  if (!alias?.startsWith(OWNER_ALIAS_PREFIX)) return undefined;
  const rest = alias.slice(OWNER_ALIAS_PREFIX.length);
  const colon = rest.indexOf(':');
  const type = rest.slice(0, colon);
  if (colon < 0 || (type !== 'net' && type !== 'ep')) return undefined;
  return { type, name: rest.slice(colon + 1) };
}

/**
 * Endpoint resource name: a DNS subdomain derived from container ID and
 * interface name; a short hash keeps it unique when sanitising changed it.
 */
export function endpointName(containerId: string, ifname: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'x';
  const cid = clean(containerId).slice(0, 40).replace(/-+$/, '');
  const ifn = clean(ifname);
  const exact = `${cid}.${ifn}` === `${containerId}.${ifname}`;
  return exact ? `${cid}.${ifn}` : `${cid}.${ifn}.${fnv1a32(`${containerId}/${ifname}`).toString(16).padStart(8, '0')}`;
}
