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
// - The firewall also routes between the networks it guards: the endpoints
//   of each guarded network get a route to the other guarded networks'
//   subnets via the firewall's address on their own network.
//
// On the VNF platform (vnf-protocol.ts) a Firewall is a PlanVnf whose spec
// is a PlanFirewallSpec; its driver is vnf/firewall/.
import { Type, type Static } from '@sinclair/typebox';
import type { PlanAddressSet, PlanPeer } from './agent-protocol.js';
import { DEFAULT_ACTIONS, PerimeterRule, PortSets, MAX_RULES_PER_DIRECTION, type DefaultAction, type FirewallAction, type FirewallProtocol } from './firewall.js';
import { DNS_LABEL_PATTERN, objectMeta, resourceSchema, type Resource } from './meta.js';
import { DEFAULT_FIREWALL_ACTION } from './resource-defaults.js';
import { VnfNetworkAttachment, vnfHostField, vnfStatusSchema } from './vnf-resource.js';

export { DEFAULT_FIREWALL_ACTION } from './resource-defaults.js';

const MIN_GUARDED_NETWORKS = 2;
const MAX_GUARDED_NETWORKS = 8;

const FirewallNetwork = VnfNetworkAttachment('firewall');
export type FirewallNetwork = Static<typeof FirewallNetwork>;

export const FirewallSpec = Type.Object(
  {
    host: vnfHostField('firewall'),
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

export const PerimeterRuleCounter = Type.Object(
  {
    rule: Type.String({ description: 'Rule name, or "default" for the default action.' }),
    packets: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type PerimeterRuleCounter = Static<typeof PerimeterRuleCounter>;

const FirewallStatus = vnfStatusSchema('firewall', PerimeterRuleCounter, 'Matches per rule (both directions of a connection).');
export type FirewallStatus = Static<typeof FirewallStatus>;

export const FirewallSchema = resourceSchema(
  'Firewall',
  objectMeta(DNS_LABEL_PATTERN, 63),
  FirewallSpec,
  FirewallStatus,
  'A stateful filter between networks: a namespace on spec.host with an interface on each guarded network.',
);
export type Firewall = Resource<'Firewall', FirewallSpec, FirewallStatus>;

/** A perimeter rule as the firewall enforces it: ports resolved, peers as CIDRs or address sets. */
export interface PlanPerimeterRule {
  /** the rule's name, or its position as a string */
  name: string;
  action: FirewallAction;
  log?: boolean;
  /** undefined: any source */
  from?: PlanPeer[];
  /** undefined: any destination */
  to?: PlanPeer[];
  protocol: FirewallProtocol;
  /** inclusive destination port ranges (port sets resolved); undefined: every port */
  ports?: Array<[number, number]>;
}

/** The Firewall's part of its PlanVnf (PlanVnf<PlanFirewallSpec>). */
export interface PlanFirewallSpec {
  defaultAction: DefaultAction;
  rules: PlanPerimeterRule[];
  /** the address sets the rules name (selector peers resolved to endpoint addresses), sorted by name */
  addressSets: PlanAddressSet[];
}
