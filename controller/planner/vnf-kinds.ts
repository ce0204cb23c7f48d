// Every VNF kind the controller plans: one entry each. A new kind
// registers its entry here and adds nothing to the planner, IPAM or the
// plan delta.
import type { VnfResource } from '../../model/vnf-resource.js';
import { firewallKind } from './firewall-vnf-planner.js';
import { routerKind } from './router-planner.js';
import type { VnfKind } from './vnf-kind.js';

type Entries = { [K in VnfResource['kind']]: VnfKind<Extract<VnfResource, { kind: K }>> };

const ENTRIES: Entries = { Firewall: firewallKind, Router: routerKind };

export const VNF_KIND_NAMES = Object.keys(ENTRIES) as Array<VnfResource['kind']>;

/** The planner entry of a VNF resource's kind. */
export function vnfKindOf<R extends VnfResource>(res: R): VnfKind<R> {
  return ENTRIES[res.kind as R['kind']] as unknown as VnfKind<R>;
}
