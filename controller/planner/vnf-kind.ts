// The seam every VNF kind plugs into on the controller's side: its planner
// entry. What all kinds share (addresses from IPAM as reservations, MACs,
// interfaces, the overlay entries that make them reachable from every
// host, status) is done once, by vnf-planner.ts and its peers; an entry
// says only what is the kind's own.
import type { PlanNetworkRoute } from '../../model/vnf-protocol.js';
import type { VnfResource } from '../../model/vnf-resource.js';
import type { PlanInput } from './host-planner.js';

/** A VNF's address on one of its networks. */
export interface VnfInterfaceAddress {
  network: string;
  ip: string;
}

export interface VnfKind<R extends VnfResource = VnfResource> {
  readonly kind: R['kind'];
  /** the kind's part of its PlanVnf (the driver's input), from the resource and the planning input; `subnets`: every network's subnet by name */
  planSpec(res: R, input: PlanInput, subnets: ReadonlyMap<string, string>): unknown;
  /**
   * Routes the endpoints of the VNF's networks get through it, in every
   * host's plan; `interfaces`: its addresses on the networks that exist,
   * `subnets`: every network's subnet by name.
   */
  networkRoutes?(res: R, interfaces: readonly VnfInterfaceAddress[], subnets: ReadonlyMap<string, string>): Array<Omit<PlanNetworkRoute, 'owner'>>;
}
