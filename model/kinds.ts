// The resource kinds of issue-level scope: Network, Endpoint, Host, and
// FirewallPolicy (its schema lives with the rule language in firewall.ts),
// the perimeter Firewall VNF (firewall-vnf.ts) and the Router VNF (router.ts).
import { Type, type Static } from '@sinclair/typebox';
import { FirewallPolicySchema, type FirewallPolicy } from './firewall.js';
import { FirewallSchema, type Firewall } from './firewall-vnf.js';
import { RouterSchema, type Router } from './router.js';
import type { Kind } from './kind-names.js';
import { Condition, objectMeta, resourceSchema, type Resource } from './meta.js';
import { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, IFNAME_PATTERN, MAC_PATTERN } from './name-patterns.js';

export { IFNAME_PATTERN, MAC_PATTERN } from './name-patterns.js';
export const MIN_MTU = 1280; // IPv6 minimum; also a sane floor for IPv4 overlays
export const MAX_MTU = 9000;
export const MAX_VNI = 16_777_215; // 24 bits

const PerHostStatus = Type.Object(
  {
    ready: Type.Boolean(),
    revision: Type.Integer({ minimum: 0 }),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const NetworkSpec = Type.Object(
  {
    subnet: Type.String({ description: 'IPv4 subnet in CIDR notation, e.g. 10.10.0.0/24. Prefix length /8 to /30.' }),
    gateway: Type.Optional(Type.String({ description: 'IPv4 gateway inside the subnet. Default: the first usable address.' })),
    subnet6: Type.Optional(Type.String({ description: 'Optional IPv6 subnet in CIDR notation.' })),
    gateway6: Type.Optional(Type.String({ description: 'IPv6 gateway inside subnet6. Default: the first address after the network address.' })),
    mtu: Type.Optional(Type.Integer({ minimum: MIN_MTU, maximum: MAX_MTU, description: `MTU of the bridge and every endpoint (${MIN_MTU}-${MAX_MTU}). Default: derived from the underlay.` })),
    vni: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VNI, description: 'VXLAN network identifier. Default: assigned by the controller.' })),
    blockSize: Type.Optional(
      Type.Integer({ minimum: 20, maximum: 30, description: 'Prefix length of the address blocks handed to each host (default /26, or the subnet itself if smaller).' }),
    ),
  },
  { additionalProperties: false },
);
export type NetworkSpec = Static<typeof NetworkSpec>;

export const NetworkStatus = Type.Object(
  {
    vni: Type.Optional(Type.Integer()),
    mtu: Type.Optional(Type.Integer()),
    gateway: Type.Optional(Type.String()),
    bridge: Type.Optional(Type.String()),
    endpoints: Type.Optional(Type.Integer()),
    hosts: Type.Optional(Type.Record(Type.String(), PerHostStatus)),
    observedGeneration: Type.Optional(Type.Integer()),
    conditions: Type.Optional(Type.Array(Condition)),
  },
  { additionalProperties: false },
);
export type NetworkStatus = Static<typeof NetworkStatus>;

const NetworkSchema = resourceSchema(
  'Network',
  objectMeta(DNS_LABEL_PATTERN, 63),
  NetworkSpec,
  NetworkStatus,
  'An L2 segment with an IPv4 subnet, present as a bridge on every host that has an endpoint on it.',
);
export type Network = Resource<'Network', NetworkSpec, NetworkStatus>;

export const EndpointSpec = Type.Object(
  {
    network: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'Name of the Network.' }),
    host: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'Host the endpoint lives on.' }),
    containerId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'Runtime container (sandbox) ID.' }),
    ifname: Type.String({ pattern: IFNAME_PATTERN, description: 'Interface name inside the workload (at most 15 bytes).' }),
    ip: Type.Optional(Type.String({ description: 'Requested IPv4 address; default: allocated from the host block.' })),
    mac: Type.Optional(Type.String({ pattern: MAC_PATTERN, description: 'Requested MAC address; default: derived from the address (0a:58 then its IPv4 octets), a range a requested MAC may not use.' })),
  },
  { additionalProperties: false },
);
export type EndpointSpec = Static<typeof EndpointSpec>;

const EndpointStatus = Type.Object(
  {
    ip: Type.Optional(Type.String()),
    ip6: Type.Optional(Type.String({ description: 'IPv6 address on a dual-stack network.' })),
    mac: Type.Optional(Type.String()),
    hostIfname: Type.Optional(Type.String()),
    netns: Type.Optional(Type.String()),
    phase: Type.Optional(Type.Union([Type.Literal('Attached'), Type.Literal('Detaching'), Type.Literal('Failed')])),
    conditions: Type.Optional(Type.Array(Condition)),
  },
  { additionalProperties: false },
);
export type EndpointStatus = Static<typeof EndpointStatus>;

const EndpointSchema = resourceSchema(
  'Endpoint',
  objectMeta(DNS_SUBDOMAIN_PATTERN, 253),
  EndpointSpec,
  EndpointStatus,
  "A workload's interface on a network: a veth pair, host side on the network's bridge.",
);
export type Endpoint = Resource<'Endpoint', EndpointSpec, EndpointStatus>;

export const HostSpec = Type.Object(
  {
    address: Type.Optional(Type.String({ description: 'Underlay address of the host.' })),
    maxEndpoints: Type.Optional(Type.Integer({ minimum: 1, description: 'Capacity: endpoints this host accepts.' })),
  },
  { additionalProperties: false },
);
export type HostSpec = Static<typeof HostSpec>;

export const HostStatus = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('Ready'), Type.Literal('NotReady'), Type.Literal('Gone')])),
    address: Type.Optional(Type.String({ description: 'Underlay address the agent reported in its hello.' })),
    appliedRevision: Type.Optional(Type.Integer()),
    lastHeartbeat: Type.Optional(Type.String()),
    agentVersion: Type.Optional(Type.String()),
    underlayMtu: Type.Optional(Type.Integer()),
    spoofDrops: Type.Optional(Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: "Anti-spoofing drops on this host by reason (ip, mac, arp, ip6, other), as its agent last reported." })),
    endpoints: Type.Optional(Type.Integer()),
    blocks: Type.Optional(Type.Array(Type.Object({ network: Type.String(), cidr: Type.String() }, { additionalProperties: false }))),
    conditions: Type.Optional(Type.Array(Condition)),
  },
  { additionalProperties: false },
);
export type HostStatus = Static<typeof HostStatus>;

const HostSchema = resourceSchema('Host', objectMeta(DNS_LABEL_PATTERN, 63), HostSpec, HostStatus, "An agent's node.");
export type Host = Resource<'Host', HostSpec, HostStatus>;

export type { FirewallPolicy } from './firewall.js';
export type { Firewall } from './firewall-vnf.js';
export type { Router } from './router.js';

export type AnyResource = Network | Endpoint | Host | FirewallPolicy | Firewall | Router;
export { KINDS, KIND_NAMES, kindFromName, type Kind } from './kind-names.js';
// The kind list in kind-names.ts must name exactly the kinds the schemas define.
type SameKinds<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const kindListMatchesSchemas: SameKinds<AnyResource['kind'], Kind> = true;
void kindListMatchesSchemas;

export const SCHEMAS = { Network: NetworkSchema, Endpoint: EndpointSchema, Host: HostSchema, FirewallPolicy: FirewallPolicySchema, Firewall: FirewallSchema, Router: RouterSchema } as const;
