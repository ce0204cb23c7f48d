// The firewall rule language, shared by FirewallPolicy (distributed: enforced
// at every selected endpoint by its host's agent) and the Firewall VNF
// (perimeter: a filter between networks in its own namespace).
//
// Semantics, in the order users need them:
// - Rules are ordered; the first rule that matches a packet decides (allow,
//   deny, reject). `log` rules log and go on to the next rule; `log: true` on
//   another rule logs its matches too. Logging is per new connection.
// - Stateful: every packet of a connection is judged by the connection's
//   first packet (its source, destination, protocol and destination port),
//   so replies of an allowed connection pass with no rule of their own, and
//   a policy change applies to open connections from their next packet on
//   (a connection the new policy refuses is cut, not left running).
//   Packets conntrack calls invalid are dropped.
// - Several policies selecting one endpoint: their rules are joined in
//   (priority, name) order; the default action is that of the first of them
//   that sets one for the direction, or allow when none does.
// - Peers: endpoints by label selector and/or network, or addresses by CIDR
//   minus `except`. No peers: any source (ingress) or destination (egress).
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Condition, DNS_LABEL_PATTERN, Labels, objectMeta, resourceSchema, type Resource } from './meta.js';
import { DEFAULT_POLICY_PRIORITY } from './resource-defaults.js';

const FIREWALL_ACTIONS = ['allow', 'deny', 'reject', 'log'] as const;
export type FirewallAction = (typeof FIREWALL_ACTIONS)[number];
export const DEFAULT_ACTIONS = ['allow', 'deny', 'reject'] as const;
export type DefaultAction = (typeof DEFAULT_ACTIONS)[number];
const FIREWALL_PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'any'] as const;
export type FirewallProtocol = (typeof FIREWALL_PROTOCOLS)[number];
/** Policies without spec.priority sort here. */
export { DEFAULT_POLICY_PRIORITY } from './resource-defaults.js';
export const MAX_RULES_PER_DIRECTION = 20_000;
const RULE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
const PORT_SET_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$';
/** A port entry: 80, "8000-8080", or "@name" for a named port set of the policy. */
const PORT_STRING_PATTERN = '^([0-9]{1,5}(-[0-9]{1,5})?|@[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?)$';

const literalUnion = <T extends readonly string[]>(values: T, description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );

export const FirewallPeer = Type.Object(
  {
    selector: Type.Optional({ ...Labels, description: 'Endpoints carrying all these labels.' }),
    network: Type.Optional(Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'Endpoints on this network (with selector: both must hold).' })),
    cidr: Type.Optional(Type.String({ description: 'Addresses in this IPv4 CIDR (not with selector/network), e.g. 198.18.0.0/16.' })),
    except: Type.Optional(Type.Array(Type.String(), { description: 'CIDRs inside `cidr` to leave out.', maxItems: 1024 })),
  },
  { additionalProperties: false, description: 'Who is on the other end: endpoints by selector and/or network, or a CIDR.' },
);
export type FirewallPeer = Static<typeof FirewallPeer>;

export const PortEntry = Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ pattern: PORT_STRING_PATTERN })], {
  description: 'A port (80), a range ("8000-8080") or a named port set ("@web").',
});
export type PortEntry = Static<typeof PortEntry>;

// Generic over the peer fields so each rule kind keeps its own static type
// (a union of three literals would not type-check as TProperties).
function ruleSchema<P extends TProperties>(peerFields: P) {
  return Type.Object(
    {
      name: Type.Optional(Type.String({ pattern: RULE_NAME_PATTERN, maxLength: 63, description: 'Names the rule in counters and logs. Default: its position (0, 1, ...).' })),
      action: literalUnion(FIREWALL_ACTIONS, 'allow, deny (drop silently), reject (TCP reset / ICMP unreachable) or log (log and go on).'),
      log: Type.Optional(Type.Boolean({ description: 'Also log new connections this rule decides.' })),
      ...peerFields,
      protocol: Type.Optional(literalUnion(FIREWALL_PROTOCOLS, 'tcp, udp, icmp, icmpv6 or any (default).')),
      ports: Type.Optional(Type.Array(PortEntry, { maxItems: 1024, description: 'Destination ports (tcp/udp only); omitted: every port.' })),
    },
    { additionalProperties: false },
  );
}

