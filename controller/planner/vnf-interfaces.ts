// Where VNFs sit, as planning sees it: every network's subnet, and each
// VNF's addresses and interfaces from its IPAM reservations. Pure; read by
// the VNF planner, the VNF chains and the VNF status.
import { vnfAddressOwner } from '../../model/vnf-names.js';
import type { VnfKey } from '../../model/vnf-protocol.js';
import { vnfAttachments, type VnfResource } from '../../model/vnf-resource.js';
import type { ReservationRow } from '../store/store.js';
import type { PlanInput } from './host-planner.js';
import type { VnfInterfaceAddress } from './vnf-kind.js';

export const vnfKeyOf = (res: VnfResource): VnfKey => ({ kind: res.kind, name: res.metadata.name });

/** network -> the VNF's address on it, from its reservations; a loan another host has not confirmed yet is no address yet. */
export function vnfAddresses(vnf: VnfKey, reservations: readonly ReservationRow[]): Map<string, string> {
  const owner = vnfAddressOwner(vnf);
  return new Map(reservations.filter((r) => r.owner === owner && !r.pending).map((r) => [r.network, r.ip]));
}

/** The VNF's interfaces that can exist: the network is planned and the VNF has an address on it. */
export function vnfInterfacesOf(res: VnfResource, subnets: ReadonlyMap<string, string>, reservations: readonly ReservationRow[]): VnfInterfaceAddress[] {
  const addresses = vnfAddresses(vnfKeyOf(res), reservations);
  const out: VnfInterfaceAddress[] = [];
  for (const { network } of vnfAttachments(res)) {
    const ip = addresses.get(network);
    if (ip !== undefined && subnets.has(network)) out.push({ network, ip });
  }
  return out;
}

/** Every network's subnet by name; once per planning input (every host's plan and every VNF read it). */
export function subnetsOf(input: PlanInput): ReadonlyMap<string, string> {
  let subnets = subnetCache.get(input);
  if (!subnets) subnetCache.set(input, (subnets = new Map(input.networks.map(({ network }) => [network.metadata.name, network.spec.subnet]))));
  return subnets;
}

const subnetCache = new WeakMap<PlanInput, ReadonlyMap<string, string>>();
