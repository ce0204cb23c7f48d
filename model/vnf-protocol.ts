// What every virtual network function looks like on the wire between the
// controller and an agent, whatever its kind: a namespace on one host with
// one interface per network (an address from that network's IPAM, a MAC,
// a port on its bridge) and a kind-specific part that only the kind's
// driver (vnf/KIND/) reads. The plan carries `vnfs: PlanVnf[]`, the delta
// one upsert/remove pair for all kinds, the agent's status one report per
// VNF. A new kind adds nothing here.

/** One interface of a VNF, as the host must realise it. */
export interface PlanVnfInterface {
  network: string;
  ip: string;
  prefixLength: number;
  mac: string;
  mtu: number;
  /** host side, on the network's bridge (vnf-names vnfHostVethName) */
  hostIfname: string;
  /** inside the VNF's namespace (vnf-names vnfIfname) */
  ifname: string;
}

/**
 * A VNF this host runs. Key: kind + name. Only its host's plan has it; an
 * interface whose network or address is missing is left out (the
 * resource's status says why). `spec` is the kind's planned part
 * (e.g. PlanFirewallSpec), opaque to everything but the kind's driver.
 */
export interface PlanVnf<S = unknown> {
  kind: string;
  name: string;
  generation: number;
  /** name under /run/netns (vnf-names vnfNetnsName) */
  netns: string;
  interfaces: PlanVnfInterface[];
  spec: S;
  /** Routes in the VNF's namespace that it needs as part of a chain with another VNF (a firewall in front of a router), beside its kind's own */
  transitRoutes?: Array<{ dst: string; via: string }>;
}

export type VnfKey = Pick<PlanVnf, 'kind' | 'name'>;

export const vnfKey = (v: VnfKey): string => `${v.kind}/${v.name}`;

/**
 * A route the endpoints of `network` get besides their default route:
 * `dst` via `via` (a VNF's address on `network`). Every host's plan has
 * them (endpoints of a network may be anywhere). Key: network + dst.
 */
export interface PlanNetworkRoute {
  network: string;
  dst: string;
  via: string;
  /** the VNF that asked for it (vnfKey) */
  owner: string;
}

export type PlanNetworkRouteKey = Pick<PlanNetworkRoute, 'network' | 'dst'>;

export const networkRouteKey = (r: PlanNetworkRouteKey): string => `${r.network}\u0000${r.dst}`;

/** A VNF's address and MAC on one network, as reported and shown in its status. */
export interface VnfInterfaceStatus {
  network: string;
  ip: string;
  mac: string;
}

/** One counter row of a VNF (a rule, a backend, ...): flat, its fields the kind's. */
export type VnfCounter = Record<string, string | number>;

/** How the host runs one VNF, in the agent's status. */
export interface VnfReport {
  kind: string;
  name: string;
  /** generation of the resource the namespace realises */
  generation: number;
  ready: boolean;
  message?: string;
  interfaces: VnfInterfaceStatus[];
  /** the kind's counters (its driver reads them back from the data plane) */
  counters?: VnfCounter[];
  /** live connections the kind lists (a router's port forwards): the first rows, and how many there are */
  connections?: { total: number; items: VnfCounter[] };
}
