// Controller <-> agent protocol over an authenticated WebSocket
// (/api/v1/agents/connect, `Authorization: Bearer <agent token>`).
// JSON text frames, one message each.
import type { DefaultAction, FirewallAction, FirewallProtocol, RuleCounter } from './firewall.js';
import type { PlanNetworkRoute, PlanNetworkRouteKey, PlanVnf, VnfKey, VnfReport } from './vnf-protocol.js';

/** A network as a host must realise it. */
export interface PlanNetwork {
  name: string;
  vni: number;
  subnet: string;
  prefixLength: number;
  gateway: string;
  mtu: number;
  bridge: string;
  /** VXLAN device of the network on this host (kernel-names vxlanName(vni)) */
  vxlan: string;
  /** Anycast gateway MAC: the bridge's MAC, the same on every host (gatewayMac(vni)). */
  gatewayMac: string;
  /** Dual-stack: endpoints get the IPv6 address at their IPv4 address's offset (model/dual-stack.ts). */
  subnet6?: string;
  /** With subnet6: held by the bridge on every host like the IPv4 gateway, the endpoints' IPv6 default route. */
  gateway6?: string;
}

/**
 * Head-end replication: a remote host's VTEP that carries a network (has at
 * least one endpoint on it). Broadcast and unknown-unicast frames of the
 * network go to exactly these VTEPs (an all-zero-MAC FDB entry each); no
 * multicast group. Key: network + vtep.
 */
export interface PlanFloodEntry {
  network: string;
  host: string;
  vtep: string;
}

/**
 * An endpoint on another host: a bridge FDB entry (mac -> vtep) on this
 * host's VXLAN device and permanent neighbour entries (ip -> mac, and ip6 ->
 * mac on a dual-stack network) there, so the VXLAN driver answers ARP and
 * neighbour solicitations for it locally. Key: name.
 */
export interface PlanRemoteEndpoint {
  name: string;
  network: string;
  ip: string;
  ip6?: string;
  mac: string;
  host: string;
  vtep: string;
}

/** An address block of a network owned by this host (Calico-style). */
export interface PlanBlock {
  network: string;
  cidr: string;
}

/**
 * An address inside this host's blocks that is not the agent's to hand out,
 * or one reserved for this host elsewhere (another host's block included:
 * any free address of the subnet may be borrowed from any host).
 */
export interface PlanReservation {
  network: string;
  ip: string;
  owner: string;
  /**
   * Only in the plan of the host whose block holds the address: another
   * host asked for it and nobody may use it until this host's agent answers
   * loanConfirmed (it does once the address is free here).
   */
  pending?: true;
}

/**
 * Addresses the controller resolved for the firewall: a peer selector's
 * endpoints (every host's), or the endpoints of this host a policy applies
 * to. A label change on an endpoint changes only these. Key: name.
 */
export interface PlanAddressSet {
  name: string;
  /** IPv4 addresses, sorted */
  addresses: string[];
}

/** A peer of a rule: a resolved address set, or a CIDR minus exceptions. */
export type PlanPeer = { set: string } | { cidr: string; except?: string[] };

export interface PlanFirewallRule {
  /** the rule's name, or its position as a string */
  name: string;
  action: FirewallAction;
  log?: boolean;
  /** undefined: any peer */
  peers?: PlanPeer[];
  protocol: FirewallProtocol;
  /** inclusive destination port ranges (port sets resolved); undefined: every port */
  ports?: Array<[number, number]>;
}

export interface PlanPolicyDirection {
  defaultAction?: DefaultAction;
  rules: PlanFirewallRule[];
}

/** A FirewallPolicy as one host enforces it. Key: name. */
export interface PlanFirewallPolicy {
  name: string;
  priority: number;
  generation: number;
  /** name of the address set of this host's endpoints the policy applies to */
  appliesTo: string;
  ingress?: PlanPolicyDirection;
  egress?: PlanPolicyDirection;
}

export interface HostPlan {
  host: string;
  revision: number;
  networks: PlanNetwork[];
  blocks: PlanBlock[];
  reservations: PlanReservation[];
  flood: PlanFloodEntry[];
  remoteEndpoints: PlanRemoteEndpoint[];
  /** policies applying to at least one endpoint of this host */
  firewallPolicies: PlanFirewallPolicy[];
  /** every address set those policies name */
  addressSets: PlanAddressSet[];
  /** the VNFs this host runs, every kind (vnf-protocol.ts), sorted by kind/name */
  vnfs: PlanVnf[];
  /** extra routes of endpoints through VNFs (e.g. between the networks a Firewall guards), sorted by key */
  networkRoutes: PlanNetworkRoute[];
}

export interface PlanDelta {
  upsertNetworks: PlanNetwork[];
  removeNetworks: string[];
  upsertBlocks: PlanBlock[];
  removeBlocks: PlanBlock[];
  upsertReservations: PlanReservation[];
  removeReservations: PlanReservation[];
  upsertFlood: PlanFloodEntry[];
  removeFlood: PlanFloodEntry[];
  upsertRemoteEndpoints: PlanRemoteEndpoint[];
  /** names */
  removeRemoteEndpoints: string[];
  upsertFirewallPolicies: PlanFirewallPolicy[];
  /** names */
  removeFirewallPolicies: string[];
  upsertAddressSets: PlanAddressSet[];
  /** names */
  removeAddressSets: string[];
  /** VNFs of any kind, whole */
  upsertVnfs: PlanVnf[];
  removeVnfs: VnfKey[];
  upsertNetworkRoutes: PlanNetworkRoute[];
  removeNetworkRoutes: PlanNetworkRouteKey[];
}

