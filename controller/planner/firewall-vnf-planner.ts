// The Firewall VNF part of host plans. Pure; the host planner calls it.
//
// - spec.host's plan gets the firewall (PlanFirewallVnf): its interfaces
//   (addresses from the firewall's IPAM reservations, MACs derived from the
//   names), its rules compiled (ports resolved, peers as CIDRs or address
//   sets of endpoints) and the address sets they name.
// - Every host's plan gets the routes through it (networkRoutes): the
//   endpoints of each guarded network reach the other guarded networks'
//   subnets via the firewall's address on their own network. See
//   agents/vnf/endpoint-routes.ts for why routes and not the host namespace.
// - The overlay treats each interface like an endpoint of spec.host
//   (firewallInterfaceEndpoints): other hosts get its MAC behind spec.host's
//   VTEP, and flood entries towards spec.host for the guarded networks.
//
// Peers: a CIDR is itself; a peer naming only a network stands for the
// network's subnet (everything on the segment the firewall guards, with no
// window for endpoints that attached a moment ago); a selector (with or
// without a network) for the addresses of the matching endpoints, on any
// host, like a FirewallPolicy's peers.
import type { PlanAddressSet, PlanNetwork, PlanPeer } from '../../model/agent-protocol.js';
import type { FirewallAction, FirewallPeer, FirewallProtocol } from '../../model/firewall.js';
import { DEFAULT_FIREWALL_ACTION, type Firewall } from '../../model/firewall-vnf.js';
import { firewallAddressOwner, firewallHostVethName, firewallIfname, firewallMac, firewallNetnsName } from '../../model/vnf-names.js';
import { networkRouteKey, type PlanFirewallInterface, type PlanFirewallVnf, type PlanNetworkRoute, type PlanPerimeterRule } from '../../model/vnf-protocol.js';
import type { ReservationRow } from '../store/store.js';
import { matchesSelector, peerSetName, resolvePorts } from './firewall-planner.js';
import type { PlanEndpointInfo, PlanInput } from './host-planner.js';

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Name of a firewall interface where the overlay lists endpoints (no endpoint name can contain ':' or '/'). */
export function firewallInterfaceEndpointName(firewall: string, network: string): string {
  return `firewall:${firewall}/${network}`;
}

/** network -> the firewall's address on it, from its reservations. */
export function firewallAddresses(firewall: string, reservations: readonly ReservationRow[]): Map<string, string> {
  const owner = firewallAddressOwner(firewall);
  return new Map(reservations.filter((r) => r.owner === owner).map((r) => [r.network, r.ip]));
}

/** The firewall's interfaces that can exist: the network is planned and the firewall has an address on it. */
function interfacesOf(fw: Firewall, subnets: ReadonlyMap<string, string>, reservations: readonly ReservationRow[]): Array<{ network: string; ip: string }> {
  const addresses = firewallAddresses(fw.metadata.name, reservations);
  const out: Array<{ network: string; ip: string }> = [];
  for (const { network } of fw.spec.networks) {
    const ip = addresses.get(network);
    if (ip !== undefined && subnets.has(network)) out.push({ network, ip });
  }
  return out;
}

const subnetsOf = (input: PlanInput) => new Map(input.networks.map(({ network }) => [network.metadata.name, network.spec.subnet]));

/** Every firewall's interfaces as endpoints of its host, for the overlay of the other hosts. */
export function firewallInterfaceEndpoints(input: PlanInput): PlanEndpointInfo[] {
  const subnets = subnetsOf(input);
  return (input.firewalls ?? []).flatMap((fw) =>
    interfacesOf(fw, subnets, input.reservations).map((i) => ({
      name: firewallInterfaceEndpointName(fw.metadata.name, i.network),
      network: i.network,
      host: fw.spec.host,
      ip: i.ip,
      mac: firewallMac(fw.metadata.name, i.network),
    })),
  );
}

/**
 * The routes through every firewall, for every host's plan. Two firewalls
 * claiming the same destination on one network: the first by name wins
 * (the other then filters nothing between those two networks).
 */
export function planNetworkRoutes(input: PlanInput): PlanNetworkRoute[] {
  let cached = routeCache.get(input);
  if (!cached) routeCache.set(input, (cached = computeRoutes(input)));
  return cached;
}

/** Every host's plan has the same routes: computed once per planning input. */
const routeCache = new WeakMap<PlanInput, PlanNetworkRoute[]>();

