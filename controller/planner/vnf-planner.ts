// The VNF part of host plans, every kind alike. Pure; the host planner
// calls it.
//
// - spec.host's plan gets the VNF (PlanVnf): its interfaces (addresses from
//   its IPAM reservations, MACs derived from the names) and its kind's part
//   (the kind's planner entry, vnf-kinds.ts).
// - Every host's plan gets the routes through VNFs whose kind asks for
//   them (networkRoutes): see agents/endpoints/endpoint-routes.ts for why
//   routes and not the host namespace.
// - The overlay treats each interface like an endpoint of spec.host
//   (vnfInterfaceEndpoints): other hosts get its MAC behind spec.host's
//   VTEP, and flood entries towards spec.host for its networks.
import type { PlanNetwork } from '../../model/agent-protocol.js';
import { vnfAddressOwner, vnfHostVethName, vnfIfname, vnfInterfaceEndpointName, vnfMac, vnfNetnsName } from '../../model/vnf-names.js';
import { networkRouteKey, vnfKey, type PlanNetworkRoute, type PlanVnf, type PlanVnfInterface, type VnfKey } from '../../model/vnf-protocol.js';
import { vnfAttachments, type VnfResource } from '../../model/vnf-resource.js';
import type { ReservationRow } from '../store/store.js';
import type { PlanEndpointInfo, PlanInput } from './host-planner.js';
import type { VnfInterfaceAddress } from './vnf-kind.js';
import { vnfKindOf } from './vnf-kinds.js';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const keyOf = (res: VnfResource): VnfKey => ({ kind: res.kind, name: res.metadata.name });

/** network -> the VNF's address on it, from its reservations; a loan another host has not confirmed yet is no address yet. */
export function vnfAddresses(vnf: VnfKey, reservations: readonly ReservationRow[]): Map<string, string> {
  const owner = vnfAddressOwner(vnf);
  return new Map(reservations.filter((r) => r.owner === owner && !r.pending).map((r) => [r.network, r.ip]));
}

/** The VNF's interfaces that can exist: the network is planned and the VNF has an address on it. */
function interfacesOf(res: VnfResource, subnets: ReadonlyMap<string, string>, reservations: readonly ReservationRow[]): VnfInterfaceAddress[] {
  const addresses = vnfAddresses(keyOf(res), reservations);
  const out: VnfInterfaceAddress[] = [];
  for (const { network } of vnfAttachments(res)) {
    const ip = addresses.get(network);
    if (ip !== undefined && subnets.has(network)) out.push({ network, ip });
  }
  return out;
}

/** Every network's subnet by name; once per planning input (every host's plan and every VNF read it). */
function subnetsOf(input: PlanInput): ReadonlyMap<string, string> {
  let subnets = subnetCache.get(input);
  if (!subnets) subnetCache.set(input, (subnets = new Map(input.networks.map(({ network }) => [network.metadata.name, network.spec.subnet]))));
  return subnets;
}

const subnetCache = new WeakMap<PlanInput, ReadonlyMap<string, string>>();

/** Every VNF's interfaces as endpoints of its host, for the overlay of the other hosts. */
export function vnfInterfaceEndpoints(input: PlanInput): PlanEndpointInfo[] {
  const subnets = subnetsOf(input);
  return input.vnfs.flatMap((res) =>
    interfacesOf(res, subnets, input.reservations).map((i) => ({
      name: vnfInterfaceEndpointName(keyOf(res), i.network),
      network: i.network,
      host: res.spec.host,
      ip: i.ip,
      mac: vnfMac(keyOf(res), i.network),
    })),
  );
}

/**
 * The routes through every VNF, for every host's plan. Two VNFs claiming
 * the same destination on one network: the first by kind/name wins.
 */
function planNetworkRoutes(input: PlanInput): PlanNetworkRoute[] {
  let cached = routeCache.get(input);
  if (!cached) routeCache.set(input, (cached = computeRoutes(input)));
  return cached;
}

/** Every host's plan has the same routes: computed once per planning input. */
const routeCache = new WeakMap<PlanInput, PlanNetworkRoute[]>();

function computeRoutes(input: PlanInput): PlanNetworkRoute[] {
  const subnets = subnetsOf(input);
  const routes = new Map<string, PlanNetworkRoute>();
  for (const res of [...input.vnfs].sort((a, b) => compare(vnfKey(keyOf(a)), vnfKey(keyOf(b))))) {
    const kind = vnfKindOf(res);
    if (!kind.networkRoutes) continue;
    for (const r of kind.networkRoutes(res, interfacesOf(res, subnets, input.reservations), subnets)) {
      const route: PlanNetworkRoute = { ...r, owner: vnfKey(keyOf(res)) };
      if (!routes.has(networkRouteKey(route))) routes.set(networkRouteKey(route), route);
    }
  }
  return [...routes.values()].sort((a, b) => compare(networkRouteKey(a), networkRouteKey(b)));
}

/** A VNF as its host runs it; `networks`: the host's planned networks (MTU and prefix length as its bridges have them). */
function planVnf(res: VnfResource, input: PlanInput, networks: readonly PlanNetwork[]): PlanVnf {
  const key = keyOf(res);
  const byName = new Map(networks.map((n) => [n.name, n]));
  const subnets = subnetsOf(input);
  const interfaces: PlanVnfInterface[] = [];
  for (const i of interfacesOf(res, subnets, input.reservations)) {
    const net = byName.get(i.network);
    if (!net) continue;
    interfaces.push({
      network: i.network,
      ip: i.ip,
      prefixLength: net.prefixLength,
      mac: vnfMac(key, i.network),
      mtu: net.mtu,
      hostIfname: vnfHostVethName(key, i.network),
      ifname: vnfIfname(i.network),
    });
  }
  return {
    kind: res.kind,
    name: res.metadata.name,
    generation: res.metadata.generation ?? 1,
    netns: vnfNetnsName(res.spec.host, key),
    interfaces,
    spec: vnfKindOf(res).planSpec(res, input, subnets),
  };
}

/** The VNF fields of one host's plan. */
export function planVnfs(input: PlanInput, host: string, networks: readonly PlanNetwork[]): { vnfs: PlanVnf[]; networkRoutes: PlanNetworkRoute[] } {
  const mine = input.vnfs.filter((res) => res.spec.host === host).sort((a, b) => compare(vnfKey(keyOf(a)), vnfKey(keyOf(b))));
  return { vnfs: mine.map((res) => planVnf(res, input, networks)), networkRoutes: planNetworkRoutes(input) };
}
