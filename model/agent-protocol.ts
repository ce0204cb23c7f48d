// Controller <-> agent protocol over an authenticated WebSocket
// (/api/v1/agents/connect, `Authorization: Bearer <agent token>`).
// JSON text frames, one message each.

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
  subnet6?: string;
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
 * host's VXLAN device and a permanent neighbour entry (ip -> mac) there, so
 * the VXLAN driver answers ARP for it locally. Key: name.
 */
export interface PlanRemoteEndpoint {
  name: string;
  network: string;
  ip: string;
  mac: string;
  host: string;
  vtep: string;
}

/** An address block of a network owned by this host (Calico-style). */
export interface PlanBlock {
  network: string;
  cidr: string;
}

/** An address inside this host's blocks that is not the agent's to hand out. */
export interface PlanReservation {
  network: string;
  ip: string;
  owner: string;
}

export interface HostPlan {
  host: string;
  revision: number;
  networks: PlanNetwork[];
  blocks: PlanBlock[];
  reservations: PlanReservation[];
  flood: PlanFloodEntry[];
  remoteEndpoints: PlanRemoteEndpoint[];
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
}

/** What an agent reports for each endpoint it has attached. */
export interface EndpointReport {
  name: string;
  network: string;
  containerId: string;
  ifname: string;
  ip: string;
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

export type AgentMessage =
  | AgentHello
  | { type: 'endpointUp'; endpoint: EndpointReport }
  | { type: 'endpointDown'; name: string }
  | { type: 'status'; appliedRevision: number; networks: Record<string, { ready: boolean; message?: string }> }
  | { type: 'heartbeat' }
  | { type: 'requestBlock'; requestId: string; network: string }
  | { type: 'requestStatic'; requestId: string; network: string; ip: string; owner: string }
  | { type: 'releaseStatic'; network: string; ip: string };

export const AGENT_CONNECT_PATH = '/api/v1/agents/connect';
export const HEARTBEAT_INTERVAL_MS = 5_000;