/** What an agent reports for each endpoint it has attached. */
export interface EndpointReport {
  name: string;
  network: string;
  containerId: string;
  ifname: string;
  ip: string;
  /** On a dual-stack network: the IPv6 address, always endpointIp6(network, ip). */
  ip6?: string;
  mac: string;
  hostIfname: string;
  netns: string;
  labels: Record<string, string>;
}

export type ControllerMessage =
  | { type: 'plan'; plan: HostPlan }
  | { type: 'delta'; fromRevision: number; revision: number; delta: PlanDelta }
  | { type: 'blockGranted'; requestId: string; block: PlanBlock }
  | { type: 'staticGranted'; requestId: string; reservation: PlanReservation }
  | { type: 'requestFailed'; requestId: string; code: string; message: string }
  /**
   * The answer to an endpointUp that carried a requestId: every other host
   * whose plan the endpoint changed (its FDB and neighbour entries, the
   * address sets of its policies) has applied it (`hosts`), except `late`
   * ones that did not report so within the controller's bound or went away.
   */
  | { type: 'endpointPropagated'; requestId: string; revision: number; hosts: string[]; late: string[] }
  | { type: 'error'; code: string; message: string };

export interface AgentHello {
  type: 'hello';
  host: string;
  /** Underlay (VTEP) address: the local address of this connection unless configured. */
  address?: string;
  agentVersion: string;
  /** MTU of the underlay interface holding `address`. */
  underlayMtu?: number;
  appliedRevision: number;
  /** Every endpoint the agent has: the controller reconciles its records to this. */
  endpoints: EndpointReport[];
}

/** How one host enforces one policy, in the agent's status. */
export interface FirewallPolicyReport {
  /** generation of the policy the host's table holds */
  generation: number;
  ready: boolean;
  /** local endpoints it applies to */
  endpoints: number;
  counters: RuleCounter[];
  message?: string;
}

/** One logged packet (the first of a new connection a `log` rule saw). */
export interface FirewallLogEntry {
  time: string;
  policy: string;
  direction: 'ingress' | 'egress' | 'forward';
  rule: string;
  action: FirewallAction;
  protocol: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** kernel interface the packet came in on, when known */
  iif?: string;
}

export type AgentMessage =
  | AgentHello
  /**
   * With a requestId the agent waits for an endpointPropagated (or a
   * requestFailed) before its attach returns: the new endpoint is then
   * reachable from, and admitted by, every other host at once.
   */
  | { type: 'endpointUp'; endpoint: EndpointReport; requestId?: string }
  | { type: 'endpointDown'; name: string }
  | {
      type: 'status';
      appliedRevision: number;
      networks: Record<string, { ready: boolean; message?: string }>;
      /** per policy this host enforces; absent when the agent enforces no policies */
      firewall?: Record<string, FirewallPolicyReport>;
      /** anti-spoofing drops on this host by reason (ip, mac, arp, ip6, other) */
      spoofDrops?: Record<string, number>;
      /** every VNF this host runs, any kind; absent when it runs none */
      vnfs?: VnfReport[];
    }
  | { type: 'firewallLog'; entries: FirewallLogEntry[] }
  | { type: 'heartbeat' }
  | { type: 'requestBlock'; requestId: string; network: string }
  | { type: 'requestStatic'; requestId: string; network: string; ip: string; owner: string }
  | { type: 'releaseStatic'; network: string; ip: string }
  /**
   * A pending reservation inside this host's block (PlanReservation.pending)
   * is excluded from local allocation, recorded in the agent's state, and no
   * local endpoint uses the address: the borrower may have it.
   */
  | { type: 'loanConfirmed'; network: string; ip: string };

export const AGENT_CONNECT_PATH = '/api/v1/agents/connect';
export const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Timing both ends of the agent protocol rely on, in one place because each
 * bound only works below the other side's.
 *
 * The controller answers an endpointUp that carries a requestId with
 * endpointPropagated within ENDPOINT_PROPAGATION_BOUND_MS at the latest,
 * naming the hosts that were late; longer would buy nothing, since the
 * kernel's first ARP retry and TCP's first SYN retransmit come after 1 s.
 */
export const ENDPOINT_PROPAGATION_BOUND_MS = 1_000;
/** How long an attaching agent waits for that answer: past the bound, so the controller's (naming late hosts) comes first. */
export const ENDPOINT_PROPAGATION_WAIT_MS = ENDPOINT_PROPAGATION_BOUND_MS + 500;
/** An agent's default timeout for its requests to the controller (requestBlock, requestStatic). */
export const AGENT_REQUEST_TIMEOUT_MS = 5_000;
/** How long the controller waits for a block owner to confirm a loan: below the agent's timeout, so the agent hears why. */
export const LOAN_CONFIRM_MS = AGENT_REQUEST_TIMEOUT_MS - 1_000;
