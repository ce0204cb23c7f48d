// The VNF part of host plans, every kind alike. Pure; the host planner
// calls it.
//
// - spec.host's plan gets the VNF (PlanVnf): its interfaces (addresses from
//   its IPAM reservations, MACs derived from the names) and its kind's part
//   (the kind's planner entry, vnf-kinds.ts).
// - Every host's plan gets the routes through VNFs whose kind asks for
//   them (networkRoutes): see agents/endpoints/endpoint-routes.ts for why
//   routes and not the host namespace; and those through a firewall in
//   front of a router (vnf-chains.ts), with the routes that chain needs in
//   both VNFs' namespaces (PlanVnf.transitRoutes).
// - The overlay treats each interface like an endpoint of spec.host
//   (vnfInterfaceEndpoints): other hosts get its MAC behind spec.host's
//   VTEP, and flood entries towards spec.host for its networks.
import type { PlanNetwork } from '../../model/agent-protocol.js';
import { vnfHostVethName, vnfIfname, vnfInterfaceEndpointName, vnfMac, vnfNetnsName } from '../../model/vnf-names.js';
import { networkRouteKey, vnfKey, type PlanNetworkRoute, type PlanVnf, type PlanVnfInterface } from '../../model/vnf-protocol.js';
import type { VnfResource } from '../../model/vnf-resource.js';
import type { PlanEndpointInfo, PlanInput } from './host-planner.js';
import { chainNamespaceRoutes, chainNetworkRoutes } from './vnf-chains.js';
import { subnetsOf, vnfInterfacesOf, vnfKeyOf } from './vnf-interfaces.js';
import { vnfKindOf } from './vnf-kinds.js';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every VNF's interfaces as endpoints of its host, for the overlay of the other hosts. */
export function vnfInterfaceEndpoints(input: PlanInput): PlanEndpointInfo[] {
  const subnets = subnetsOf(input);
  return input.vnfs.flatMap((res) =>
    vnfInterfacesOf(res, subnets, input.reservations).map((i) => ({
      name: vnfInterfaceEndpointName(vnfKeyOf(res), i.network),
      network: i.network,
      host: res.spec.host,
      ip: i.ip,
      mac: vnfMac(vnfKeyOf(res), i.network),
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
  for (const res of [...input.vnfs].sort((a, b) => compare(vnfKey(vnfKeyOf(a)), vnfKey(vnfKeyOf(b))))) {
    const kind = vnfKindOf(res);
    if (!kind.networkRoutes) continue;
    for (const r of kind.networkRoutes(res, vnfInterfacesOf(res, subnets, input.reservations), subnets)) {
      const route: PlanNetworkRoute = { ...r, owner: vnfKey(vnfKeyOf(res)) };
      if (!routes.has(networkRouteKey(route))) routes.set(networkRouteKey(route), route);
    }
  }
  // Through a firewall, then a router (vnf-chains.ts): only where no VNF routes the destination itself.
  for (const route of chainNetworkRoutes(input)) if (!routes.has(networkRouteKey(route))) routes.set(networkRouteKey(route), route);
  return [...routes.values()].sort((a, b) => compare(networkRouteKey(a), networkRouteKey(b)));
}

/** A VNF as its host runs it; `networks`: the host's planned networks (MTU and prefix length as its bridges have them). */
function planVnf(res: VnfResource, input: PlanInput, networks: readonly PlanNetwork[]): PlanVnf {
  const key = vnfKeyOf(res);
  const byName = new Map(networks.map((n) => [n.name, n]));
  const subnets = subnetsOf(input);
  const interfaces: PlanVnfInterface[] = [];
  for (const i of vnfInterfacesOf(res, subnets, input.reservations)) {
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
  const vnf: PlanVnf = {
    kind: res.kind,
    name: res.metadata.name,
    generation: res.metadata.generation ?? 1,
    netns: vnfNetnsName(res.spec.host, key),
    interfaces,
    spec: vnfKindOf(res).planSpec(res, input, subnets),
  };
  const transit = chainNamespaceRoutes(input, key);
  if (transit.length > 0) vnf.transitRoutes = transit;
  return vnf;
}

/** The VNF fields of one host's plan. */
export function planVnfs(input: PlanInput, host: string, networks: readonly PlanNetwork[]): { vnfs: PlanVnf[]; networkRoutes: PlanNetworkRoute[] } {
  const mine = input.vnfs.filter((res) => res.spec.host === host).sort((a, b) => compare(vnfKey(vnfKeyOf(a)), vnfKey(vnfKeyOf(b))));
  return { vnfs: mine.map((res) => planVnf(res, input, networks)), networkRoutes: planNetworkRoutes(input) };
}
