// The Firewall VNF fields of plans and deltas (vnf-protocol.ts): diffing
// (controller) and applying (agent, and the controller's tests). Both fields
// are absent rather than empty when there is nothing, so plans of hosts
// without firewalls look exactly as they did before the VNF existed.
// Keys: firewalls by name, routes by network + dst.
import type { HostPlan, PlanDelta } from './agent-protocol.js';
import { networkRouteKey, type PlanFirewallVnf, type PlanNetworkRoute } from './vnf-protocol.js';

type VnfPlan = Pick<HostPlan, 'firewallVnfs' | 'networkRoutes'>;
type VnfDelta = Pick<PlanDelta, 'upsertFirewallVnfs' | 'removeFirewallVnfs' | 'upsertNetworkRoutes' | 'removeNetworkRoutes'>;

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function merge<T>(current: readonly T[] | undefined, remove: readonly string[], upsert: readonly T[] | undefined, key: (x: T) => string): T[] | undefined {
  const m = new Map<string, T>((current ?? []).map((x) => [key(x), x]));
  for (const k of remove) m.delete(k);
  for (const x of upsert ?? []) m.set(key(x), x);
  return m.size === 0 ? undefined : [...m.values()].sort((a, b) => compare(key(a), key(b)));
}

/** The VNF fields of `plan` after `delta` (removals first); absent when empty. */
export function applyVnfDelta(plan: VnfPlan, delta: VnfDelta): VnfPlan {
  const out: VnfPlan = {};
  const firewallVnfs = merge<PlanFirewallVnf>(plan.firewallVnfs, delta.removeFirewallVnfs ?? [], delta.upsertFirewallVnfs, (f) => f.name);
  const networkRoutes = merge<PlanNetworkRoute>(plan.networkRoutes, (delta.removeNetworkRoutes ?? []).map(networkRouteKey), delta.upsertNetworkRoutes, networkRouteKey);
  if (firewallVnfs) out.firewallVnfs = firewallVnfs;
  if (networkRoutes) out.networkRoutes = networkRoutes;
  return out;
}

/** What turns the VNF fields of `old` into those of `next`; only non-empty lists are present. */
export function diffVnfPlan(old: VnfPlan, next: VnfPlan): VnfDelta {
  const out: VnfDelta = {};
  const oldFw = new Map((old.firewallVnfs ?? []).map((f) => [f.name, f]));
  const nextFw = new Set((next.firewallVnfs ?? []).map((f) => f.name));
  const upsertFirewallVnfs = (next.firewallVnfs ?? []).filter((f) => !same(oldFw.get(f.name), f));
  const removeFirewallVnfs = [...oldFw.keys()].filter((n) => !nextFw.has(n));
  const oldRoutes = new Map((old.networkRoutes ?? []).map((r) => [networkRouteKey(r), r]));
  const nextRoutes = new Set((next.networkRoutes ?? []).map(networkRouteKey));
  const upsertNetworkRoutes = (next.networkRoutes ?? []).filter((r) => !same(oldRoutes.get(networkRouteKey(r)), r));
  const removeNetworkRoutes = [...oldRoutes.values()].filter((r) => !nextRoutes.has(networkRouteKey(r))).map((r) => ({ network: r.network, dst: r.dst }));
  if (upsertFirewallVnfs.length > 0) out.upsertFirewallVnfs = upsertFirewallVnfs;
  if (removeFirewallVnfs.length > 0) out.removeFirewallVnfs = removeFirewallVnfs;
  if (upsertNetworkRoutes.length > 0) out.upsertNetworkRoutes = upsertNetworkRoutes;
  if (removeNetworkRoutes.length > 0) out.removeNetworkRoutes = removeNetworkRoutes;
  return out;
}

export function isEmptyVnfDelta(d: VnfDelta): boolean {
  return (d.upsertFirewallVnfs?.length ?? 0) + (d.removeFirewallVnfs?.length ?? 0) + (d.upsertNetworkRoutes?.length ?? 0) + (d.removeNetworkRoutes?.length ?? 0) === 0;
}

/** Does the delta change what the agent's VNF host or endpoint routes act on? */
export function vnfTouched(d: VnfDelta): boolean {
  return !isEmptyVnfDelta(d);
}
