// The agent's side of the firewall plan fields: deltas apply, a firewall
// change asks for a full pass, and a policy upserted whole keeps the rule
// objects it had.
import { applyDeltaKeepingRules as applyPlanDelta, firewallTouched, keepUnchangedRules, overlayNetworksTouched } from '../../../../agents/state/plan-changes.js';
import { PolicyReconciler } from '../../../../agents/reconcile/policy-reconciler.js';
import type { HostPlan, PlanAddressSet, PlanFirewallPolicy, PlanFirewallRule } from '../../../../model/agent-protocol.js';
import { emptyPlanDelta } from '../../../../model/plan-delta.js';

const policy = (name: string, generation = 1): PlanFirewallPolicy => ({ name, priority: 1000, generation, appliesTo: `applies:${name}`, egress: { rules: [] } });
const set = (name: string, ...addresses: string[]): PlanAddressSet => ({ name, addresses });
const plan = (over: Partial<HostPlan> = {}): HostPlan => ({
  host: 'h1', revision: 1, networks: [], blocks: [], reservations: [], flood: [], remoteEndpoints: [], firewallPolicies: [], addressSets: [], vnfs: [], networkRoutes: [], ...over,
});

test('applyPlanDelta upserts and removes policies and address sets by name', () => {
  const p = plan({ firewallPolicies: [policy('a'), policy('b')], addressSets: [set('applies:a', '10.0.0.1'), set('applies:b')] });
  const next = applyPlanDelta(
    p,
    { ...emptyPlanDelta(), upsertFirewallPolicies: [policy('a', 2)], removeFirewallPolicies: ['b'], upsertAddressSets: [set('applies:a', '10.0.0.1', '10.0.0.2')], removeAddressSets: ['applies:b'] },
    2,
  );
  expect(next.firewallPolicies).toEqual([policy('a', 2)]);
  expect(next.addressSets).toEqual([set('applies:a', '10.0.0.1', '10.0.0.2')]);
});

test('a delta without firewall changes does not touch the firewall', () => {
  expect(firewallTouched(emptyPlanDelta())).toBe(false);
  expect(firewallTouched({ ...emptyPlanDelta(), upsertAddressSets: [set('applies:a')] })).toBe(true);
});

test('a delta that changes the firewall needs the policy reconciler\'s full pass; one that does not concerns it not at all', () => {
  const policy = new PolicyReconciler({ error: () => {} }, { list: () => [] });
  const previous = plan();
  expect(policy.scope({ kind: 'delta', previous, delta: { ...emptyPlanDelta(), upsertAddressSets: [set('applies:a', '10.0.0.1')] } })).toBe('full');
  expect(policy.scope({ kind: 'delta', previous, delta: { ...emptyPlanDelta(), removeFirewallPolicies: ['a'] } })).toBe('full');
  expect(policy.scope({ kind: 'delta', previous, delta: emptyPlanDelta() })).toBe('none');
  expect(overlayNetworksTouched(previous, { ...emptyPlanDelta(), upsertAddressSets: [set('applies:a', '10.0.0.1')] })).toEqual(new Set());
});

describe('a policy upserted whole keeps the rule objects it already had', () => {
  const rule = (name: string, port: number): PlanFirewallRule => ({ name, action: 'allow', protocol: 'tcp', peers: [{ cidr: '198.18.0.0/24' }], ports: [[port, port]] });
  const withRules = (generation: number, ingress: PlanFirewallRule[], egress?: PlanFirewallRule[]): PlanFirewallPolicy => {
    const p: PlanFirewallPolicy = { name: 'big', priority: 1000, generation, appliesTo: 'applies:big', ingress: { defaultAction: 'deny', rules: ingress } };
    if (egress) p.egress = { rules: egress };
    return p;
  };
  // as the wire delivers it: every object new
  const parsed = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

  test('a one-rule change: every other rule is the object the plan held, the changed one is the new one', () => {
    const before = withRules(1, [rule('a', 1), rule('b', 2), rule('c', 3)], [rule('a', 9)]);
    const upsert = parsed(withRules(2, [rule('a', 1), rule('b', 22), rule('c', 3)], [rule('a', 9)]));
    const next = applyPlanDelta(plan({ firewallPolicies: [before] }), { ...emptyPlanDelta(), upsertFirewallPolicies: [upsert] }, 2).firewallPolicies[0]!;
    expect(next).toEqual(upsert);
    const rules = next.ingress!.rules;
    expect(rules[0]).toBe(before.ingress!.rules[0]);
    expect(rules[1]).toBe(upsert.ingress!.rules[1]);
    expect(rules[2]).toBe(before.ingress!.rules[2]);
    // by name within a direction, never across directions
    expect(next.egress!.rules[0]).toBe(before.egress!.rules[0]);
  });

  test('a rule renamed, moved or new is not taken from the old policy by position', () => {
    const before = withRules(1, [rule('a', 1), rule('b', 2)]);
    const upsert = parsed(withRules(2, [rule('b', 2), rule('x', 1)]));
    const [next] = keepUnchangedRules([before], [upsert]);
    expect(next!.ingress!.rules[0]).toBe(before.ingress!.rules[1]);
    expect(next!.ingress!.rules[1]).toBe(upsert.ingress!.rules[1]);
  });

  test('nothing in common: the upsert itself; a new policy: itself', () => {
    const upsert = parsed(withRules(2, [rule('z', 1)]));
    expect(keepUnchangedRules([withRules(1, [rule('a', 1)])], [upsert])[0]).toBe(upsert);
    expect(keepUnchangedRules([], [upsert])[0]).toBe(upsert);
  });
});
