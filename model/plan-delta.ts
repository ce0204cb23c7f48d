// Applying a PlanDelta to a HostPlan: the agent does this on every `delta`
// message, and the controller's tests use it to check that
// diff(old, new) applied to old gives new. Keys: networks by name, blocks by
// network + cidr, reservations by network + ip, flood entries by network +
// vtep, remote endpoints, firewall policies and address sets by name, VNFs
// and endpoint routes as vnf-plan-delta.ts says.
import type {
  HostPlan, PlanAddressSet, PlanBlock, PlanDelta, PlanFirewallPolicy, PlanFloodEntry, PlanNetwork, PlanRemoteEndpoint, PlanReservation,
} from './agent-protocol.js';
import { mergeByKey as merge } from './keyed-merge.js';
import { applyVnfDelta, vnfTouched } from './vnf-plan-delta.js';

export const blockKey = (b: PlanBlock): string => `${b.network}\u0000${b.cidr}`;
export const reservationKey = (r: { network: string; ip: string }): string => `${r.network}\u0000${r.ip}`;
export const floodKey = (f: { network: string; vtep: string }): string => `${f.network}\u0000${f.vtep}`;

export function emptyPlanDelta(): PlanDelta {
  return {
    upsertNetworks: [],
    removeNetworks: [],
    upsertBlocks: [],
    removeBlocks: [],
    upsertReservations: [],
    removeReservations: [],
    upsertFlood: [],
    removeFlood: [],
    upsertRemoteEndpoints: [],
    removeRemoteEndpoints: [],
    upsertFirewallPolicies: [],
    removeFirewallPolicies: [],
    upsertAddressSets: [],
    removeAddressSets: [],
    upsertVnfs: [],
    removeVnfs: [],
    upsertNetworkRoutes: [],
    removeNetworkRoutes: [],
  };
}

export function isEmptyPlanDelta(d: PlanDelta): boolean {
  return (
    d.upsertNetworks.length === 0 &&
    d.removeNetworks.length === 0 &&
    d.upsertBlocks.length === 0 &&
    d.removeBlocks.length === 0 &&
    d.upsertReservations.length === 0 &&
    d.removeReservations.length === 0 &&
    d.upsertFlood.length === 0 &&
    d.removeFlood.length === 0 &&
    d.upsertRemoteEndpoints.length === 0 &&
    d.removeRemoteEndpoints.length === 0 &&
    d.upsertFirewallPolicies.length === 0 &&
    d.removeFirewallPolicies.length === 0 &&
    d.upsertAddressSets.length === 0 &&
    d.removeAddressSets.length === 0 &&
    !vnfTouched(d)
  );
}

const nameOf = (x: { name: string }): string => x.name;

/** A new plan: `plan` with `delta` applied, stamped with `revision`. Removals first, then upserts. */
export function applyPlanDelta(plan: HostPlan, delta: PlanDelta, revision: number): HostPlan {
  return {
    host: plan.host,
    revision,
    networks: merge<PlanNetwork>(plan.networks, delta.removeNetworks, delta.upsertNetworks, nameOf),
    blocks: merge<PlanBlock>(plan.blocks, delta.removeBlocks.map(blockKey), delta.upsertBlocks, blockKey),
    reservations: merge<PlanReservation>(plan.reservations, delta.removeReservations.map(reservationKey), delta.upsertReservations, reservationKey),
    flood: merge<PlanFloodEntry>(plan.flood, delta.removeFlood.map(floodKey), delta.upsertFlood, floodKey),
    remoteEndpoints: merge<PlanRemoteEndpoint>(plan.remoteEndpoints, delta.removeRemoteEndpoints, delta.upsertRemoteEndpoints, nameOf),
    firewallPolicies: merge<PlanFirewallPolicy>(plan.firewallPolicies, delta.removeFirewallPolicies, delta.upsertFirewallPolicies, nameOf),
    addressSets: merge<PlanAddressSet>(plan.addressSets, delta.removeAddressSets, delta.upsertAddressSets, nameOf),
    ...applyVnfDelta(plan, delta),
  };
}
