// The agent's side of the firewall plan fields: old cached plans load, deltas
// with and without the firewall lists apply, and a firewall change asks for a
// full pass. (Standalone: the agents' test harness is being changed.)
import { applyPlanDelta, firewallTouched, normalizePlan, overlayNetworksTouched } from '../../../../agents/state/apply-plan-delta.js';
import type { HostPlan, PlanAddressSet, PlanDelta, PlanFirewallPolicy } from '../../../../model/agent-protocol.js';
import { emptyPlanDelta } from '../../../../model/plan-delta.js';

const policy = (name: string, generation = 1): PlanFirewallPolicy => ({ name, priority: 1000, generation, appliesTo: `applies:${name}`, egress: { rules: [] } });
const set = (name: string, ...addresses: string[]): PlanAddressSet => ({ name, addresses });
const plan = (over: Partial<HostPlan> = {}): HostPlan => ({
  host: 'h1', revision: 1, networks: [], blocks: [], reservations: [], flood: [], remoteEndpoints: [], firewallPolicies: [], addressSets: [], ...over,
});

test('normalizePlan gives a plan cached by an older agent empty firewall lists', () => {
  const { firewallPolicies: _f, addressSets: _s, ...cached } = plan();
  expect(normalizePlan(cached as HostPlan)).toMatchObject({ firewallPolicies: [], addressSets: [] });
  const current = plan({ firewallPolicies: [policy('a')], addressSets: [set('applies:a', '10.0.0.1')] });
  expect(normalizePlan(current)).toEqual(current);
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

test('a delta from an older controller, without the firewall lists, keeps the policies', () => {
  const p = plan({ firewallPolicies: [policy('a')], addressSets: [set('applies:a')] });
  const { upsertFirewallPolicies: _a, removeFirewallPolicies: _b, upsertAddressSets: _c, removeAddressSets: _d, ...old } = emptyPlanDelta();
  expect(applyPlanDelta(p, old as PlanDelta, 2)).toEqual({ ...p, revision: 2 });
  expect(firewallTouched(old as PlanDelta)).toBe(false);
});

test('a delta that changes the firewall needs a full pass; one that does not keeps the overlay shortcut', () => {
  const p = plan();
  expect(overlayNetworksTouched(p, { ...emptyPlanDelta(), upsertAddressSets: [set('applies:a', '10.0.0.1')] })).toBeUndefined();
  expect(overlayNetworksTouched(p, { ...emptyPlanDelta(), removeFirewallPolicies: ['a'] })).toBeUndefined();
  expect(overlayNetworksTouched(p, emptyPlanDelta())).toEqual(new Set());
});
