// The VNF fields of plans and deltas (vnf-protocol.ts), every kind alike:
// diffing (controller) and applying (agent, and the controller's tests).
// Keys: VNFs by kind + name, routes by network + dst. A new VNF kind adds
// nothing here.
import type { HostPlan, PlanDelta } from './agent-protocol.js';
import { mergeByKey as merge } from './keyed-merge.js';
import { networkRouteKey, vnfKey, type PlanNetworkRoute, type PlanVnf } from './vnf-protocol.js';

type VnfPlan = Pick<HostPlan, 'vnfs' | 'networkRoutes'>;
type VnfDelta = Pick<PlanDelta, 'upsertVnfs' | 'removeVnfs' | 'upsertNetworkRoutes' | 'removeNetworkRoutes'>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The VNF fields of `plan` after `delta` (removals first), sorted by key. */
export function applyVnfDelta(plan: VnfPlan, delta: VnfDelta): VnfPlan {
  return {
    vnfs: merge<PlanVnf>(plan.vnfs, delta.removeVnfs.map(vnfKey), delta.upsertVnfs, vnfKey),
    networkRoutes: merge<PlanNetworkRoute>(plan.networkRoutes, delta.removeNetworkRoutes.map(networkRouteKey), delta.upsertNetworkRoutes, networkRouteKey),
  };
}

/** What turns the VNF fields of `old` into those of `next`. */
export function diffVnfPlan(old: VnfPlan, next: VnfPlan): VnfDelta {
  const oldVnfs = new Map(old.vnfs.map((v) => [vnfKey(v), v]));
  const nextVnfs = new Set(next.vnfs.map(vnfKey));
  const oldRoutes = new Map(old.networkRoutes.map((r) => [networkRouteKey(r), r]));
  const nextRoutes = new Set(next.networkRoutes.map(networkRouteKey));
  return {
    upsertVnfs: next.vnfs.filter((v) => !same(oldVnfs.get(vnfKey(v)), v)),
    removeVnfs: [...oldVnfs.values()].filter((v) => !nextVnfs.has(vnfKey(v))).map((v) => ({ kind: v.kind, name: v.name })),
    upsertNetworkRoutes: next.networkRoutes.filter((r) => !same(oldRoutes.get(networkRouteKey(r)), r)),
    removeNetworkRoutes: [...oldRoutes.values()].filter((r) => !nextRoutes.has(networkRouteKey(r))).map((r) => ({ network: r.network, dst: r.dst })),
  };
}

/** Does the delta change any VNF or endpoint route? */
export function vnfTouched(d: VnfDelta): boolean {
  return d.upsertVnfs.length + d.removeVnfs.length + d.upsertNetworkRoutes.length + d.removeNetworkRoutes.length > 0;
}
