// Pure core of the host's networks: render what the plan and the records
// want, diff it against the owned kernel objects observed, get the smallest
// list of actions. No I/O here; the NetworkReconciler (network-reconciler.ts)
// observes and applies.
// The overlay part (VXLAN devices and their entries) is overlay-diff.ts;
// both land in one list, in one apply order.
import type { HostPlan, PlanNetwork } from '../../model/agent-protocol.js';
import { BRIDGE_PREFIX, VETH_PREFIX, bridgeAlias, endpointAlias, parseOwnerAlias } from '../../model/kernel-names.js';
import type { AddrInfo, FdbEntry, LinkInfo, NeighEntry } from '../datapath/port.js';
import type { EndpointRecord } from '../state/endpoint-store.js';
import { diffOverlay, renderOverlay, type DesiredOverlay, type OverlayAction, type Vtep } from './overlay-diff.js';

export interface DesiredHost {
  /** undefined without any plan: then nothing that depends on the plan is touched */
  networks: Map<string, PlanNetwork> | undefined;
  /** Networks that need their bridge: those with attached endpoints. */
  bridges: PlanNetwork[];
  records: EndpointRecord[];
  /** The overlay, when the caller renders it (with a plan only). */
  overlay?: DesiredOverlay;
}

export interface ObservedHost {
  /** Every link of the host namespace. */
  links: LinkInfo[];
  /** Addresses of the weft bridges, by ifindex. */
  bridgeAddrs: Map<number, AddrInfo[]>;
  /** Host veth names an attach or detach is working on right now: hands off. */
  busy: Set<string>;
  /** Entries of the weft VXLAN devices, by ifindex (with `overlay` in DesiredHost). */
  fdb?: Map<number, FdbEntry[]>;
  neigh?: Map<number, NeighEntry[]>;
}

export interface LinkRef {
  index: number;
  name: string;
}

export type HostAction =
  | OverlayAction
  | { op: 'ensureBridge'; network: PlanNetwork; reason: string }
  | { op: 'repairVeth'; endpoint: string; network: string; link: LinkRef; alias?: string; masterBridge?: string }
  | { op: 'removeOrphanVeth'; link: LinkRef }
  | { op: 'finishDelete'; endpoint: string; network: string }
  | { op: 'dropRecord'; endpoint: string; network: string }
  | { op: 'removeBridge'; network: string; link: LinkRef };

/**
 * Apply order: creates and repairs first (bridge, vxlan with its master and
 * up, veths, fdb, neigh), then deletes in reverse (neigh, fdb, veths,
 * vxlan), bridges last (they lose their ports first).
 */
const ORDER: Record<HostAction['op'], number> = {
  ensureBridge: 0,
  ensureVxlan: 1,
  repairVeth: 2,
  fdbAdd: 3,
  neighReplace: 4,
  neighDel: 5,
  fdbDel: 6,
  removeOrphanVeth: 7,
  finishDelete: 8,
  dropRecord: 9,
  removeVxlan: 10,
  removeBridge: 11,
};

export interface OverlayInputs {
  /** Networks an attach is working on right now: carried even before their first record. */
  busyNetworks: Set<string>;
  vtep: Vtep | undefined;
}

export function renderHost(plan: HostPlan | undefined, records: EndpointRecord[], overlay?: OverlayInputs): DesiredHost {
  const networks = plan ? new Map(plan.networks.map((n) => [n.name, n])) : undefined;
  const used = new Set(records.filter((r) => r.state === 'attached').map((r) => r.network));
  const bridges = networks ? [...used].flatMap((name) => networks.get(name) ?? []).sort((a, b) => a.name.localeCompare(b.name)) : [];
  const desired: DesiredHost = { networks, bridges, records };
  if (plan && overlay) desired.overlay = renderOverlay(plan, [...used, ...overlay.busyNetworks], overlay.vtep);
  return desired;
}

const ref = (l: LinkInfo): LinkRef => ({ index: l.index, name: l.name });

/** A weft bridge: its alias names a network, or it has none but a plan network uses its name (half-made). */
function bridgeOwner(l: LinkInfo, desired: DesiredHost): string | undefined {
  if (!l.name.startsWith(BRIDGE_PREFIX) || l.kind !== 'bridge') return undefined;
  const owner = parseOwnerAlias(l.alias);
  if (owner?.type === 'net') return owner.name;
  if (!l.alias) for (const n of desired.networks?.values() ?? []) if (n.bridge === l.name) return n.name;
  return undefined;
}

