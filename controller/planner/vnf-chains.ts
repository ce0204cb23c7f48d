// A Firewall in front of a Router: traffic from the networks a firewall
// guards passes the firewall, then the router. Pure.
//
//   web ──┐                      ┌── red
//         Firewall fw ── transit ── Router edge ── outside
//   db ───┘   (guards web, db, transit)   (connects transit, red; external)
//
// The firewall owns routing between the networks it guards (its routes
// win, see router-planner.ts), and the router owns routing to what lies
// beyond them: its other connected networks, its static routes'
// destinations and, with a way out, the outside. A chain forms wherever a
// firewall and a router share a network (`transit` above; the first by name
// when they share several). The networks behind the firewall (guarded by
// it, not connected to the router: web, db) then get:
// - in their endpoints, the routes to what lies beyond the router, via the
//   firewall's address on their own network (so the firewall judges every
//   packet, under its rules, before the router sees it);
// - in the firewall's namespace, the same destinations via the router's
//   address on the shared network;
// - in the router's namespace, each network behind via the firewall's
//   address on the shared network, and (with a way out and snat) the
//   router translates their traffic on the way out like its own networks';
// - in the endpoints of the router's other connected networks (red), each
//   network behind via the router.
// A network a router connects itself is never behind a firewall of that
// router: it takes the router's routes directly.
import { ROUTER_HALF_DEFAULTS, type Router } from '../../model/router.js';
import type { Firewall } from '../../model/firewall-vnf.js';
import { vnfKey, type PlanNetworkRoute } from '../../model/vnf-protocol.js';
import type { PlanInput } from './host-planner.js';
import { subnetsOf, vnfInterfacesOf } from './vnf-interfaces.js';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface VnfChain {
  firewall: string;
  router: string;
  /** the network both sit on */
  shared: string;
  firewallIp: string;
  routerIp: string;
  /** networks guarded by the firewall and not connected to the router, with the firewall's address on each */
  behind: Array<{ network: string; subnet: string; firewallIp: string }>;
  /** what the router leads to past the shared network */
  beyond: string[];
  /** the router's other connected networks (not guarded by the firewall), with its address on each */
  routerSide: Array<{ network: string; routerIp: string }>;
}

/** A route in a VNF's own namespace. */
export interface VnfNamespaceRoute {
  dst: string;
  via: string;
}

function computeChains(input: PlanInput): VnfChain[] {
  const subnets = subnetsOf(input);
  const byName = (a: { metadata: { name: string } }, b: { metadata: { name: string } }) => compare(a.metadata.name, b.metadata.name);
  const firewalls = input.vnfs.filter((v): v is Firewall => v.kind === 'Firewall').sort(byName);
  const routers = input.vnfs.filter((v): v is Router => v.kind === 'Router').sort(byName);
  const chains: VnfChain[] = [];
  for (const fw of firewalls) {
    const fwAt = new Map(vnfInterfacesOf(fw, subnets, input.reservations).map((i) => [i.network, i.ip]));
    for (const router of routers) {
      const routerAt = new Map(vnfInterfacesOf(router, subnets, input.reservations).map((i) => [i.network, i.ip]));
      const shared = [...fwAt.keys()].filter((n) => routerAt.has(n)).sort(compare)[0];
      if (shared === undefined) continue;
      const behind = [...fwAt]
        .filter(([n]) => !routerAt.has(n))
        .map(([network, firewallIp]) => ({ network, subnet: subnets.get(network) as string, firewallIp }))
        .sort((a, b) => compare(a.network, b.network));
      if (behind.length === 0) continue;
      const routerSide = [...routerAt]
        .filter(([n]) => n !== shared && !fwAt.has(n))
        .map(([network, routerIp]) => ({ network, routerIp }))
        .sort((a, b) => compare(a.network, b.network));
      const beyond = [
        ...routerSide.map((r) => subnets.get(r.network) as string),
        ...(router.spec.routes ?? []).map((r) => r.to),
        ...(router.spec.external ? ROUTER_HALF_DEFAULTS : []),
      ];
      chains.push({ firewall: fw.metadata.name, router: router.metadata.name, shared, firewallIp: fwAt.get(shared) as string, routerIp: routerAt.get(shared) as string, behind, beyond: [...new Set(beyond)], routerSide });
    }
  }
  return chains;
}

/** Every chain of the planning input; once per input. */
export function vnfChains(input: PlanInput): VnfChain[] {
  let cached = chainCache.get(input);
  if (!cached) chainCache.set(input, (cached = computeChains(input)));
  return cached;
}

const chainCache = new WeakMap<PlanInput, VnfChain[]>();

/** The endpoints' routes the chains add (callers keep the VNFs' own routes first: those win). */
export function chainNetworkRoutes(input: PlanInput): PlanNetworkRoute[] {
  const out: PlanNetworkRoute[] = [];
  for (const c of vnfChains(input)) {
    const firewall = vnfKey({ kind: 'Firewall', name: c.firewall });
    const router = vnfKey({ kind: 'Router', name: c.router });
    for (const b of c.behind) for (const dst of c.beyond) out.push({ network: b.network, dst, via: b.firewallIp, owner: firewall });
    for (const r of c.routerSide) for (const b of c.behind) out.push({ network: r.network, dst: b.subnet, via: r.routerIp, owner: router });
  }
  return out;
}

/** The routes a VNF's own namespace gets from the chains it is part of; the first chain (by firewall, then router name) wins a destination. */
export function chainNamespaceRoutes(input: PlanInput, vnf: { kind: string; name: string }): VnfNamespaceRoute[] {
  const routes = new Map<string, string>();
  for (const c of vnfChains(input)) {
    if (vnf.kind === 'Firewall' && c.firewall === vnf.name) {
      for (const dst of c.beyond) if (!routes.has(dst)) routes.set(dst, c.routerIp);
    } else if (vnf.kind === 'Router' && c.router === vnf.name) {
      for (const b of c.behind) if (!routes.has(b.subnet)) routes.set(b.subnet, c.firewallIp);
    }
  }
  return [...routes].map(([dst, via]) => ({ dst, via })).sort((a, b) => compare(a.dst, b.dst));
}

/** The subnets behind firewalls in front of `router`: it translates them on the way out like its own networks'. */
export function subnetsBehindFirewalls(input: PlanInput, router: string): string[] {
  return [...new Set(vnfChains(input).filter((c) => c.router === router).flatMap((c) => c.behind.map((b) => b.subnet)))].sort(compare);
}

