// Pure: a host plan plus a delta from the controller gives the next plan.
// Keys (as in model/plan-delta.ts, the controller's side): networks by
// name, blocks by network+cidr, reservations by network+ip, flood entries
// by network+vtep, remote endpoints, firewall policies and address sets by
// name. Removals first, then upserts.
import type {
  HostPlan, PlanAddressSet, PlanBlock, PlanDelta, PlanFirewallPolicy, PlanFirewallRule, PlanFloodEntry, PlanPolicyDirection, PlanRemoteEndpoint, PlanReservation,
} from '../../model/agent-protocol.js';
import { gatewayMac, vxlanName } from '../../model/kernel-names.js';
import { applyVnfDelta, vnfTouched } from '../../model/vnf-plan-delta.js';

const blockKey = (b: PlanBlock) => `${b.network}\u0000${b.cidr}`;
const reservationKey = (r: PlanReservation) => `${r.network}\u0000${r.ip}`;
const floodKey = (f: { network: string; vtep: string }) => `${f.network}\u0000${f.vtep}`;
const nameKey = (x: { name: string }) => x.name;

function upsert<T, R>(items: T[], add: T[], remove: R[], key: (t: T) => string, removeKey: (r: R) => string): T[] {
  const byKey = new Map(items.map((i) => [key(i), i]));
  for (const r of remove) byKey.delete(removeKey(r));
  for (const a of add) byKey.set(key(a), a);
  return [...byKey.values()];
}

/**
 * The plan with every field the agent reads present: a plan cached by an
 * older agent, or sent by an older controller, has no overlay or firewall
 * fields; its networks get the names the controller derives (kernel-names),
 * no remote entries and no firewall policies, which is what such a
 * controller meant.
 */
export function normalizePlan(plan: HostPlan): HostPlan {
  const loose = plan as Partial<Pick<HostPlan, 'flood' | 'remoteEndpoints' | 'firewallPolicies' | 'addressSets'>> & HostPlan;
  return {
    ...plan,
    networks: plan.networks.map((n) => {
      const l = n as Partial<Pick<typeof n, 'vxlan' | 'gatewayMac'>> & typeof n;
      return { ...n, vxlan: l.vxlan ?? vxlanName(n.vni), gatewayMac: (l.gatewayMac ?? gatewayMac(n.vni)).toLowerCase() };
    }),
    flood: loose.flood ?? [],
    remoteEndpoints: loose.remoteEndpoints ?? [],
    firewallPolicies: loose.firewallPolicies ?? [],
    addressSets: loose.addressSets ?? [],
  };
}

/** A delta from an older controller lacks the overlay and firewall lists: treat them as empty. */
function fullDelta(delta: PlanDelta): Required<PlanDelta> {
  const d = delta as Partial<PlanDelta> & Pick<PlanDelta, 'upsertNetworks'>;
  return {
    upsertNetworks: d.upsertNetworks,
    removeNetworks: d.removeNetworks ?? [],
    upsertBlocks: d.upsertBlocks ?? [],
    removeBlocks: d.removeBlocks ?? [],
    upsertReservations: d.upsertReservations ?? [],
    removeReservations: d.removeReservations ?? [],
    upsertFlood: d.upsertFlood ?? [],
    removeFlood: d.removeFlood ?? [],
    upsertRemoteEndpoints: d.upsertRemoteEndpoints ?? [],
    removeRemoteEndpoints: d.removeRemoteEndpoints ?? [],
    upsertFirewallPolicies: d.upsertFirewallPolicies ?? [],
    removeFirewallPolicies: d.removeFirewallPolicies ?? [],
    upsertAddressSets: d.upsertAddressSets ?? [],
    removeAddressSets: d.removeAddressSets ?? [],
    upsertFirewallVnfs: d.upsertFirewallVnfs ?? [],
    removeFirewallVnfs: d.removeFirewallVnfs ?? [],
    upsertNetworkRoutes: d.upsertNetworkRoutes ?? [],
    removeNetworkRoutes: d.removeNetworkRoutes ?? [],
  };
}

export function applyPlanDelta(plan: HostPlan, delta: PlanDelta, revision: number): HostPlan {
  const d = fullDelta(delta);
  const base = normalizePlan(plan);
  const removed = new Set(d.removeNetworks);
  const networks = new Map(base.networks.filter((n) => !removed.has(n.name)).map((n) => [n.name, n]));
  for (const n of d.upsertNetworks) networks.set(n.name, n);
  return normalizePlan({
    host: base.host,
    revision,
    networks: [...networks.values()],
    blocks: upsert(base.blocks, d.upsertBlocks, d.removeBlocks, blockKey, blockKey),
    reservations: upsert(base.reservations, d.upsertReservations, d.removeReservations, reservationKey, reservationKey),
    flood: upsert<PlanFloodEntry, PlanFloodEntry>(base.flood, d.upsertFlood, d.removeFlood, floodKey, floodKey),
    remoteEndpoints: upsert<PlanRemoteEndpoint, string>(base.remoteEndpoints, d.upsertRemoteEndpoints, d.removeRemoteEndpoints, nameKey, (n) => n),
    firewallPolicies: upsert<PlanFirewallPolicy, string>(base.firewallPolicies, keepUnchangedRules(base.firewallPolicies, d.upsertFirewallPolicies), d.removeFirewallPolicies, nameKey, (n) => n),
    addressSets: upsert<PlanAddressSet, string>(base.addressSets, d.upsertAddressSets, d.removeAddressSets, nameKey, (n) => n),
    // Firewall VNFs and the routes through them: absent when there are none (model/vnf-plan-delta.ts).
    ...applyVnfDelta(base, d),
  });
}

