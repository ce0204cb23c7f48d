// The outer shape every VNF resource shares, whatever its kind: where it
// runs (spec.host) and the networks it has an interface on
// (spec.networks: [{network, ip?}]). The controller's generic VNF code
// (addresses, plans, status) reads only these; the rest of a spec is the
// kind's.
import { Type, type Static } from '@sinclair/typebox';
import { DNS_LABEL_PATTERN } from './meta.js';
import type { Firewall } from './firewall-vnf.js';

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

export const vnfHostField = (what: string) => Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: 63, description: `Host the ${what} runs on.` });

/** Every VNF resource kind (each also in kinds.ts). */
export type VnfResource = Firewall;
export type VnfKindName = VnfResource['kind'];