const peers = (d: string) => Type.Optional(Type.Array(FirewallPeer, { maxItems: 1024, description: d }));

export const IngressRule = ruleSchema({ from: peers('Sources this rule matches; omitted: any source.') });
export type IngressRule = Static<typeof IngressRule>;
const EgressRule = ruleSchema({ to: peers('Destinations this rule matches; omitted: any destination.') });
export type EgressRule = Static<typeof EgressRule>;
export const PerimeterRule = ruleSchema({ from: peers('Sources; omitted: any.'), to: peers('Destinations; omitted: any.') });
export type PerimeterRule = Static<typeof PerimeterRule>;

function directionSchema<R extends typeof IngressRule | typeof EgressRule>(rule: R, what: string) {
  return Type.Object(
    {
      defaultAction: Type.Optional(literalUnion(DEFAULT_ACTIONS, `What happens to ${what} no rule decides: allow, deny or reject.`)),
      rules: Type.Optional(Type.Array(rule, { maxItems: MAX_RULES_PER_DIRECTION, description: 'Ordered: the first matching rule decides.' })),
    },
    { additionalProperties: false },
  );
}

const IngressPolicy = directionSchema(IngressRule, 'traffic to a selected endpoint');
const EgressPolicy = directionSchema(EgressRule, 'traffic from a selected endpoint');

export const PortSets = Type.Record(Type.String({ pattern: PORT_SET_NAME_PATTERN }), Type.Array(PortEntry, { minItems: 1, maxItems: 4096 }), {
  additionalProperties: false,
  description: 'Named port sets the rules refer to as "@name".',
});

export const FirewallPolicySpec = Type.Object(
  {
    appliesTo: Type.Optional(
      Type.Object(
        {
          network: Type.Optional(Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: 'Only endpoints on this network.' })),
          selector: Type.Optional({ ...Labels, description: 'Only endpoints carrying all these labels.' }),
        },
        { additionalProperties: false, description: 'The endpoints this policy protects; omitted: every endpoint.' },
      ),
    ),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: `Order among policies selecting one endpoint, lower first (default ${DEFAULT_POLICY_PRIORITY}).` })),
    portSets: Type.Optional(PortSets),
    ingress: Type.Optional(IngressPolicy),
    egress: Type.Optional(EgressPolicy),
  },
  { additionalProperties: false },
);
export type FirewallPolicySpec = Static<typeof FirewallPolicySpec>;

export const RuleCounter = Type.Object(
  {
    direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
    rule: Type.String({ description: 'Rule name, or "default" for the default action.' }),
    packets: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type RuleCounter = Static<typeof RuleCounter>;

export const FirewallPolicyStatus = Type.Object(
  {
    endpoints: Type.Optional(Type.Integer({ description: 'Endpoints this policy applies to now.' })),
    hosts: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          { ready: Type.Boolean(), revision: Type.Integer({ minimum: 0 }), endpoints: Type.Optional(Type.Integer()), message: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    counters: Type.Optional(Type.Array(RuleCounter, { description: 'Matches per rule, summed over the hosts.' })),
    observedGeneration: Type.Optional(Type.Integer()),
    conditions: Type.Optional(Type.Array(Condition)),
  },
  { additionalProperties: false },
);
export type FirewallPolicyStatus = Static<typeof FirewallPolicyStatus>;

export const FirewallPolicySchema = resourceSchema(
  'FirewallPolicy',
  objectMeta(DNS_LABEL_PATTERN, 63),
  FirewallPolicySpec,
  FirewallPolicyStatus,
  'Stateful ingress/egress rules enforced at every endpoint it applies to (nftables on each host).',
);
export type FirewallPolicy = Resource<'FirewallPolicy', FirewallPolicySpec, FirewallPolicyStatus>;
