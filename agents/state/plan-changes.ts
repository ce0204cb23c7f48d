// How the agent reads a plan change (the delta itself is applied by
// model/plan-delta.ts, as the controller's tests apply it): which overlay
// entries it touches (an incremental pass suffices), whether it touches the
// firewall policies, and the upserted policies' unchanged rules kept as the
// objects the compiler has cached work for.
import type { HostPlan, PlanBlock, PlanDelta, PlanFirewallPolicy, PlanFirewallRule, PlanPolicyDirection } from '../../model/agent-protocol.js';
import { applyPlanDelta, blockKey } from '../../model/plan-delta.js';

/**
 * The networks whose overlay entries (flood, remote endpoints) a delta
 * changes, or undefined when it changes networks themselves and so needs
 * a full pass. Blocks and reservations touch no kernel object. (Policies
 * and VNFs are their own reconcilers' concern: agents/reconcile/.)
 */
export function overlayNetworksTouched(previous: HostPlan, d: PlanDelta): Set<string> | undefined {
  if (d.upsertNetworks.length > 0 || d.removeNetworks.length > 0) return undefined;
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
export function firewallTouched(d: PlanDelta): boolean {
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

/** model/plan-delta.ts applyPlanDelta, with the upserted policies' unchanged rules kept (keepUnchangedRules). */
export function applyDeltaKeepingRules(plan: HostPlan, delta: PlanDelta, revision: number): HostPlan {
  return applyPlanDelta(plan, { ...delta, upsertFirewallPolicies: keepUnchangedRules(plan.firewallPolicies, delta.upsertFirewallPolicies) }, revision);
}
