// Deterministic names of the kernel objects of a VNF, any kind, shared by
// the controller (which puts them in the plan and tells other hosts the
// MACs) and the agent (which creates, adopts and sweeps them).
//
// - Namespace: /run/netns is machine-wide, and several agents may share a
//   machine (the lab), so the name carries the host:
//   `wn.<host>.<kind>.<name>` (kind in lower case). Host and resource names
//   are DNS labels and kinds are letters, none has a dot, so the name parses
//   back unambiguously and an agent sweeps only its own.
// - Host-side veths: prefix `wf-` (not `wv-`): they are not endpoint ports,
//   so neither the endpoint reconciler nor the per-endpoint anti-spoofing
//   guard (which only knows `wv-*`) touches them; a VNF forwards other
//   hosts' addresses by design.
// - MAC: derived from kind, name and network, so the controller can program
//   it on other hosts before the interface exists.
// - Uplink (a Router's way to the host namespace in external mode host):
//   host side `wu-*`, routed by the host and on no bridge; inside `uplink`.
//   Its alias names the pseudo-network `.uplink` (no network name starts
//   with a dot), so it parses like any interface of the VNF.
// - External interface (a Router's own address on a host interface's
//   segment, external mode interface): a macvlan named `external` inside the
//   namespace, on no bridge and with no host side; its alias names the
//   pseudo-network `.external`, its MAC is derived like the ports' so the
//   segment's ARP caches stay right when it is made anew.
import { HOST_NFT_TABLES, OWNER_ALIAS_PREFIX, fnv1a32 } from './kernel-names.js';
import type { VnfKey } from './vnf-protocol.js';

const VNF_NETNS_PREFIX = 'wn.';
export const VNF_VETH_PREFIX = 'wf-';
export const VNF_UPLINK_PREFIX = 'wu-';
/** The uplink inside the VNF's namespace (cannot collide with vnfIfname's `n-`/`h-` names). */
export const VNF_UPLINK_IFNAME = 'uplink';
/** The pseudo-network an uplink's alias names. */
export const VNF_UPLINK_ATTACHMENT = '.uplink';
/** The macvlan inside the VNF's namespace on a host interface's segment. */
export const VNF_EXTERNAL_IFNAME = 'external';
/** The pseudo-network the external interface's alias and MAC name. */
export const VNF_EXTERNAL_ATTACHMENT = '.external';
/** Host-side links of VNFs, whatever their role: ports on bridges and uplinks. */
export const isVnfHostLinkName = (name: string): boolean => name.startsWith(VNF_VETH_PREFIX) || name.startsWith(VNF_UPLINK_PREFIX);
/** nft table in the agent's host namespace for the VNFs' ports (vnf/port-table.ts). */
export const VNF_PORT_TABLE = HOST_NFT_TABLES.vnfPorts.name;
/** nft table in the agent's host namespace for the VNFs' uplinks (vnf/uplink-table.ts). */
export const VNF_UPLINK_TABLE = HOST_NFT_TABLES.vnfUplinks.name;

const hex8 = (text: string) => fnv1a32(text).toString(16).padStart(8, '0');
const tag = (kind: string) => kind.toLowerCase();

export function vnfNetnsName(host: string, vnf: VnfKey): string {
  return `${VNF_NETNS_PREFIX}${host}.${tag(vnf.kind)}.${vnf.name}`;
}

/** The VNF a namespace name belongs to (kind in lower case), when it is one of `host`'s. */
export function parseVnfNetnsName(host: string, netns: string): { kind: string; name: string } | undefined {
  const prefix = `${VNF_NETNS_PREFIX}${host}.`;
  if (!netns.startsWith(prefix)) return undefined;
  const [kind, name, ...rest] = netns.slice(prefix.length).split('.');
  if (!kind || !name || rest.length > 0) return undefined;
  return { kind, name };
}

/** Host side of the VNF's veth on `network` (on the network's bridge). */
export function vnfHostVethName(vnf: VnfKey, network: string): string {
  return `${VNF_VETH_PREFIX}${hex8(`${tag(vnf.kind)}/${vnf.name}/${network}`)}`;
}

/**
 * The interface inside the VNF's namespace: `n-<network>` when that fits
 * in 15 bytes, else `h-<hash>` (the two forms cannot collide).
 */
export function vnfIfname(network: string): string {
  return network.length <= 13 ? `n-${network}` : `h-${hex8(network)}`;
}

/** The first two bytes of every VNF interface's MAC (vnfMac), as a mask and a value. */
export const VNF_MAC_MASK = 'ff:ff:00:00:00:00';
export const VNF_MAC_PREFIX = '0a:77:00:00:00:00';

/** Locally administered unicast (first octet 0x0a), distinct from the gateway MACs (0x02:77:66). */
export function vnfMac(vnf: VnfKey, network: string): string {
  const h = fnv1a32(`mac/${tag(vnf.kind)}/${vnf.name}/${network}`);
  const b = [0x0a, 0x77, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Host side of the VNF's uplink. */
export function vnfUplinkHostName(vnf: VnfKey): string {
  return `${VNF_UPLINK_PREFIX}${hex8(`${tag(vnf.kind)}/${vnf.name}/${VNF_UPLINK_ATTACHMENT}`)}`;
}

export function vnfUplinkAlias(vnf: VnfKey): string {
  return vnfAlias(vnf, VNF_UPLINK_ATTACHMENT);
}

export function vnfAlias(vnf: VnfKey, network: string): string {
  return `${OWNER_ALIAS_PREFIX}vnf:${tag(vnf.kind)}/${vnf.name}/${network}`;
}

/** The VNF (kind in lower case) and network an alias names, for `wf-*` links. */
export function parseVnfAlias(alias: string | undefined): { kind: string; name: string; network: string } | undefined {
  const prefix = `${OWNER_ALIAS_PREFIX}vnf:`;
  if (!alias?.startsWith(prefix)) return undefined;
  const [kind, name, network, ...rest] = alias.slice(prefix.length).split('/');
  if (!kind || !name || !network || rest.length > 0) return undefined;
  return { kind, name, network };
}

/** The same VNF, whatever the case of the kind (names parsed back carry it in lower case). */
export function sameVnf(a: VnfKey, b: VnfKey): boolean {
  return a.name === b.name && tag(a.kind) === tag(b.kind);
}

/**
 * Owner of the IPAM reservations of a VNF's addresses, e.g. `firewall:fw1`:
 * no container ID can look like this (':' is not allowed there).
 */
export function vnfAddressOwner(vnf: VnfKey): string {
  return `${tag(vnf.kind)}:${vnf.name}`;
}

/** ReservationRow.ref of a VNF's addresses: not an endpoint name (no Endpoint can have a '/'). */
export function vnfReservationRef(vnf: VnfKey): string {
  return `${tag(vnf.kind)}/${vnf.name}`;
}

/** Name of a VNF interface where the overlay lists endpoints (no endpoint name can contain ':' or '/'). */
export function vnfInterfaceEndpointName(vnf: VnfKey, network: string): string {
  return `${tag(vnf.kind)}:${vnf.name}/${network}`;
}
