// The planner: store snapshot -> what one host must realise (HostPlan), and
// the smallest change between two plans (PlanDelta). Pure functions; the hub
// feeds them and sends the results.
import ipaddr from 'ipaddr.js';
import type { HostPlan, PlanBlock, PlanDelta, PlanFloodEntry, PlanNetwork, PlanRemoteEndpoint, PlanReservation } from '../../model/agent-protocol.js';
import { intToIpv4, prefixContains } from '../../model/ip.js';
import { bridgeName, gatewayMac, vxlanName } from '../../model/kernel-names.js';
import type { FirewallPolicy } from '../../model/firewall.js';
import type { Network } from '../../model/kinds.js';
import { blockKey, floodKey, reservationKey } from '../../model/plan-delta.js';
import { addressSpaceOf, parseBlock, parseIp, systemAddresses } from '../ipam/address-space.js';
import type { BlockRow, ReservationRow } from '../store/store.js';
import { sameJson } from '../util/canonical-json.js';
import { FirewallPlanner, type CompiledPolicyCache } from './firewall-planner.js';
import { diffVnfPlan } from '../../model/vnf-plan-delta.js';
import type { VnfResource } from '../../model/vnf-resource.js';
import { planVnfs, vnfInterfaceEndpoints } from './vnf-planner.js';

export const DEFAULT_UNDERLAY_MTU = 1500;
/** Outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8. */
export const VXLAN_OVERHEAD = 50;

/** What the planner knows of a host: its underlay, as its agent reported it. */
export interface PlanHostInfo {
  underlayMtu?: number;
  /** Underlay (VTEP) address; a host without one gets no overlay traffic and sends none. */
  address?: string;
}

/** An endpoint some agent reported (an endpoint record), as far as forwarding needs it. */
export interface PlanEndpointInfo {
  name: string;
  network: string;
  host: string;
  ip: string;
  /** on a dual-stack network */
  ip6?: string;
  mac: string;
  /** What firewall selectors match: the record's labels with its declaration's over them. */
  labels?: Record<string, string>;
}

export interface PlanInput {
  revision: number;
  networks: Array<{ network: Network; vni: number }>;
  hosts: Record<string, PlanHostInfo | undefined>;
  blocks: BlockRow[];
  reservations: ReservationRow[];
  /**
   * Endpoints of hosts that are not Gone: a Gone host's records are deleted
   * (GoneHostSweeper), which is what withdraws them from every plan.
   */
  endpoints: PlanEndpointInfo[];
  /** FirewallPolicy resources; absent: none. */
  firewallPolicies?: FirewallPolicy[];
  /** VNF resources of every kind. Their addresses are reservations (owner vnf-names vnfAddressOwner). */
  vnfs: VnfResource[];
}

/**
 * An explicit spec.mtu goes into every host's plan, even a host whose
 * underlay cannot carry it (one that joined after the MTU was accepted;
 * writes refuse it otherwise). Lowering it only on that host would split
 * one L2 segment into two MTUs: frames bigger than that host's bridge are
 * dropped there without an ICMP error, silently, for any protocol and in
 * both directions, and the host would run something nobody declared. Kept
 * uniform, the oversized encapsulated packets are the underlay's to
 * fragment (the VXLAN devices leave DF unset), the agent logs the mismatch
 * and the network's status says MtuTooLarge naming the host, so the user
 * fixes the one number that is wrong.
 */
export function networkMtu(net: Network, underlayMtu: number | undefined): number {
  return net.spec.mtu ?? (underlayMtu ?? DEFAULT_UNDERLAY_MTU) - VXLAN_OVERHEAD;
}

