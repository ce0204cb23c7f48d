// The Firewall VNF's part of the controller -> agent protocol: what a host
// plan carries for a perimeter firewall it runs, the routes that send the
// guarded networks' traffic through it, and what the agent reports back.
// agent-protocol.ts holds the optional HostPlan / PlanDelta / status fields
// that use these (older controllers and agents send none of them).
import type { PlanAddressSet, PlanPeer } from './agent-protocol.js';
import type { DefaultAction, FirewallAction, FirewallProtocol } from './firewall.js';
import type { FirewallInterfaceStatus, PerimeterRuleCounter } from './firewall-vnf.js';

/** A perimeter rule as the firewall enforces it: ports resolved, peers as CIDRs or address sets. */
export interface PlanPerimeterRule {
  /** the rule's name, or its position as a string */
  name: string;
  action: FirewallAction;
  log?: boolean;
  /** undefined: any source */
  from?: PlanPeer[];
  /** undefined: any destination */
  to?: PlanPeer[];
  protocol: FirewallProtocol;
  /** inclusive destination port ranges (port sets resolved); undefined: every port */
  ports?: Array<[number, number]>;
}

/** The firewall's interface on one guarded network. */
export interface PlanFirewallInterface {
  network: string;
  ip: string;
  prefixLength: number;
  mac: string;
  mtu: number;
  /** host side, on the network's bridge (vnf-names firewallHostVethName) */
  hostIfname: string;
  /** inside the firewall's namespace (vnf-names firewallIfname) */
  ifname: string;
}

/**
 * A Firewall VNF this host runs. Key: name. Only spec.host's plan has it;
 * an interface whose network or address is missing is left out (the
 * Firewall's status says why).
 */
export interface PlanFirewallVnf {
  name: string;
  generation: number;
  /** name under /run/netns (vnf-names firewallNetnsName) */
  netns: string;
  interfaces: PlanFirewallInterface[];
  defaultAction: DefaultAction;
  rules: PlanPerimeterRule[];
  /** the address sets the rules name (selector peers resolved to endpoint addresses), sorted by name */
  addressSets: PlanAddressSet[];
}

/**
 * A route the endpoints of `network` get besides their default route:
 * `dst` via `via` (a firewall's address on `network`). Every host's plan has
 * them (endpoints of a guarded network may be anywhere). Key: network + dst.
 */
export interface PlanNetworkRoute {
  network: string;
  dst: string;
  via: string;
  /** the Firewall that asked for it */
  owner: string;
}

export type PlanNetworkRouteKey = Pick<PlanNetworkRoute, 'network' | 'dst'>;

export const networkRouteKey = (r: PlanNetworkRouteKey): string => `${r.network}\u0000${r.dst}`;

/** How the host runs one Firewall VNF, in the agent's status. */
export interface FirewallVnfReport {
  /** generation of the firewall the namespace's table enforces */
  generation: number;
  ready: boolean;
  interfaces: FirewallInterfaceStatus[];
  /** per rule, in rule order, then "default" */
  counters: PerimeterRuleCounter[];
  message?: string;
}
