// Pure core of the overlay: which VXLAN devices, forwarding (FDB) and
// neighbour entries the plan wants on this host, and the smallest list of
// actions from what is observed. No I/O; the NetworkReconciler observes and
// applies, the OverlayManager does the device steps.
//
// A network this host carries (an attached endpoint, or an attach in
// progress) gets a VXLAN device enslaved to its bridge; for every flood
// entry an all-zero-MAC FDB entry (head-end replication towards a VTEP
// that carries the network) and for every remote endpoint an FDB entry
// mac -> VTEP plus a permanent neighbour ip -> mac (and ip6 -> mac on a
// dual-stack network), from which the VXLAN driver's proxy answers ARP and
// IPv6 neighbour solicitations.
import type { HostPlan, PlanNetwork } from '../../model/agent-protocol.js';
import { VXLAN_PREFIX, bridgeAlias, parseOwnerAlias } from '../../model/kernel-names.js';
import type { FdbEntry, LinkInfo, NeighEntry, VxlanSpec } from '../datapath/port.js';
import type { LinkRef } from './host-diff.js';

/** IANA VXLAN port. */
const VXLAN_PORT = 4789;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_OVERHEAD = 50;
export const ZERO_MAC = '00:00:00:00:00:00';

/** This host's tunnel endpoint: the underlay address and, when found, the device holding it. */
export interface Vtep {
  address: string;
  /** ifindex of the underlay device (the VXLAN devices' lower device) */
  index?: number;
  mtu?: number;
}

export interface FdbWant {
  mac: string;
  dst: string;
}

export interface NeighWant {
  ip: string;
  mac: string;
}

export interface OverlayEntries {
  fdb: FdbWant[];
  neigh: NeighWant[];
}

export interface DesiredOverlay {
  /** The plan's networks by name. */
  networks: Map<string, PlanNetwork>;
  /** Networks this host carries, by name: each needs its VXLAN device and entries. */
  carried: PlanNetwork[];
  /** undefined while the underlay address is unknown: devices are adopted as they are, none created */
  vtep: Vtep | undefined;
  /** Entries per carried network. */
  entries: Map<string, OverlayEntries>;
}

export interface ObservedOverlay {
  links: LinkInfo[];
  /** FDB entries of each weft VXLAN device, by ifindex. */
  fdb: Map<number, FdbEntry[]>;
  /** Neighbour entries of each weft VXLAN device, by ifindex. */
  neigh: Map<number, NeighEntry[]>;
}

export type OverlayAction =
  /** create (or replace, when VNI / local / lower device changed), then MTU, master, up */
  | { op: 'ensureVxlan'; network: PlanNetwork; reason: string }
  /** `evict`: VTEPs this unicast MAC is behind now, removed first (a MAC sits behind one VTEP) */
  | { op: 'fdbAdd'; network: string; vxlan: string; mac: string; dst: string; evict: string[] }
  | { op: 'neighReplace'; network: string; vxlan: string; ip: string; mac: string }
  | { op: 'neighDel'; network: string; vxlan: string; ip: string }
  | { op: 'fdbDel'; network: string; vxlan: string; mac: string; dst: string }
  | { op: 'removeVxlan'; network: string; link: LinkRef };

/** The actions on one device's entries (what an incremental pass does). */
export type OverlayEntryAction = Extract<OverlayAction, { op: 'fdbAdd' | 'fdbDel' | 'neighReplace' | 'neighDel' }>;

const normMac = (mac: string): string => mac.toLowerCase();

export function vxlanSpec(n: PlanNetwork, vtep: Vtep): VxlanSpec {
  const spec: VxlanSpec = { name: n.vxlan, vni: n.vni, local: vtep.address, port: VXLAN_PORT, mtu: n.mtu, learning: false, proxy: true };
  if (vtep.index !== undefined) spec.dev = vtep.index;
  return spec;
}

