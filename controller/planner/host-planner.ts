// The planner: store snapshot -> what one host must realise (HostPlan), and
// the smallest change between two plans (PlanDelta). Pure functions; the hub
// feeds them and sends the results.
import ipaddr from 'ipaddr.js';
import type { HostPlan, PlanBlock, PlanDelta, PlanNetwork, PlanReservation } from '../../model/agent-protocol.js';
import { intToIpv4, prefixContains } from '../../model/ip.js';
import { bridgeName } from '../../model/kernel-names.js';
import type { Network } from '../../model/kinds.js';
import { blockKey, reservationKey } from '../../model/plan-delta.js';
import { addressSpaceOf, parseBlock, parseIp, systemAddresses } from '../ipam/address-space.js';
import type { BlockRow, ReservationRow } from '../store/store.js';
import { sameJson } from '../util/canonical-json.js';

export const DEFAULT_UNDERLAY_MTU = 1500;
/** Outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8. */
export const VXLAN_OVERHEAD = 50;

export interface PlanInput {
  revision: number;
  networks: Array<{ network: Network; vni: number }>;
  hosts: Record<string, { underlayMtu?: number } | undefined>;
  blocks: BlockRow[];
  reservations: ReservationRow[];
}

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
  };
  if (net.spec.subnet6 !== undefined) {
    p.subnet6 = net.spec.subnet6;
    p.gateway6 = net.spec.gateway6 ?? defaultGateway6(net.spec.subnet6);
  }
  return p;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Every network is in every host's plan (any host may attach to any
 * network). Blocks: the host's own. Reservations: every address inside the
 * host's blocks it must not hand out (network, gateway and broadcast
 * addresses, statics, declared endpoints) plus every reservation made for
 * this host elsewhere, so its agent can give that address to its owner.
 */
export function planHost(input: PlanInput, host: string): HostPlan {
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
      if (r.network === b.network && ip !== undefined && prefixContains(prefix, ip)) add({ network: r.network, ip: r.ip, owner: r.owner });
    }
  }
  for (const r of input.reservations) {
    if (r.host === host && byName.has(r.network)) add({ network: r.network, ip: r.ip, owner: r.owner });
  }
  return {
    host,
    revision: input.revision,
    networks,
    blocks,
    reservations: [...reservations.values()].sort((a, b) => compare(reservationKey(a), reservationKey(b))),
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
  return {
    upsertNetworks: next.networks.filter((n) => !sameJson(oldNets.get(n.name), n)),
    removeNetworks: old.networks.filter((n) => !nextNets.has(n.name)).map((n) => n.name),
    upsertBlocks: next.blocks.filter((b) => !oldBlocks.has(blockKey(b))),
    removeBlocks: old.blocks.filter((b) => !nextBlocks.has(blockKey(b))),
    upsertReservations: next.reservations.filter((r) => !sameJson(oldRes.get(reservationKey(r)), r)),
    removeReservations: old.reservations.filter((r) => !nextRes.has(reservationKey(r))),
  };
}
