// Applying a PlanDelta to a HostPlan: the agent does this on every `delta`
// message, and the controller's tests use it to check that
// diff(old, new) applied to old gives new. Keys: networks by name, blocks by
// network + cidr, reservations by network + ip.
import type { HostPlan, PlanBlock, PlanDelta, PlanNetwork, PlanReservation } from './agent-protocol.js';

export const blockKey = (b: PlanBlock): string => `${b.network}\u0000${b.cidr}`;
export const reservationKey = (r: { network: string; ip: string }): string => `${r.network}\u0000${r.ip}`;

export function emptyPlanDelta(): PlanDelta {
  return { upsertNetworks: [], removeNetworks: [], upsertBlocks: [], removeBlocks: [], upsertReservations: [], removeReservations: [] };
}

export function isEmptyPlanDelta(d: PlanDelta): boolean {
  return (
    d.upsertNetworks.length === 0 &&
    d.removeNetworks.length === 0 &&
    d.upsertBlocks.length === 0 &&
    d.removeBlocks.length === 0 &&
    d.upsertReservations.length === 0 &&
    d.removeReservations.length === 0
  );
}

/** A new plan: `plan` with `delta` applied, stamped with `revision`. Removals first, then upserts. */
export function applyPlanDelta(plan: HostPlan, delta: PlanDelta, revision: number): HostPlan {
  const networks = new Map<string, PlanNetwork>(plan.networks.map((n) => [n.name, n]));
  for (const name of delta.removeNetworks) networks.delete(name);
  for (const n of delta.upsertNetworks) networks.set(n.name, n);

  const blocks = new Map<string, PlanBlock>(plan.blocks.map((b) => [blockKey(b), b]));
  for (const b of delta.removeBlocks) blocks.delete(blockKey(b));
  for (const b of delta.upsertBlocks) blocks.set(blockKey(b), b);

  const reservations = new Map<string, PlanReservation>(plan.reservations.map((r) => [reservationKey(r), r]));
  for (const r of delta.removeReservations) reservations.delete(reservationKey(r));
  for (const r of delta.upsertReservations) reservations.set(reservationKey(r), r);

  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    host: plan.host,
    revision,
    networks: [...networks.values()].sort(byName),
    blocks: [...blocks.values()].sort(byKey(blockKey)),
    reservations: [...reservations.values()].sort(byKey(reservationKey)),
  };
}
