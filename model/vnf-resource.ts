// The outer shape every VNF resource shares, whatever its kind: where it
// runs (spec.host) and the networks it has an interface on, a list of
// [{network, ip?}] under the field the kind's contract names
// (Firewall: spec.networks, Router: spec.interfaces; ATTACHMENT_FIELD). The
// controller's generic VNF code (addresses, plans, status) reads only
// these, through vnfAttachments; the rest of a spec is the kind's.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Condition, DNS_LABEL_PATTERN } from './meta.js';
import type { Firewall } from './firewall-vnf.js';
import type { Router } from './router.js';

/** One network a VNF has an interface on. */
export const VnfNetworkAttachment = (what: string) =>
  Type.Object(
    {
      network: Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: `A network the ${what} has an interface on.` }),
      ip: Type.Optional(Type.String({ description: `The ${what}'s IPv4 address on the network; default: allocated by the controller.` })),
    },
    { additionalProperties: false },
  );
export type VnfNetworkAttachment = Static<ReturnType<typeof VnfNetworkAttachment>>;

/** The status every VNF kind has (controller/status/vnf-status.ts fills it), with the kind's counter rows. */
/** How many live connections a VNF's status lists at most (the total says how many there are). */
export const MAX_LISTED_CONNECTIONS = 50;

/** status.connections of a kind that lists live connections: the first rows, and how many there are. */
export const vnfConnectionsSchema = <R extends TSchema>(row: R, description: string) =>
  Type.Object(
    {
      total: Type.Integer({ minimum: 0, description: 'How many there are.' }),
      items: Type.Array(row, { maxItems: MAX_LISTED_CONNECTIONS, description: `The first ${MAX_LISTED_CONNECTIONS}.` }),
    },
    { additionalProperties: false, description },
  );

export const vnfStatusSchema = <C extends TSchema>(what: string, counter: C, countersDescription: string) =>
  Type.Object(
    {
      ready: Type.Optional(Type.Boolean()),
      hosts: Type.Optional(
        Type.Record(
          Type.String(),
          Type.Object({ ready: Type.Boolean(), revision: Type.Integer({ minimum: 0 }), message: Type.Optional(Type.String()) }, { additionalProperties: false }),
        ),
      ),
      interfaces: Type.Optional(
        Type.Array(Type.Object({ network: Type.String(), ip: Type.String(), mac: Type.String() }, { additionalProperties: false }), { description: `The ${what}'s address and MAC on each of its networks.` }),
      ),
      counters: Type.Optional(Type.Array(counter, { description: countersDescription })),
      observedGeneration: Type.Optional(Type.Integer()),
      conditions: Type.Optional(Type.Array(Condition)),
    },
    { additionalProperties: false },
  );

export const vnfHostField = (what: string) => Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: `Host the ${what} runs on.` });

/** Every VNF resource kind (each also in kinds.ts). */
export type VnfResource = Firewall | Router;
export type VnfKindName = VnfResource['kind'];

/** The spec field holding each kind's network attachments. */
const ATTACHMENT_FIELD = { Firewall: 'networks', Router: 'interfaces' } as const satisfies Record<VnfKindName, string>;

/** The networks a VNF has an interface on, in the order its spec lists them. */
export function vnfAttachments(res: VnfResource): readonly VnfNetworkAttachment[] {
  return (res.spec as unknown as Record<string, readonly VnfNetworkAttachment[]>)[ATTACHMENT_FIELD[res.kind]] ?? [];
}

/** The JSON pointer of a kind's attachment list (`/spec/networks`), for messages that point at a field. */
export function vnfAttachmentsPath(kind: VnfKindName): string {
  return `/spec/${ATTACHMENT_FIELD[kind]}`;
}
