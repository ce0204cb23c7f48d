// The seam every VNF kind plugs into on the agent's side. A driver is pure:
// a planned VNF (the generic outer shape plus its kind's spec) -> the
// desired state of its namespace, as data. The agent's VNF host
// (agents/vnf/vnf-host.ts) realises any driver's output the same way and
// knows nothing of a kind's insides; a driver knows nothing of the kernel.
import type { ConntrackEntry, ConntrackFilter } from '../model/conntrack.js';
import type { NftDocument } from '../model/nft-json.js';
import { vnfAlias } from '../model/vnf-names.js';
import type { RouterProtocol } from '../model/router.js';
import type { PlanVnf, PlanVnfInterface, VnfCounter } from '../model/vnf-protocol.js';

export interface VnfInterfaceWant extends PlanVnfInterface {
  /** ownership alias of the host side (vnf-names vnfAlias) */
  alias: string;
}

/** A route inside the VNF's namespace (through one of its networks' gateways or peers, or its uplink). */
export interface VnfRouteWant {
  /** a CIDR, or 'default' */
  dst: string;
  via: string;
}

/**
 * The VNF's nftables table inside its namespace. The document replaces the
 * table whole, in one transaction (it deletes and re-adds it), so the VNF
 * host can add its marker (table-marker.ts) and adopt an unchanged table.
 */
export interface VnfNftWant {
  table: string;
  family: 'inet' | 'ip' | 'ip6' | 'bridge' | 'netdev';
  document: NftDocument;
}

/**
 * The VNF's way to the host namespace: a veth whose host side is on no
 * bridge but routed by the host (`hostIp`), the far end `ip` inside the
 * VNF. The host forwards, translates what leaves from `ip` to its own
 * address, and publishes `publish` on its own addresses to `ip`
 * (vnf/uplink-table.ts).
 */
export interface VnfUplinkWant {
  /** host side (vnf-names vnfUplinkHostName) */
  hostIfname: string;
  /** inside the namespace (vnf-names VNF_UPLINK_IFNAME) */
  ifname: string;
  /** ownership alias of the host side (vnf-names vnfUplinkAlias) */
  alias: string;
  hostIp: string;
  ip: string;
  prefixLength: number;
  publish: Array<{ protocol: RouterProtocol; port: number }>;
}

/**
 * The VNF's own address on a host interface's segment: a macvlan (bridge
 * mode) on host interface `parent`, made directly inside the namespace.
 * It has no host side: it goes with the namespace.
 */
export interface VnfExternalWant {
  /** the host interface (in the agent's namespace) it sits on */
  parent: string;
  /** inside the namespace (vnf-names VNF_EXTERNAL_IFNAME) */
  ifname: string;
  /** ownership alias (vnf-names vnfAlias with VNF_EXTERNAL_ATTACHMENT) */
  alias: string;
  mac: string;
  ip: string;
  prefixLength: number;
  /** further addresses it answers for on the segment, each a /32 (a Router's floating IPs) */
  extraIps: string[];
}

/** A program the VNF runs inside its namespace, under the agent's process supervisor. */
export interface VnfProcessWant {
  /** unique inside the VNF, e.g. "haproxy" */
  name: string;
  /** argv[0] an absolute path; never a shell */
  argv: string[];
  /** files it reads, by absolute path (under the run dir the render was given) -> content */
  files: Record<string, string>;
  /** how it takes a change of its files without a restart; absent: it is restarted */
  reloadSignal?: NodeJS.Signals;
}

export interface VnfWant<M = unknown> {
  kind: string;
  name: string;
  generation: number;
  netns: string;
  /** sysctls inside the namespace, as key -> value */
  sysctls: Record<string, string>;
  interfaces: VnfInterfaceWant[];
  routes: VnfRouteWant[];
  uplink?: VnfUplinkWant;
  external?: VnfExternalWant;
  nft?: VnfNftWant;
  processes: VnfProcessWant[];
  /** read the namespace's conntrack table for the driver's readConnections: the entries with this mark (its rules set it) */
  observeConntrack?: ConntrackFilter;
  /** what the driver needs to read its counters back */
  model: M;
}

/** What the VNF host read back from the namespace for a driver's counters. */
export interface VnfObservation {
  /** `nft -j list table` of the VNF's table, metainfo removed; undefined when it has none */
  nft?: readonly unknown[];
}

export interface VnfRenderContext {
  /** a directory of this VNF's own for its processes' files (pidfiles, configs, sockets) */
  runDir: string;
}

export interface VnfDriver<S = unknown, M = unknown> {
  readonly kind: string;
  render(vnf: PlanVnf<S>, ctx: VnfRenderContext): VnfWant<M>;
  /** the kind's counters, from what the host read back; absent: the kind has none */
  readCounters?(observed: VnfObservation, model: M): VnfCounter[];
  /** the live connections the kind lists, from the namespace's conntrack entries its want's observeConntrack picked; absent: the kind lists none */
  readConnections?(tracked: readonly ConntrackEntry[], model: M): VnfConnections;
}

/** Rows for status.connections: at most MAX_LISTED_CONNECTIONS, and how many there are. */
export interface VnfConnections {
  total: number;
  items: VnfCounter[];
}

/** What every kind's VnfWant starts from: the plan's identity and interfaces (MACs as the kernel lists them, ownership aliases), forwarding on inside the namespace. */
export function baseVnfWant<M>(vnf: PlanVnf, model: M): VnfWant<M> {
  return {
    kind: vnf.kind,
    name: vnf.name,
    generation: vnf.generation,
    netns: vnf.netns,
    sysctls: { 'net.ipv4.ip_forward': '1' },
    interfaces: vnf.interfaces.map((i) => ({ ...i, mac: i.mac.toLowerCase(), alias: vnfAlias(vnf, i.network) })),
    routes: (vnf.transitRoutes ?? []).map((r) => ({ dst: r.dst, via: r.via })),
    processes: [],
    model,
  };
}
