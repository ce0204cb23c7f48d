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
// - spec.portForwards (mode host): a port on the host's addresses is
//   forwarded to an endpoint's port, like Docker's `-p`.
// - Not supported yet, and refused by validation rather than ignored:
//   external mode interface (and its interface/address/gateway),
//   floatingIPs, snat: false, IPv6.
//
// On the VNF platform (vnf-protocol.ts) a Router is a PlanVnf whose spec is
// a PlanRouterSpec; its driver is vnf/router/.
import { Type, type Static } from '@sinclair/typebox';
import { DNS_LABEL_PATTERN, objectMeta, resourceSchema, type Resource } from './meta.js';
import { VnfNetworkAttachment, vnfConnectionsSchema, vnfHostField, vnfStatusSchema } from './vnf-resource.js';

export const MAX_ROUTER_INTERFACES = 8;
export const MAX_ROUTER_ROUTES = 64;
export const MAX_PORT_FORWARDS = 256;
export const ROUTER_PROTOCOLS = ['tcp', 'udp'] as const;
export type RouterProtocol = (typeof ROUTER_PROTOCOLS)[number];
export const EXTERNAL_MODES = ['host', 'interface'] as const;
/** The modes this build implements; validation refuses the others with a clear message. */
export const SUPPORTED_EXTERNAL_MODES: ReadonlySet<string> = new Set(['host']);

const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });

const RouterExternal = Type.Object(
  {
    mode: Type.Optional(
      Type.Union(
        EXTERNAL_MODES.map((m) => Type.Literal(m)),
        { description: "host (default): out through the host's own routing, with the host's address. interface: the router's own address on a host interface's segment (not supported yet)." },
      ),
    ),
    snat: Type.Optional(Type.Boolean({ description: "Traffic from the connected networks leaves with the external address (default true; mode host needs it)." })),
    interface: Type.Optional(Type.String({ description: 'mode interface: the host interface whose segment the router joins (not supported yet).' })),
    address: Type.Optional(Type.String({ description: "mode interface: the router's address on that segment, CIDR (not supported yet)." })),
    gateway: Type.Optional(Type.String({ description: "mode interface: the segment's gateway (not supported yet)." })),
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
    address: Type.String({ description: 'An extra external address (mode interface; not supported yet).' }),
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
    floatingIPs: Type.Optional(Type.Array(FloatingIp, { description: 'mode interface: 1:1 NAT of an extra external address to an endpoint (not supported yet).' })),
  },
  { additionalProperties: false },
);
export type RouterSpec = Static<typeof RouterSpec>;

export const RouterCounter = Type.Object(
  {
    rule: Type.String({ description: '"snat", or "forward <protocol>/<port>" for a port forward.' }),
    connections: Type.Integer({ minimum: 0, description: 'Connections translated since the rule was loaded.' }),
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
  'L3 between networks and out of them (NAT, static routes, port forwards): a namespace on spec.host with an interface on each connected network.',
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

/** The Router's part of its PlanVnf (PlanVnf<PlanRouterSpec>). */
export interface PlanRouterSpec {
  /** what the router translates on the way out: the connected networks' subnets, then those behind a firewall in front of it (controller/planner/vnf-chains.ts) */
  subnets: string[];
  routes: Array<{ to: string; via: string }>;
  /** mode host only; absent: no way out */
  uplink?: PlanUplink;
  /** port forwards whose endpoint exists; sorted by protocol and port */
  portForwards: PlanPortForward[];
}