function computeRoutes(input: PlanInput): PlanNetworkRoute[] {
  const subnets = subnetsOf(input);
  const routes = new Map<string, PlanNetworkRoute>();
  for (const fw of [...(input.firewalls ?? [])].sort((a, b) => compare(a.metadata.name, b.metadata.name))) {
    const ifaces = interfacesOf(fw, subnets, input.reservations);
    for (const from of ifaces) {
      for (const to of ifaces) {
        if (to.network === from.network) continue;
        const r: PlanNetworkRoute = { network: from.network, dst: subnets.get(to.network) as string, via: from.ip, owner: fw.metadata.name };
        if (!routes.has(networkRouteKey(r))) routes.set(networkRouteKey(r), r);
      }
    }
  }
  return [...routes.values()].sort((a, b) => compare(networkRouteKey(a), networkRouteKey(b)));
}

/** Peers compiled, and the address sets they name filled in `sets`. */
function compilePeers(peers: FirewallPeer[] | undefined, input: PlanInput, subnets: ReadonlyMap<string, string>, sets: Map<string, PlanAddressSet>): PlanPeer[] | undefined {
  if (peers === undefined || peers.length === 0) return undefined;
  const unique = new Map<string, PlanPeer>();
  for (const p of peers) {
    let peer: PlanPeer;
    if (p.cidr !== undefined) {
      peer = p.except !== undefined && p.except.length > 0 ? { cidr: p.cidr, except: [...p.except] } : { cidr: p.cidr };
    } else if (p.selector === undefined && p.network !== undefined && subnets.has(p.network)) {
      peer = { cidr: subnets.get(p.network) as string };
    } else {
      const name = peerSetName(p.network, p.selector);
      if (!sets.has(name)) {
        const ips = input.endpoints.filter((ep) => (p.network === undefined || ep.network === p.network) && matchesSelector(p.selector, ep.labels)).map((ep) => ep.ip);
        sets.set(name, { name, addresses: [...new Set(ips)].sort(compareIpv4) });
      }
      peer = { set: name };
    }
    unique.set(JSON.stringify(peer), peer);
  }
  return [...unique.values()];
}

function compareIpv4(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

export function compilePerimeterRules(fw: Firewall, input: PlanInput): { rules: PlanPerimeterRule[]; addressSets: PlanAddressSet[] } {
  const subnets = subnetsOf(input);
  const sets = new Map<string, PlanAddressSet>();
  const rules = (fw.spec.rules ?? []).map((r, i): PlanPerimeterRule => {
    const out: PlanPerimeterRule = { name: r.name ?? String(i), action: r.action as FirewallAction, protocol: (r.protocol ?? 'any') as FirewallProtocol };
    if (r.log === true) out.log = true;
    const from = compilePeers(r.from, input, subnets, sets);
    const to = compilePeers(r.to, input, subnets, sets);
    if (from) out.from = from;
    if (to) out.to = to;
    const ports = resolvePorts(r.ports, fw.spec.portSets);
    if (ports !== undefined) out.ports = ports;
    return out;
  });
  return { rules, addressSets: [...sets.values()].sort((a, b) => compare(a.name, b.name)) };
}

/** A firewall as its host runs it; `networks`: the host's planned networks (MTU and prefix length as its bridges have them). */
export function planFirewallVnf(fw: Firewall, input: PlanInput, networks: readonly PlanNetwork[]): PlanFirewallVnf {
  const name = fw.metadata.name;
  const byName = new Map(networks.map((n) => [n.name, n]));
  const interfaces: PlanFirewallInterface[] = [];
  for (const i of interfacesOf(fw, subnetsOf(input), input.reservations)) {
    const net = byName.get(i.network);
    if (!net) continue;
    interfaces.push({
      network: i.network,
      ip: i.ip,
      prefixLength: net.prefixLength,
      mac: firewallMac(name, i.network),
      mtu: net.mtu,
      hostIfname: firewallHostVethName(name, i.network),
      ifname: firewallIfname(i.network),
    });
  }
  return {
    name,
    generation: fw.metadata.generation ?? 1,
    netns: firewallNetnsName(fw.spec.host, name),
    interfaces,
    defaultAction: fw.spec.defaultAction ?? DEFAULT_FIREWALL_ACTION,
    ...compilePerimeterRules(fw, input),
  };
}

/** The VNF fields of one host's plan; absent when empty (see model/vnf-plan-delta.ts). */
export function planFirewallVnfs(input: PlanInput, host: string, networks: readonly PlanNetwork[]): { firewallVnfs?: PlanFirewallVnf[]; networkRoutes?: PlanNetworkRoute[] } {
  const out: { firewallVnfs?: PlanFirewallVnf[]; networkRoutes?: PlanNetworkRoute[] } = {};
  const mine = (input.firewalls ?? []).filter((fw) => fw.spec.host === host).sort((a, b) => compare(a.metadata.name, b.metadata.name));
  if (mine.length > 0) out.firewallVnfs = mine.map((fw) => planFirewallVnf(fw, input, networks));
  const routes = planNetworkRoutes(input);
  if (routes.length > 0) out.networkRoutes = routes;
  return out;
}