/**
 * The VXLAN device's ownership alias, stamped with what cannot be read back
 * from a link listing (VNI, local address, port, lower device): a device
 * whose stamp differs was made for another underlay and is replaced.
 */
export function vxlanAlias(network: string, spec: VxlanSpec): string {
  return `${bridgeAlias(network)} vxlan vni=${spec.vni} local=${spec.local} port=${spec.port} dev=${spec.dev ?? 0}`;
}

/** The network a VXLAN alias names, if it is a weft one. */
export function vxlanAliasNetwork(alias: string | undefined): string | undefined {
  const owner = parseOwnerAlias(alias);
  if (owner?.type !== 'net') return undefined;
  return owner.name.split(' ')[0];
}

/** The entries the plan wants for one network; entries towards our own VTEP would loop and are skipped. */
export function renderOverlayEntries(plan: HostPlan, network: string, ownVtep?: string): OverlayEntries {
  const fdb: FdbWant[] = [];
  const neigh: NeighWant[] = [];
  const floodTo = new Set<string>();
  for (const f of plan.flood) {
    if (f.network !== network || f.vtep === ownVtep || floodTo.has(f.vtep)) continue;
    floodTo.add(f.vtep);
    fdb.push({ mac: ZERO_MAC, dst: f.vtep });
  }
  // By name, so two plan entries claiming one MAC or IP resolve the same way on every pass.
  const remotes = plan.remoteEndpoints.filter((r) => r.network === network && r.vtep !== ownVtep).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const macs = new Set<string>();
  const ips = new Set<string>();
  for (const r of remotes) {
    const mac = normMac(r.mac);
    if (!macs.has(mac)) fdb.push({ mac, dst: r.vtep });
    macs.add(mac);
    // IPv6 too: the driver's proxy answers neighbour solicitations from these, so no ND crosses the underlay either.
    for (const ip of r.ip6 === undefined ? [r.ip] : [r.ip, r.ip6]) {
      if (!ips.has(ip)) neigh.push({ ip, mac });
      ips.add(ip);
    }
  }
  return { fdb, neigh };
}

/** Desired overlay of the host: carried networks are given by name (records and attaches in progress). */
export function renderOverlay(plan: HostPlan, carried: Iterable<string>, vtep: Vtep | undefined): DesiredOverlay {
  const networks = new Map(plan.networks.map((n) => [n.name, n]));
  const nets = [...new Set(carried)].flatMap((name) => networks.get(name) ?? []).sort((a, b) => a.name.localeCompare(b.name));
  const entries = new Map(nets.map((n) => [n.name, renderOverlayEntries(plan, n.name, vtep?.address)]));
  return { networks, carried: nets, vtep, entries };
}

const fdbKey = (mac: string, dst: string) => `${normMac(mac)}|${dst}`;

/** Entries of one VXLAN device: what to add, replace and delete. */
export function diffOverlayEntries(network: string, vxlan: string, want: OverlayEntries, have: { fdb: FdbEntry[]; neigh: NeighEntry[] }): OverlayEntryAction[] {
  const out: OverlayEntryAction[] = [];
  const present = new Set(have.fdb.filter((e) => e.permanent).map((e) => fdbKey(e.mac, e.dst)));
  const wanted = new Set(want.fdb.map((w) => fdbKey(w.mac, w.dst)));
  const evicted = new Set<string>();
  for (const w of want.fdb) {
    if (present.has(fdbKey(w.mac, w.dst))) continue;
    // A unicast MAC lives behind one VTEP: one that moved leaves the old
    // first. A same-key entry that is not permanent (learnt) is replaced too.
    const evict = have.fdb
      .filter((e) => normMac(e.mac) === w.mac && (w.mac !== ZERO_MAC ? !wanted.has(fdbKey(e.mac, e.dst)) || e.dst === w.dst : e.dst === w.dst))
      .map((e) => e.dst);
    for (const dst of evict) evicted.add(fdbKey(w.mac, dst));
    out.push({ op: 'fdbAdd', network, vxlan, mac: w.mac, dst: w.dst, evict });
  }
  for (const e of have.fdb) {
    const key = fdbKey(e.mac, e.dst);
    if (!wanted.has(key) && !evicted.has(key)) out.push({ op: 'fdbDel', network, vxlan, mac: normMac(e.mac), dst: e.dst });
  }

  const neighByIp = new Map(have.neigh.map((n) => [n.ip, n]));
  const wantIps = new Set(want.neigh.map((w) => w.ip));
  for (const w of want.neigh) {
    const h = neighByIp.get(w.ip);
    if (h && h.permanent && normMac(h.mac) === w.mac) continue;
    out.push({ op: 'neighReplace', network, vxlan, ip: w.ip, mac: w.mac });
  }
  for (const h of have.neigh) if (!wantIps.has(h.ip)) out.push({ op: 'neighDel', network, vxlan, ip: h.ip });
  return out;
}

