// Pure: a host plan plus a delta from the controller gives the next plan.
// Keys: networks by name, blocks by network+cidr, reservations by network+ip.
import type { HostPlan, PlanBlock, PlanDelta, PlanReservation } from '../../model/agent-protocol.js';

const blockKey = (b: PlanBlock) => `${b.network}\u0000${b.cidr}`;
const reservationKey = (r: PlanReservation) => `${r.network}\u0000${r.ip}`;

function upsert<T>(items: T[], add: T[], remove: T[], key: (t: T) => string): T[] {
  const byKey = new Map(items.map((i) => [key(i), i]));
  for (const r of remove) byKey.delete(key(r));
  for (const a of add) byKey.set(key(a), a);
  return [...byKey.values()];
}

export function applyPlanDelta(plan: HostPlan, delta: PlanDelta, revision: number): HostPlan {
  const removed = new Set(delta.removeNetworks);
  const networks = new Map(plan.networks.filter((n) => !removed.has(n.name)).map((n) => [n.name, n]));
  for (const n of delta.upsertNetworks) networks.set(n.name, n);
  return {
    host: plan.host,
    revision,
    networks: [...networks.values()],
    blocks: upsert(plan.blocks, delta.upsertBlocks, delta.removeBlocks, blockKey),
    reservations: upsert(plan.reservations, delta.upsertReservations, delta.removeReservations, reservationKey),
  };
}

/** The plan with one more block (a grant that arrives before the matching delta). */
export function withBlock(plan: HostPlan, block: PlanBlock): HostPlan {
  if (plan.blocks.some((b) => blockKey(b) === blockKey(block))) return plan;
  return { ...plan, blocks: [...plan.blocks, block] };
}
