// The Router VNF (kind `Router`): L3 between the networks it has an
// interface on, and optionally a way out of them (spec.external), running in
// its own namespace on spec.host.
//
// Semantics:
// - Every connected network reaches every other: the endpoints of each get
//   a route to the other networks' subnets via the router's address on
//   their own network (no configuration inside the workload).
// - spec.routes: static routes inside the router (`to` via `via`, `via` an
//   address on a connected network); the endpoints of every connected
//   network get a route to `to` via the router.
// - spec.external, mode host: the router reaches the outside through the
//   host's own routing (a veth to the host namespace, the "uplink"), and
//   traffic from the connected networks leaves with the host's address. The
//   endpoints get the two halves of the address space (0.0.0.0/1,
//   128.0.0.0/1) via the router, so their own default route through the
//   network's gateway stays and wins again when the router goes.
// - spec.external, mode interface: the router's own address on the segment
//   of a host interface (a macvlan in bridge mode on that interface, inside
//   the router's namespace), with a default route via external.gateway, like
//   a Neutron external network. With snat (the default) traffic from the
//   connected networks leaves with external.address; with snat: false it
//   leaves with its own addresses (the outside routes the connected
//   subnets back to external.address) and the router filters nothing.
// - spec.portForwards: a port is forwarded to an endpoint's port: in mode
//   host on the host's addresses, like Docker's `-p`; in mode interface on
//   external.address.
// - spec.floatingIPs (mode interface): 1:1 NAT of an extra address of the
//   external segment to an endpoint: what comes in for it goes to the
//   endpoint, what the endpoint sends out leaves with it. The router holds
//   each as an extra /32 address of its macvlan, so it answers ARP for it.
// - Not supported yet, and refused by validation rather than ignored:
//   snat: false in mode host (the host could not route replies back), IPv6.
//
// On the VNF platform (vnf-protocol.ts) a Router is a PlanVnf whose spec is
// a PlanRouterSpec; its driver is vnf/router/.
import { Type, type Static } from '@sinclair/typebox';
import { DNS_LABEL_PATTERN, objectMeta, resourceSchema, type Resource } from './meta.js';
import { isIPv4 } from './ipv4-text.js';
import { IFNAME_PATTERN } from './name-patterns.js';
import { VnfNetworkAttachment, vnfConnectionsSchema, vnfHostField, vnfStatusSchema } from './vnf-resource.js';

export const MAX_ROUTER_INTERFACES = 8;
export const MAX_ROUTER_ROUTES = 64;
export const MAX_PORT_FORWARDS = 256;
export const MAX_FLOATING_IPS = 64;
export const ROUTER_PROTOCOLS = ['tcp', 'udp'] as const;
export type RouterProtocol = (typeof ROUTER_PROTOCOLS)[number];
export const EXTERNAL_MODES = ['host', 'interface'] as const;
export type ExternalMode = (typeof EXTERNAL_MODES)[number];
/** The fields of external that mode interface needs (and mode host refuses). */
export const INTERFACE_MODE_FIELDS = ['interface', 'address', 'gateway'] as const;

const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });

const RouterExternal = Type.Object(
  {
    mode: Type.Optional(
      Type.Union(
        EXTERNAL_MODES.map((m) => Type.Literal(m)),
        { description: "host (default): out through the host's own routing, with the host's address. interface: the router's own address on a host interface's segment (a macvlan)." },
      ),
    ),
    snat: Type.Optional(Type.Boolean({ description: "Traffic from the connected networks leaves with the external address (default true; mode host needs it). false: it leaves with its own addresses, and the outside must route the connected subnets to the router." })),
    interface: Type.Optional(Type.String({ pattern: IFNAME_PATTERN, description: "mode interface: the host interface whose segment the router joins, e.g. eth1 (it must exist on the router's host)." })),
    address: Type.Optional(Type.String({ description: "mode interface: the router's address on that segment with the segment's prefix length, e.g. 203.0.113.10/24." })),
    gateway: Type.Optional(Type.String({ description: "mode interface: the segment's gateway, inside address's subnet (the router's default route)." })),
  },
  { additionalProperties: false },
);
export type RouterExternal = Static<typeof RouterExternal>;

const RouterRoute = Type.Object(
  {
    to: Type.String({ description: 'Destination, an IPv4 CIDR.' }),
    via: Type.String({ description: 'Next hop: an IPv4 address on one of the connected networks.' }),
  },
  { additionalProperties: false },
);
export type RouterRoute = Static<typeof RouterRoute>;