/** Default IPv6 gateway: the first address after the network address. */
export function defaultGateway6(subnet6: string): string {
  const [addr] = ipaddr.parseCIDR(subnet6);
  const bytes = addr.toByteArray();
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = ((bytes[i] as number) + 1) & 255;
    if (bytes[i] !== 0) break;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export function planNetwork(net: Network, vni: number, underlayMtu: number | undefined): PlanNetwork {
  const space = addressSpaceOf(net);
  const p: PlanNetwork = {
    name: net.metadata.name,
    vni,
    subnet: net.spec.subnet,
    prefixLength: space.prefix.length,
    gateway: intToIpv4(space.gateway),
    mtu: networkMtu(net, underlayMtu),
    bridge: bridgeName(vni),
    vxlan: vxlanName(vni),
    gatewayMac: gatewayMac(vni),
  };
  if (net.spec.subnet6 !== undefined) {
    p.subnet6 = net.spec.subnet6;
    p.gateway6 = net.spec.gateway6 ?? defaultGateway6(net.spec.subnet6);
  }
  return p;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Per-input lookups shared by every planHost call of one planning pass (the hub plans all hosts from one input). */
interface OverlayIndex {
  /** network -> host -> that host's endpoints on the network, in input order. */
  carriers: Map<string, Map<string, PlanEndpointInfo[]>>;
  /** networks each host carries (has at least one endpoint on). */
  carried: Map<string, Set<string>>;
}

const indexes = new WeakMap<PlanInput, OverlayIndex>();

function overlayIndex(input: PlanInput): OverlayIndex {
  let idx = indexes.get(input);
  if (idx) return idx;
  idx = { carriers: new Map(), carried: new Map() };
  // A VNF's interface is an endpoint of its host as far as forwarding goes (vnf-planner.ts).
  for (const ep of [...input.endpoints, ...vnfInterfaceEndpoints(input)]) {
    let byHost = idx.carriers.get(ep.network);
    if (!byHost) idx.carriers.set(ep.network, (byHost = new Map()));
    let list = byHost.get(ep.host);
    if (!list) byHost.set(ep.host, (list = []));
    list.push(ep);
    let nets = idx.carried.get(ep.host);
    if (!nets) idx.carried.set(ep.host, (nets = new Set()));
    nets.add(ep.network);
  }
  indexes.set(input, idx);
  return idx;
}

const firewallPlanners = new WeakMap<PlanInput, FirewallPlanner>();

/**
 * The firewall planner of one input: compiled policies and peer sets are
 * shared by every host planned from it. `cache` (the hub's) carries
 * compiled policies over from the previous input; the first call for an
 * input decides which cache it uses.
 */
function firewallPlannerOf(input: PlanInput, cache?: CompiledPolicyCache): FirewallPlanner {
  let p = firewallPlanners.get(input);
  if (!p) firewallPlanners.set(input, (p = new FirewallPlanner(input.firewallPolicies ?? [], input.endpoints, cache)));
  return p;
}

/** The VTEP of a host, or undefined when its agent has not reported a usable underlay address. */
function vtepOf(input: PlanInput, host: string): string | undefined {
  const a = input.hosts[host]?.address;
  return a === undefined || a === '' ? undefined : a;
}

/**
 * Hosts carrying at least one network whose endpoints and flood entries are
 * left out of the other hosts' plans because they have no underlay address.
 * For the hub's log: the planner itself stays silent.
 */
export function hostsWithoutVtep(input: PlanInput): string[] {
  return [...overlayIndex(input).carried.keys()].filter((h) => vtepOf(input, h) === undefined).sort(compare);
}

/** Underlay addresses reported by more than one carrying host: their flood entries would collide. */
export function duplicateVteps(input: PlanInput): Array<{ vtep: string; hosts: string[] }> {
  const byVtep = new Map<string, string[]>();
  for (const h of [...overlayIndex(input).carried.keys()].sort(compare)) {
    const v = vtepOf(input, h);
    if (v === undefined) continue;
    byVtep.set(v, [...(byVtep.get(v) ?? []), h]);
  }
  return [...byVtep].filter(([, hosts]) => hosts.length > 1).map(([vtep, hosts]) => ({ vtep, hosts }));
}

/**
 * The overlay part of a host's plan, for every network, whether or not the
 * host carries it yet: one flood entry per OTHER carrying host with a VTEP
 * (head-end replication goes nowhere else, so a host that does not carry a
 * network receives no traffic of it), and every endpoint those hosts have on
 * the network. Planning networks the host does not carry lets its agent
 * program a network's entries the moment its first attach creates the VXLAN
 * device, instead of waiting for the controller to see that endpoint and
 * send a new plan (an ARP round-trip in between would be lost). The agent
 * programs a network's entries only while it carries the network.
 */
function planOverlay(input: PlanInput, host: string): { flood: PlanFloodEntry[]; remoteEndpoints: PlanRemoteEndpoint[] } {
  const idx = overlayIndex(input);
  const flood = new Map<string, PlanFloodEntry>();
  const remote: PlanRemoteEndpoint[] = [];
  for (const network of new Set(input.networks.map((n) => n.network.metadata.name))) {
    for (const [other, eps] of idx.carriers.get(network) ?? []) {
      if (other === host) continue;
      const vtep = vtepOf(input, other);
      if (vtep === undefined) continue;
      // Two hosts reporting one address would share a key; the first wins and the hub warns about the duplicate.
      const f: PlanFloodEntry = { network, host: other, vtep };
      if (!flood.has(floodKey(f))) flood.set(floodKey(f), f);
      for (const ep of eps) remote.push({ name: ep.name, network, ip: ep.ip, ...(ep.ip6 === undefined ? {} : { ip6: ep.ip6 }), mac: ep.mac, host: other, vtep });
    }
  }
  return {
    flood: [...flood.values()].sort((a, b) => compare(floodKey(a), floodKey(b))),
    remoteEndpoints: remote.sort((a, b) => compare(a.name, b.name)),
  };
}

/**
 * Every network is in every host's plan (any host may attach to any
 * network), and so are the overlay entries of every network (see
 * planOverlay). Blocks: the host's own. Reservations: every address inside the
 * host's blocks it must not hand out (network, gateway and broadcast
 * addresses, statics, declared endpoints, loans to other hosts: pending
 * until its agent confirms them) plus every confirmed reservation made for
 * this host elsewhere, so its agent can give that address to its owner.
 * Firewall policies: those applying to an endpoint of this host, with the
 * address sets they name (see firewall-planner); `compiled` reuses the
 * policies compiled for an earlier input (the hub plans every write).
 */
export function planHost(input: PlanInput, host: string, compiled?: CompiledPolicyCache): HostPlan {
  const underlay = input.hosts[host]?.underlayMtu;
  const networks = input.networks.map(({ network, vni }) => planNetwork(network, vni, underlay)).sort((a, b) => compare(a.name, b.name));
  const blocks: PlanBlock[] = input.blocks
    .filter((b) => b.host === host)
    .map((b) => ({ network: b.network, cidr: b.cidr }))
    .sort((a, b) => compare(blockKey(a), blockKey(b)));

  const reservations = new Map<string, PlanReservation>();
  const add = (r: PlanReservation) => reservations.set(reservationKey(r), r);
  const byName = new Map(input.networks.map((n) => [n.network.metadata.name, n.network]));
  for (const b of blocks) {
    const net = byName.get(b.network);
    if (!net) continue;
    const prefix = parseBlock(b.cidr);
    for (const s of systemAddresses(addressSpaceOf(net))) {
      if (prefixContains(prefix, s.ip)) add({ network: b.network, ip: intToIpv4(s.ip), owner: s.owner });
    }
    for (const r of input.reservations) {
      const ip = parseIp(r.ip);
      if (r.network !== b.network || ip === undefined || !prefixContains(prefix, ip)) continue;
      // Another host's loan this host has yet to confirm (ipam.ts): never its own reservation.
      add(r.pending && r.host !== host ? { network: r.network, ip: r.ip, owner: r.owner, pending: true } : { network: r.network, ip: r.ip, owner: r.owner });
    }
  }
  for (const r of input.reservations) {
    // A loan reaches the host it is for only once the block's owner confirmed it.
    if (r.host === host && !r.pending && byName.has(r.network)) add({ network: r.network, ip: r.ip, owner: r.owner });
  }
  return {
    host,
    revision: input.revision,
    networks,
    blocks,
    reservations: [...reservations.values()].sort((a, b) => compare(reservationKey(a), reservationKey(b))),
    ...planOverlay(input, host),
    ...firewallPlannerOf(input, compiled).planHost(host),
    ...planVnfs(input, host, networks),
  };
}

/** What turns `old` into `next`: upserts for new or changed entries, removals for vanished ones. */
export function diffPlans(old: HostPlan, next: HostPlan): PlanDelta {
  const oldNets = new Map(old.networks.map((n) => [n.name, n]));
  const nextNets = new Set(next.networks.map((n) => n.name));
  const oldBlocks = new Set(old.blocks.map(blockKey));
  const nextBlocks = new Set(next.blocks.map(blockKey));
  const oldRes = new Map(old.reservations.map((r) => [reservationKey(r), r]));
  const nextRes = new Set(next.reservations.map(reservationKey));
  const oldFlood = new Map(old.flood.map((f) => [floodKey(f), f]));
  const nextFlood = new Set(next.flood.map(floodKey));
  const oldRemote = new Map(old.remoteEndpoints.map((e) => [e.name, e]));
  const nextRemote = new Set(next.remoteEndpoints.map((e) => e.name));
  const oldPolicies = new Map(old.firewallPolicies.map((p) => [p.name, p]));
  const nextPolicies = new Set(next.firewallPolicies.map((p) => p.name));
  const oldSets = new Map(old.addressSets.map((s) => [s.name, s]));
  const nextSets = new Set(next.addressSets.map((s) => s.name));
  return {
    upsertNetworks: next.networks.filter((n) => !sameJson(oldNets.get(n.name), n)),
    removeNetworks: old.networks.filter((n) => !nextNets.has(n.name)).map((n) => n.name),
    upsertBlocks: next.blocks.filter((b) => !oldBlocks.has(blockKey(b))),
    removeBlocks: old.blocks.filter((b) => !nextBlocks.has(blockKey(b))),
    upsertReservations: next.reservations.filter((r) => !sameJson(oldRes.get(reservationKey(r)), r)),
    removeReservations: old.reservations.filter((r) => !nextRes.has(reservationKey(r))),
    upsertFlood: next.flood.filter((f) => !sameJson(oldFlood.get(floodKey(f)), f)),
    removeFlood: old.flood.filter((f) => !nextFlood.has(floodKey(f))),
    upsertRemoteEndpoints: next.remoteEndpoints.filter((e) => !sameJson(oldRemote.get(e.name), e)),
    removeRemoteEndpoints: old.remoteEndpoints.filter((e) => !nextRemote.has(e.name)).map((e) => e.name),
    upsertFirewallPolicies: next.firewallPolicies.filter((p) => !sameJson(oldPolicies.get(p.name), p)),
    removeFirewallPolicies: old.firewallPolicies.filter((p) => !nextPolicies.has(p.name)).map((p) => p.name),
    upsertAddressSets: next.addressSets.filter((s) => !sameJson(oldSets.get(s.name), s)),
    removeAddressSets: old.addressSets.filter((s) => !nextSets.has(s.name)).map((s) => s.name),
    ...diffVnfPlan(old, next),
  };
}
