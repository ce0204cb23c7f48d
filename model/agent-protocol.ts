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
  subnet6?: string;
  gateway6?: string;
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
}

export interface PlanDelta {
  upsertNetworks: PlanNetwork[];
  removeNetworks: string[];
  upsertBlocks: PlanBlock[];
  removeBlocks: PlanBlock[];
  upsertReservations: PlanReservation[];
  removeReservations: PlanReservation[];
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
  address?: string;
  agentVersion: string;
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