/**
 * The networks whose overlay entries (flood, remote endpoints) a delta
 * changes, or undefined when it changes networks themselves, or the
 * firewall (policies, address sets), and so needs a full reconcile pass.
 * Blocks and reservations touch no kernel object.
 */
export function overlayNetworksTouched(previous: HostPlan, delta: PlanDelta): Set<string> | undefined {
  const d = fullDelta(delta);
  if (d.upsertNetworks.length > 0 || d.removeNetworks.length > 0) return undefined;
  if (firewallTouched(d)) return undefined;
  if (vnfTouched(d)) return undefined; // Firewall VNFs and endpoint routes: the full pass
  const out = new Set<string>();
  const before = new Map(previous.remoteEndpoints.map((r) => [r.name, r.network]));
  for (const f of [...d.upsertFlood, ...d.removeFlood]) out.add(f.network);
  for (const r of d.upsertRemoteEndpoints) {
    out.add(r.network);
    const was = before.get(r.name); // an endpoint that moved network leaves the old one
    if (was !== undefined) out.add(was);
  }
  for (const name of d.removeRemoteEndpoints) {
    const was = before.get(name);
    if (was !== undefined) out.add(was);
  }
  return out;
}

/** Does the delta change firewall policies or address sets? */
export function firewallTouched(delta: PlanDelta): boolean {
  const d = fullDelta(delta);
  return d.upsertFirewallPolicies.length + d.removeFirewallPolicies.length + d.upsertAddressSets.length + d.removeAddressSets.length > 0;
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Equality of values parsed from JSON (no undefined, functions or class instances): key order aside, the same text. */
function sameParsed(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const array = Array.isArray(a);
  if (array !== Array.isArray(b)) return false;
  if (array) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameParsed(x[i], y[i])) return false;
    return true;
  }
  // for...in, not Object.keys: no array per object (this runs over every rule of a policy)
  let fields = 0;
  for (const k in a) {
    if (!hasOwn(a, k)) continue;
    if (!hasOwn(b, k) || !sameParsed((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    fields++;
  }
  for (const k in b) if (hasOwn(b, k)) fields--;
  return fields === 0;
}

function keepDirection(old: PlanPolicyDirection | undefined, next: PlanPolicyDirection): PlanPolicyDirection {
  if (!old) return next;
  const byName = new Map<string, PlanFirewallRule | undefined>();
  // A name used twice (plans never do) reuses neither rule.
  for (const r of old.rules) byName.set(r.name, byName.has(r.name) ? undefined : r);
  let kept = 0;
  const rules = next.rules.map((r) => {
    const o = byName.get(r.name);
    if (o === undefined || !sameParsed(o, r)) return r;
    byName.delete(r.name);
    kept++;
    return o;
  });
  return kept === 0 ? next : { ...next, rules };
}

/**
 * Upserted policies with every rule that did not change replaced by the
 * rule object the plan already holds (same name and direction, equal
 * content). A policy arrives whole, parsed afresh, when one of its rules
 * changes; the firewall compiler caches its work per rule object
 * (policy-compiler.ts, rule-boxes.ts), so this is what lets a one-rule
 * change of a large policy compile one rule instead of all of them.
 */
export function keepUnchangedRules(current: readonly PlanFirewallPolicy[], upserts: PlanFirewallPolicy[]): PlanFirewallPolicy[] {
  if (upserts.length === 0 || current.length === 0) return upserts;
  const byName = new Map(current.map((p) => [p.name, p]));
  return upserts.map((p) => {
    const old = byName.get(p.name);
    if (!old) return p;
    const out = { ...p };
    if (p.ingress) out.ingress = keepDirection(old.ingress, p.ingress);
    if (p.egress) out.egress = keepDirection(old.egress, p.egress);
    return out.ingress === p.ingress && out.egress === p.egress ? p : out;
  });
}

/** The plan with one more block (a grant that arrives before the matching delta). */
export function withBlock(plan: HostPlan, block: PlanBlock): HostPlan {
  if (plan.blocks.some((b) => blockKey(b) === blockKey(block))) return plan;
  return { ...plan, blocks: [...plan.blocks, block] };
}
