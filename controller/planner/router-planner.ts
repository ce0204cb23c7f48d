// The Router's planner entry (vnf-kind.ts): its part of the PlanVnf (the
// connected subnets, static routes, the uplink of mode host or the external
// segment of mode interface, port forwards and floating IPs with their
// endpoints resolved) and the routes through it that the endpoints of its
// networks get.
//
// Routes for the endpoints of each connected network:
// - every other connected network's subnet, via the router's address on
//   their own network;
// - every static route's destination, via the router (or straight via the
//   route's next hop for the network that next hop is on: no hairpin);
// - with external: 0.0.0.0/1 and 128.0.0.0/1 via the router. Together they
//   cover everything the default route does and win over it (longer
//   prefixes), so the endpoint's own default route through the network's
//   gateway stays as attach made it, and serves again as soon as the router
//   goes: nothing to restore.
//
// When a Firewall and a Router would give the same network a route to the
// same destination, the Firewall's wins (vnf-planner.ts orders VNFs by
// kind/name, and "Firewall" sorts first): a router connecting two networks a
// firewall guards must not open a path around the firewall. A firewall in
// front of a router (they share a network) routes the networks behind it
// through the router: vnf-chains.ts.
//
// The uplink (mode host) is a /30 of link-local addresses between the
// router's namespace and its host's namespace, one per router on a host:
// the slot is a hash of host and name in UPLINK_RANGE, probing onwards past
// slots taken by routers created earlier on the same host, so a router
// keeps its addresses (and its translated connections) when others come and
// go, unless the one it collided with is deleted.
import { fnv1a32 } from '../../model/kernel-names.js';
import { intToIpv4, ipv4ToInt, parsePrefix4, prefixContains } from '../../model/ip.js';
import type { PlanNetworkRoute } from '../../model/vnf-protocol.js';
import {
  ROUTER_HALF_DEFAULTS,
  externalMode,
  parseAddressWithLength,
  type PlanExternalInterface,
  type PlanFloatingIp,
  type PlanPortForward,
  type PlanRouterSpec,
  type PlanUplink,
  type Router,
} from '../../model/router.js';
import type { PlanInput } from './host-planner.js';
import { subnetsBehindFirewalls } from './vnf-chains.js';
import type { VnfInterfaceAddress, VnfKind } from './vnf-kind.js';

/** Link-local, below 169.254.128.0 (where cloud metadata services answer, 169.254.169.254). */
export const UPLINK_RANGE = '169.254.0.0/17';
const UPLINK_PREFIX_LENGTH = 30;
const UPLINK_SLOTS = 1 << (32 - 17 - (32 - UPLINK_PREFIX_LENGTH));

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const hasExternal = (r: Router) => r.spec.external !== undefined;

function uplinkOfSlot(slot: number): PlanUplink {
  const base = ipv4ToInt(UPLINK_RANGE.split('/')[0] as string) + slot * 4;
  return { hostIp: intToIpv4(base + 1), ip: intToIpv4(base + 2), prefixLength: UPLINK_PREFIX_LENGTH };
}

