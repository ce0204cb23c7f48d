// Deterministic names of the kernel objects of a Firewall VNF, shared by the
// controller (which puts them in the plan and tells other hosts the MACs)
// and the agent (which creates, adopts and sweeps them).
//
// - Namespace: /run/netns is machine-wide, and several agents may share a
//   machine (the lab), so the name carries the host: `wfw.<host>.<name>`.
//   Host and firewall names are DNS labels, which have no dots, so the name
//   parses back unambiguously and an agent sweeps only its own.
// - Host-side veths: prefix `wf-` (not `wv-`): they are not endpoint ports,
//   so neither the endpoint reconciler nor the per-endpoint anti-spoofing
//   guard (which only knows `wv-*`) touches them; the firewall forwards
//   other hosts' addresses by design.
// - MAC: derived from firewall and network, so the controller can program
//   it on other hosts before the interface exists.
import { OWNER_ALIAS_PREFIX, fnv1a32 } from './kernel-names.js';

export const FIREWALL_NETNS_PREFIX = 'wfw.';
export const FIREWALL_VETH_PREFIX = 'wf-';
/** nft table inside a firewall namespace. */
export const FIREWALL_VNF_TABLE = 'weft-vnf-firewall';
/** nft table in the agent's host namespace for the firewalls' ports (vnf/firewall/render-port-table.ts). */
export const FIREWALL_PORT_TABLE = 'weft-vnf-ports';

const hex8 = (text: string) => fnv1a32(text).toString(16).padStart(8, '0');

export function firewallNetnsName(host: string, firewall: string): string {
  return `${FIREWALL_NETNS_PREFIX}${host}.${firewall}`;
}

/** The firewall a namespace name belongs to, when it is one of `host`'s. */
export function parseFirewallNetnsName(host: string, netns: string): string | undefined {
  const prefix = `${FIREWALL_NETNS_PREFIX}${host}.`;
  if (!netns.startsWith(prefix)) return undefined;
  const name = netns.slice(prefix.length);
  return name === '' || name.includes('.') ? undefined : name;
}

/** Host side of the firewall's veth on `network` (on the network's bridge). */
export function firewallHostVethName(firewall: string, network: string): string {
  return `${FIREWALL_VETH_PREFIX}${hex8(`${firewall}/${network}`)}`;
}

/**
 * The interface inside the firewall namespace: `n-<network>` when that fits
 * in 15 bytes, else `h-<hash>` (the two forms cannot collide).
 */
export function firewallIfname(network: string): string {
  return network.length <= 13 ? `n-${network}` : `h-${hex8(network)}`;
}

/** Locally administered unicast (first octet 0x0a), distinct from the gateway MACs (0x02:77:66). */
export function firewallMac(firewall: string, network: string): string {
  const h = fnv1a32(`mac/${firewall}/${network}`);
  const b = [0x0a, 0x77, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function firewallAlias(firewall: string, network: string): string {
  return `${OWNER_ALIAS_PREFIX}fw:${firewall}/${network}`;
}

/** The firewall and network an alias names, for `wf-*` links. */
export function parseFirewallAlias(alias: string | undefined): { firewall: string; network: string } | undefined {
  const prefix = `${OWNER_ALIAS_PREFIX}fw:`;
  if (!alias?.startsWith(prefix)) return undefined;
  const [firewall, network, ...rest] = alias.slice(prefix.length).split('/');
  if (!firewall || !network || rest.length > 0) return undefined;
  return { firewall, network };
}

/** Owner of the IPAM reservations of a firewall's addresses: no container ID can look like this (':' is not allowed there). */
export function firewallAddressOwner(firewall: string): string {
  return `firewall:${firewall}`;
}
