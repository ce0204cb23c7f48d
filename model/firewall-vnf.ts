// The perimeter Firewall VNF (kind `Firewall`): a stateful filter between
// networks, running in its own namespace on spec.host with one interface on
// each network it guards, using the rule language of model/firewall.ts.
//
// Semantics beyond the rule language:
// - A rule's `from` and `to` are both optional; omitted means any source /
//   any destination. A peer naming only a `network` stands for that
//   network's subnet (every address on the segment the firewall guards); a
//   peer with a `selector` stands for the matching endpoints' addresses.
// - Packets no rule decides get spec.defaultAction (deny unless set).
// - Until the L3 router exists the firewall also routes: the endpoints of
//   each guarded network get a route to the other guarded networks' subnets
//   via the firewall's address on their own network.
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_ACTIONS, PerimeterRule, PortSets, MAX_RULES_PER_DIRECTION } from './firewall.js';
import { Condition, DNS_LABEL_PATTERN, objectMeta, resourceSchema, type Resource } from './meta.js';

export const MIN_GUARDED_NETWORKS = 2;
export const MAX_GUARDED_NETWORKS = 8;
export const DEFAULT_FIREWALL_ACTION = 'deny';

export const FirewallNetwork = Type.Object(
  {
    network: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'A network the firewall guards (it gets an interface on it).' }),
    ip: Type.Optional(Type.String({ description: "The firewall's IPv4 address on the network; default: allocated by the controller." })),
  },
  { additionalProperties: false },
);
export type FirewallNetwork = Static<typeof FirewallNetwork>;

export const FirewallSpec = Type.Object(
  {
    host: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'Host the firewall runs on.' }),
    networks: Type.Array(FirewallNetwork, {
      minItems: MIN_GUARDED_NETWORKS,
      maxItems: MAX_GUARDED_NETWORKS,
      description: `The networks it guards (${MIN_GUARDED_NETWORKS}-${MAX_GUARDED_NETWORKS}), each at most once.`,
    }),
    defaultAction: Type.Optional(
      Type.Union(
        DEFAULT_ACTIONS.map((v) => Type.Literal(v)),
        { description: `What happens to traffic no rule decides: allow, deny or reject (default ${DEFAULT_FIREWALL_ACTION}).` },
      ),
    ),
    portSets: Type.Optional(PortSets),
    rules: Type.Optional(Type.Array(PerimeterRule, { maxItems: MAX_RULES_PER_DIRECTION, description: 'Ordered: the first matching rule decides.' })),
  },
  { additionalProperties: false },
);
export type FirewallSpec = Static<typeof FirewallSpec>;

export const FirewallInterfaceStatus = Type.Object(
  { network: Type.String(), ip: Type.String(), mac: Type.String() },
  { additionalProperties: false },
);
export type FirewallInterfaceStatus = Static<typeof FirewallInterfaceStatus>;

export const PerimeterRuleCounter = Type.Object(
  {
    rule: Type.String({ description: 'Rule name, or "default" for the default action.' }),
    packets: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type PerimeterRuleCounter = Static<typeof PerimeterRuleCounter>;

export const FirewallStatus = Type.Object(
  {
    ready: Type.Optional(Type.Boolean()),
    hosts: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object({ ready: Type.Boolean(), revision: Type.Integer({ minimum: 0 }), message: Type.Optional(Type.String()) }, { additionalProperties: false }),
      ),
    ),
    interfaces: Type.Optional(Type.Array(FirewallInterfaceStatus, { description: "The firewall's address and MAC on each guarded network." })),
    counters: Type.Optional(Type.Array(PerimeterRuleCounter, { description: 'Matches per rule (both directions of a connection).' })),
    observedGeneration: Type.Optional(Type.Integer()),
    conditions: Type.Optional(Type.Array(Condition)),
  },
  { additionalProperties: false },
);
export type FirewallStatus = Static<typeof FirewallStatus>;

export const FirewallSchema = resourceSchema(
  'Firewall',
  objectMeta(DNS_LABEL_PATTERN, 63),
  FirewallSpec,
  FirewallStatus,
  'A stateful filter between networks: a namespace on spec.host with an interface on each guarded network.',
);
export type Firewall = Resource<'Firewall', FirewallSpec, FirewallStatus>;
