// Parsing of agent -> controller frames. Shapes follow
// model/agent-protocol.ts; unknown extra fields are tolerated so an agent one
// version ahead can still talk to this controller, missing or mistyped ones
// are refused with the JSON pointer of the problem.
import { Type, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import type { AgentMessage } from '../../model/agent-protocol.js';
import { WeftError, invalid } from '../../model/errors.js';
import { MAX_RULES_PER_DIRECTION } from '../../model/firewall.js';
import { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN } from '../../model/meta.js';
import { MAX_LISTED_CONNECTIONS } from '../../model/vnf-resource.js';

const Name = Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63 });
const Str = Type.String({ maxLength: 4096 });

const EndpointReport = Type.Object({
  name: Type.String({ pattern: DNS_SUBDOMAIN_PATTERN, maxLength: 253 }),
  network: Name,
  containerId: Type.String({ minLength: 1, maxLength: 128 }),
  ifname: Type.String({ minLength: 1, maxLength: 15 }),
  ip: Str,
  ip6: Type.Optional(Str),
  mac: Str,
  hostIfname: Str,
  netns: Str,
  labels: Type.Record(Type.String(), Type.String()),
});

const Count = Type.Integer({ minimum: 0 });
const RuleName = Type.String({ minLength: 1, maxLength: 63 });

const FirewallPolicyReport = Type.Object({
  generation: Type.Integer({ minimum: 0 }),
  ready: Type.Boolean(),
  endpoints: Count,
  counters: Type.Array(
    Type.Object({ direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]), rule: RuleName, packets: Count, bytes: Count }),
    // every rule of both directions, and their defaults
    { maxItems: 2 * (MAX_RULES_PER_DIRECTION + 1) },
  ),
  message: Type.Optional(Str),
});

/** One VNF as its host runs it, any kind (model/vnf-protocol.ts VnfReport). */
const VnfReport = Type.Object({
  kind: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$' }),
  name: Name,
  generation: Type.Integer({ minimum: 0 }),
  ready: Type.Boolean(),
  interfaces: Type.Array(Type.Object({ network: Name, ip: Str, mac: Str }), { maxItems: 64 }),
  // flat rows, the kind's fields (a firewall: every rule and the default)
  counters: Type.Optional(
    Type.Array(Type.Record(Type.String({ maxLength: 63 }), Type.Union([Type.String({ maxLength: 253 }), Type.Number()]), { maxProperties: 32 }), { maxItems: MAX_RULES_PER_DIRECTION + 1 }),
  ),
  connections: Type.Optional(
    Type.Object({
      total: Count,
      items: Type.Array(Type.Record(Type.String({ maxLength: 63 }), Type.Union([Type.String({ maxLength: 253 }), Type.Number()]), { maxProperties: 16 }), { maxItems: MAX_LISTED_CONNECTIONS }),
    }),
  ),
  message: Type.Optional(Str),
});

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const FirewallLogEntry = Type.Object({
  time: Str,
  policy: Type.String({ minLength: 1, maxLength: 253 }),
  direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress'), Type.Literal('forward')]),
  rule: RuleName,
  action: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('reject'), Type.Literal('log')]),
  protocol: Type.String({ maxLength: 16 }),
  src: Type.String({ maxLength: 64 }),
  dst: Type.String({ maxLength: 64 }),
  sport: Type.Optional(Port),
  dport: Type.Optional(Port),
  iif: Type.Optional(Type.String({ maxLength: 15 })),
});

const SCHEMAS: Record<AgentMessage['type'], TSchema> = {
  hello: Type.Object({
    type: Type.Literal('hello'),
    host: Name,
    address: Type.Optional(Str),
    agentVersion: Str,
    underlayMtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 65535 })),
    appliedRevision: Type.Integer({ minimum: 0 }),
    endpoints: Type.Array(EndpointReport, { maxItems: 100_000 }),
  }),
  endpointUp: Type.Object({ type: Type.Literal('endpointUp'), endpoint: EndpointReport, requestId: Type.Optional(Str) }),
  endpointDown: Type.Object({ type: Type.Literal('endpointDown'), name: Str }),
  status: Type.Object({
    type: Type.Literal('status'),
    appliedRevision: Type.Integer({ minimum: 0 }),
    networks: Type.Record(Type.String(), Type.Object({ ready: Type.Boolean(), message: Type.Optional(Str) })),
    firewall: Type.Optional(Type.Record(Type.String(), FirewallPolicyReport)),
    spoofDrops: Type.Optional(Type.Record(Type.String(), Count)),
    vnfs: Type.Optional(Type.Array(VnfReport, { maxItems: 1024 })),
  }),
  firewallLog: Type.Object({ type: Type.Literal('firewallLog'), entries: Type.Array(FirewallLogEntry, { maxItems: 10_000 }) }),
  heartbeat: Type.Object({ type: Type.Literal('heartbeat') }),
  requestBlock: Type.Object({ type: Type.Literal('requestBlock'), requestId: Str, network: Name }),
  requestStatic: Type.Object({ type: Type.Literal('requestStatic'), requestId: Str, network: Name, ip: Str, owner: Type.String({ minLength: 1, maxLength: 256 }) }),
  releaseStatic: Type.Object({ type: Type.Literal('releaseStatic'), network: Name, ip: Str }),
  loanConfirmed: Type.Object({ type: Type.Literal('loanConfirmed'), network: Name, ip: Str }),
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>(Object.entries(SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]));

export function parseAgentMessage(text: string): AgentMessage {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e: unknown) {
    throw new WeftError('BadJSON', `frame is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const type = doc !== null && typeof doc === 'object' ? (doc as { type?: unknown }).type : undefined;
  const validate = typeof type === 'string' ? validators.get(type) : undefined;
  if (!validate) {
    throw invalid([{ path: '/type', message: `unknown message type ${JSON.stringify(type)}`, value: type, allowed: Object.keys(SCHEMAS).join(', ') }], 'agent message');
  }
  if (!validate(doc)) {
    throw invalid(
      (validate.errors ?? []).map((e) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword })),
      `${type} message`,
    );
  }
  return doc as AgentMessage;
}

/** The requestId of a request frame, if the text has one, to answer a malformed request with requestFailed. */
export function requestIdOf(text: string): string | undefined {
  try {
    const id: unknown = (JSON.parse(text) as { requestId?: unknown }).requestId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