const PortForward = Type.Object(
  {
    protocol: Type.Union(
      ROUTER_PROTOCOLS.map((p) => Type.Literal(p)),
      { description: 'tcp or udp.' },
    ),
    port: Port('The published port, on the external address (mode host: on the host\'s addresses).'),
    to: Type.Object(
      {
        endpoint: Type.String({ description: 'An endpoint on one of the connected networks.' }),
        port: Type.Optional(Port('The endpoint\'s port (default: the published port).')),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PortForward = Static<typeof PortForward>;

const FloatingIp = Type.Object(
  {
    address: Type.String({ description: 'An extra IPv4 address of the external segment (mode interface), not the router\'s own.' }),
    endpoint: Type.String({ description: 'The endpoint it maps to, 1:1.' }),
  },
  { additionalProperties: false },
);

export const RouterSpec = Type.Object(
  {
    host: vnfHostField('router'),
    interfaces: Type.Array(VnfNetworkAttachment('router'), {
      minItems: 1,
      maxItems: MAX_ROUTER_INTERFACES,
      description: `The networks it connects (1-${MAX_ROUTER_INTERFACES}), each at most once.`,
    }),
    external: Type.Optional(RouterExternal),
    routes: Type.Optional(Type.Array(RouterRoute, { maxItems: MAX_ROUTER_ROUTES, description: 'Static routes inside the router.' })),
    portForwards: Type.Optional(Type.Array(PortForward, { maxItems: MAX_PORT_FORWARDS, description: 'Published ports: external address:port -> endpoint:port (needs external).' })),
    floatingIPs: Type.Optional(Type.Array(FloatingIp, { maxItems: MAX_FLOATING_IPS, description: 'mode interface: 1:1 NAT of an extra external address to an endpoint.' })),
  },
  { additionalProperties: false },
);
export type RouterSpec = Static<typeof RouterSpec>;

export const RouterCounter = Type.Object(
  {
    rule: Type.String({
      description: '"snat", "forward <protocol>/<port>" for a port forward, "floating <address>" for a floating IP (connections in and out); "traffic in" and "traffic out": what crossed the way out.',
    }),
    connections: Type.Optional(Type.Integer({ minimum: 0, description: 'NAT rules: connections translated since the router\'s table was last loaded.' })),
    packets: Type.Optional(Type.Integer({ minimum: 0, description: 'traffic rows: packets since the router\'s table was last loaded.' })),
    bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'traffic rows: bytes since the router\'s table was last loaded.' })),
  },
  { additionalProperties: false },
);
export type RouterCounter = Static<typeof RouterCounter>;

export const RouterConnection = Type.Object(
  {
    protocol: Type.Union(ROUTER_PROTOCOLS.map((p) => Type.Literal(p))),
    port: Port('The published port it came in on.'),
    client: Type.String({ description: 'Where it comes from (address:port), as the router sees it.' }),
    endpoint: Type.String({ description: 'The endpoint address:port it goes to.' }),
    state: Type.Optional(Type.String({ description: 'TCP: the state conntrack tracks (established, time-wait, ...).' })),
  },
  { additionalProperties: false },
);
export type RouterConnection = Static<typeof RouterConnection>;

const RouterStatus = Type.Composite(
  [
    vnfStatusSchema('router', RouterCounter, 'NAT counters: new connections translated, per rule.'),
    Type.Object({ connections: Type.Optional(vnfConnectionsSchema(RouterConnection, "Connections through the port forwards now, from conntrack in the router's namespace.")) }),
  ],
  { additionalProperties: false },
);
export type RouterStatus = Static<typeof RouterStatus>;

export const RouterSchema = resourceSchema(
  'Router',
  objectMeta(DNS_LABEL_PATTERN, 63),
  RouterSpec,
  RouterStatus,
  'L3 between networks and out of them (NAT, static routes, port forwards, floating IPs): a namespace on spec.host with an interface on each connected network.',
);
export type Router = Resource<'Router', RouterSpec, RouterStatus>;

/**
 * The halves of the IPv4 space: the routes out through a router with
 * external that its networks' endpoints get. Longer than the default route,
 * so they win over it while it stays (and serves again when they go).
 */
export const ROUTER_HALF_DEFAULTS = ['0.0.0.0/1', '128.0.0.0/1'] as const;

/** A port forward as the router enforces it: the endpoint resolved to its address. */
export interface PlanPortForward {
  protocol: RouterProtocol;
  port: number;
  toIp: string;
  toPort: number;
}

/** The router's way to the host namespace (mode host): a /30 of link-local addresses, one per router on a host. */
export interface PlanUplink {
  /** the host side's address (the router's default gateway) */
  hostIp: string;
  /** the router's address on it (what the host masquerades, and where published ports go) */
  ip: string;
  prefixLength: number;
}

/** A floating IP as the router enforces it: the endpoint resolved to its address. */
export interface PlanFloatingIp {
  address: string;
  toIp: string;
}

/** The router's way out in mode interface: its own address on a host interface's segment. */
export interface PlanExternalInterface {
  /** the host interface the router's macvlan sits on */
  interface: string;
  /** the router's address on the segment, and the segment's prefix length */
  ip: string;
  prefixLength: number;
  gateway: string;
  snat: boolean;
  /** floating IPs whose endpoint exists; sorted by address */
  floatingIPs: PlanFloatingIp[];
}

/** The Router's part of its PlanVnf (PlanVnf<PlanRouterSpec>). */
export interface PlanRouterSpec {
  /** what the router translates on the way out: the connected networks' subnets, then those behind a firewall in front of it (controller/planner/vnf-chains.ts) */
  subnets: string[];
  routes: Array<{ to: string; via: string }>;
  /** mode host only; absent: no way out through the host */
  uplink?: PlanUplink;
  /** mode interface only; absent: no way out on a segment of its own */
  external?: PlanExternalInterface;
  /** port forwards whose endpoint exists; sorted by protocol and port */
  portForwards: PlanPortForward[];
}

/** The mode of a router's way out, or undefined when it has none. */
export function externalMode(spec: Pick<RouterSpec, 'external'>): ExternalMode | undefined {
  return spec.external === undefined ? undefined : (spec.external.mode ?? 'host');
}

/** "203.0.113.10/24" -> its address and prefix length; undefined when it is not an IPv4 address with a length. */
export function parseAddressWithLength(text: string): { ip: string; prefixLength: number } | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1] as string) || Number(m[2]) > 32) return undefined;
  return { ip: m[1] as string, prefixLength: Number(m[2]) };
}