/** A weft VXLAN device: its alias names a network, or it has none but a plan network uses its name (half-made). */
function vxlanOwner(l: LinkInfo, networks: Map<string, PlanNetwork>): string | undefined {
  if (!l.name.startsWith(VXLAN_PREFIX) || l.kind !== 'vxlan') return undefined;
  const owner = vxlanAliasNetwork(l.alias);
  if (owner !== undefined) return owner;
  if (!l.alias) for (const n of networks.values()) if (n.vxlan === l.name) return n.name;
  return undefined;
}

/** Why a carried network's device needs an ensure; 'missing' and 'spec' mean a new device. */
function vxlanProblem(n: PlanNetwork, l: LinkInfo | undefined, bridge: LinkInfo | undefined, vtep: Vtep | undefined): string | undefined {
  if (!l) return 'missing';
  if (l.kind !== 'vxlan') return `${l.name} is not a vxlan`;
  const owner = vxlanAliasNetwork(l.alias);
  if (l.alias && owner !== n.name) return 'owner';
  if (vtep && l.alias !== vxlanAlias(n.name, vxlanSpec(n, vtep))) return 'spec';
  if (l.mtu !== n.mtu) return `mtu ${l.mtu} -> ${n.mtu}`;
  if (!bridge || l.master !== bridge.index) return 'master';
  if (!l.up) return 'down';
  return undefined;
}

const NEW_DEVICE = new Set(['missing', 'spec']);

export function diffOverlay(desired: DesiredOverlay, observed: ObservedOverlay): OverlayAction[] {
  const actions: OverlayAction[] = [];
  const byName = new Map(observed.links.map((l) => [l.name, l]));
  const carriedDevices = new Set<string>();

  for (const n of desired.carried) {
    carriedDevices.add(n.vxlan);
    const l = byName.get(n.vxlan);
    const problem = vxlanProblem(n, l, byName.get(n.bridge), desired.vtep);
    if (problem === 'missing' && !desired.vtep) continue; // nothing to send from yet
    if (problem !== undefined) actions.push({ op: 'ensureVxlan', network: n, reason: problem });
    if (problem === 'owner' || (l && l.kind !== 'vxlan')) continue; // the ensure refuses it: no entries on someone else's device
    const fresh = problem !== undefined && NEW_DEVICE.has(problem);
    const have = l && !fresh ? { fdb: observed.fdb.get(l.index) ?? [], neigh: observed.neigh.get(l.index) ?? [] } : { fdb: [], neigh: [] };
    const want = desired.entries.get(n.name) ?? { fdb: [], neigh: [] };
    actions.push(...diffOverlayEntries(n.name, n.vxlan, want, have));
  }

  // Devices of networks this host no longer carries (or that left the plan) go, entries with them.
  for (const l of observed.links) {
    const network = vxlanOwner(l, desired.networks);
    if (network === undefined || carriedDevices.has(l.name)) continue;
    actions.push({ op: 'removeVxlan', network, link: { index: l.index, name: l.name } });
  }
  return actions;
}