/** Every router with external mode host on each host -> its uplink, by router name; once per planning input. */
function uplinksOf(input: PlanInput): ReadonlyMap<string, PlanUplink> {
  let cached = uplinkCache.get(input);
  if (cached) return cached;
  cached = new Map();
  const byHost = new Map<string, Router[]>();
  for (const v of input.vnfs) {
    if (v.kind !== 'Router' || externalMode(v.spec) !== 'host') continue;
    byHost.set(v.spec.host, [...(byHost.get(v.spec.host) ?? []), v]);
  }
  for (const [host, routers] of byHost) {
    const taken = new Set<number>();
    const order = routers.sort((a, b) => compare(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') || compare(a.metadata.name, b.metadata.name));
    for (const r of order) {
      let slot = fnv1a32(`uplink/${host}/${r.metadata.name}`) % UPLINK_SLOTS;
      while (taken.has(slot)) slot = (slot + 1) % UPLINK_SLOTS;
      taken.add(slot);
      cached.set(r.metadata.name, uplinkOfSlot(slot));
    }
  }
  uplinkCache.set(input, cached);
  return cached;
}

const uplinkCache = new WeakMap<PlanInput, Map<string, PlanUplink>>();

function connectedSubnets(r: Router, subnets: ReadonlyMap<string, string>): string[] {
  return r.spec.interfaces.flatMap((i) => (subnets.has(i.network) ? [subnets.get(i.network) as string] : []));
}

/** The address of an endpoint attached on a connected network (the writer checked that; an endpoint gone since has none). */
function endpointIp(r: Router, input: PlanInput, name: string): string | undefined {
  return input.endpoints.find((e) => e.name === name && r.spec.interfaces.some((i) => i.network === e.network))?.ip;
}

/** Port forwards whose endpoint is attached on a connected network (an endpoint gone since is left out). */
function portForwardsOf(r: Router, input: PlanInput): PlanPortForward[] {
  const out: PlanPortForward[] = [];
  for (const f of r.spec.portForwards ?? []) {
    const toIp = endpointIp(r, input, f.to.endpoint);
    if (toIp !== undefined) out.push({ protocol: f.protocol, port: f.port, toIp, toPort: f.to.port ?? f.port });
  }
  return out.sort((a, b) => compare(a.protocol, b.protocol) || a.port - b.port);
}

/** Mode interface's segment, with the floating IPs whose endpoint is attached on a connected network. */
function externalInterfaceOf(r: Router, input: PlanInput): PlanExternalInterface | undefined {
  const e = r.spec.external;
  const own = e?.address === undefined ? undefined : parseAddressWithLength(e.address);
  if (e?.interface === undefined || e.gateway === undefined || own === undefined) return undefined;
  const floatingIPs: PlanFloatingIp[] = [];
  for (const f of r.spec.floatingIPs ?? []) {
    const toIp = endpointIp(r, input, f.endpoint);
    if (toIp !== undefined) floatingIPs.push({ address: f.address, toIp });
  }
  floatingIPs.sort((a, b) => ipv4ToInt(a.address) - ipv4ToInt(b.address));
  return { interface: e.interface, ip: own.ip, prefixLength: own.prefixLength, gateway: e.gateway, snat: e.snat ?? true, floatingIPs };
}

export function planRouterSpec(r: Router, input: PlanInput, subnets: ReadonlyMap<string, string>): PlanRouterSpec {
  const spec: PlanRouterSpec = {
    subnets: [...connectedSubnets(r, subnets), ...subnetsBehindFirewalls(input, r.metadata.name)],
    routes: (r.spec.routes ?? []).map((x) => ({ to: x.to, via: x.via })),
    portForwards: [],
  };
  const mode = externalMode(r.spec);
  const uplink = mode === 'host' ? uplinksOf(input).get(r.metadata.name) : undefined;
  const external = mode === 'interface' ? externalInterfaceOf(r, input) : undefined;
  if (uplink) spec.uplink = uplink;
  if (external) spec.external = external;
  if (uplink || external) spec.portForwards = portForwardsOf(r, input);
  return spec;
}

/** Is `ip` inside `cidr`? */
function within(cidr: string | undefined, ip: string): boolean {
  const p = cidr === undefined ? undefined : parsePrefix4(cidr);
  return p !== undefined && 'prefix' in p && prefixContains(p.prefix, ipv4ToInt(ip));
}

export function routerNetworkRoutes(r: Router, interfaces: readonly VnfInterfaceAddress[], subnets: ReadonlyMap<string, string>): Array<Omit<PlanNetworkRoute, 'owner'>> {
  const out: Array<Omit<PlanNetworkRoute, 'owner'>> = [];
  for (const from of interfaces) {
    for (const to of interfaces) if (to.network !== from.network) out.push({ network: from.network, dst: subnets.get(to.network) as string, via: from.ip });
    for (const route of r.spec.routes ?? []) {
      out.push({ network: from.network, dst: route.to, via: within(subnets.get(from.network), route.via) ? route.via : from.ip });
    }
    if (hasExternal(r)) for (const dst of ROUTER_HALF_DEFAULTS) out.push({ network: from.network, dst, via: from.ip });
  }
  return out;
}

export const routerKind: VnfKind<Router> = {
  kind: 'Router',
  planSpec: planRouterSpec,
  networkRoutes: routerNetworkRoutes,
};