/** A weft veth: ep alias, or no alias at all (a crash between create and set-alias). */
function vethOwner(l: LinkInfo): { endpoint?: string } | undefined {
  if (!l.name.startsWith(VETH_PREFIX) || l.kind !== 'veth') return undefined;
  const owner = parseOwnerAlias(l.alias);
  if (owner?.type === 'ep') return { endpoint: owner.name };
  return l.alias ? undefined : {};
}

function bridgeProblem(n: PlanNetwork, l: LinkInfo, addrs: AddrInfo[]): string | undefined {
  if (l.kind !== 'bridge') return `${l.name} is not a bridge`;
  if (l.alias !== bridgeAlias(n.name)) return 'alias';
  if (l.mtu !== n.mtu) return `mtu ${l.mtu} -> ${n.mtu}`;
  if (l.mac.toLowerCase() !== n.gatewayMac.toLowerCase()) return 'gateway mac';
  const v4 = addrs.filter((a) => a.family === 4);
  if (!v4.some((a) => a.address === n.gateway && a.prefixLength === n.prefixLength)) return 'gateway address';
  if (v4.length > 1) return 'stale address';
  if (!l.up) return 'down';
  return undefined;
}

export function diffHost(desired: DesiredHost, observed: ObservedHost): HostAction[] {
  const actions: HostAction[] = [];
  const byName = new Map(observed.links.map((l) => [l.name, l]));
  const records = new Map(desired.records.map((r) => [r.hostIfname, r]));

  for (const n of desired.bridges) {
    const l = byName.get(n.bridge);
    const problem = l ? bridgeProblem(n, l, observed.bridgeAddrs.get(l.index) ?? []) : 'missing';
    if (problem !== undefined) actions.push({ op: 'ensureBridge', network: n, reason: problem });
  }

  const removedLinks = new Set<number>();
  if (desired.overlay) {
    const overlay = diffOverlay(desired.overlay, { links: observed.links, fdb: observed.fdb ?? new Map(), neigh: observed.neigh ?? new Map() });
    for (const a of overlay) if (a.op === 'removeVxlan') removedLinks.add(a.link.index); // not a port that keeps its bridge
    actions.push(...overlay);
  }
  for (const l of observed.links) {
    const owner = vethOwner(l);
    if (!owner || observed.busy.has(l.name)) continue;
    const r = records.get(l.name);
    if (!r) {
      actions.push({ op: 'removeOrphanVeth', link: ref(l) });
      removedLinks.add(l.index);
      continue;
    }
    if (r.state !== 'attached') continue; // finishDelete below removes it
    const alias = endpointAlias(r.name);
    const net = desired.networks?.get(r.network);
    const bridge = net ? byName.get(net.bridge) : undefined;
    const repair: { alias?: string; masterBridge?: string } = {};
    if (l.alias !== alias) repair.alias = alias;
    if (net && (!bridge || l.master !== bridge.index)) repair.masterBridge = net.bridge;
    if (repair.alias !== undefined || repair.masterBridge !== undefined) {
      actions.push({ op: 'repairVeth', endpoint: r.name, network: r.network, link: ref(l), ...repair });
    }
  }

  for (const r of desired.records) {
    if (observed.busy.has(r.hostIfname)) continue;
    if (r.state === 'deleting') {
      actions.push({ op: 'finishDelete', endpoint: r.name, network: r.network });
      const l = byName.get(r.hostIfname);
      if (l) removedLinks.add(l.index);
    } else if (!byName.has(r.hostIfname)) {
      actions.push({ op: 'dropRecord', endpoint: r.name, network: r.network });
    }
  }

  // Stale bridges: owned, not the current bridge of any plan network, no ports left.
  if (desired.networks) {
    const current = new Set([...desired.networks.values()].map((n) => n.bridge));
    for (const l of observed.links) {
      const network = bridgeOwner(l, desired);
      if (network === undefined || current.has(l.name)) continue;
      const ports = observed.links.filter((p) => p.master === l.index && !removedLinks.has(p.index));
      if (ports.length === 0) actions.push({ op: 'removeBridge', network, link: ref(l) });
    }
  }

  return actions.sort((a, b) => ORDER[a.op] - ORDER[b.op]);
}
