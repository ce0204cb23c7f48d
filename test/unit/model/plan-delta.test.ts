import type { HostPlan, PlanAddressSet, PlanDelta, PlanFirewallPolicy, PlanFloodEntry, PlanRemoteEndpoint } from '../../../model/agent-protocol.js';
import { applyPlanDelta, emptyPlanDelta, floodKey, isEmptyPlanDelta } from '../../../model/plan-delta.js';

const flood = (network: string, host: string, vtep: string): PlanFloodEntry => ({ network, host, vtep });
const remote = (name: string, vtep = '192.0.2.2', mac = '02:00:00:00:00:01'): PlanRemoteEndpoint => ({ name, network: 'n', ip: '10.0.0.5', mac, host: 'h2', vtep });

function plan(over: Partial<HostPlan> = {}): HostPlan {
  return { host: 'h1', revision: 1, networks: [], blocks: [], reservations: [], flood: [], remoteEndpoints: [], firewallPolicies: [], addressSets: [], vnfs: [], networkRoutes: [], ...over };
}

describe('emptyPlanDelta / isEmptyPlanDelta', () => {
  test('the empty delta is empty and applies as a no-op (but for the revision)', () => {
    const p = plan({ flood: [flood('n', 'h2', '192.0.2.2')], remoteEndpoints: [remote('a')] });
    expect(isEmptyPlanDelta(emptyPlanDelta())).toBe(true);
    expect(applyPlanDelta(p, emptyPlanDelta(), 2)).toEqual({ ...p, revision: 2 });
  });

  test.each<[keyof PlanDelta, unknown]>([
    ['upsertFlood', flood('n', 'h2', '192.0.2.2')],
    ['removeFlood', flood('n', 'h2', '192.0.2.2')],
    ['upsertRemoteEndpoints', remote('a')],
    ['removeRemoteEndpoints', 'a'],
    ['upsertNetworks', { name: 'n' }],
    ['removeReservations', { network: 'n', ip: '10.0.0.1', owner: 'x' }],
    ['upsertFirewallPolicies', { name: 'p' }],
    ['removeFirewallPolicies', 'p'],
    ['upsertAddressSets', { name: 's', addresses: [] }],
    ['removeAddressSets', 's'],
    ['upsertVnfs', { kind: 'Firewall', name: 'fw', generation: 1, netns: 'x', interfaces: [], spec: {} }],
    ['removeVnfs', { kind: 'Firewall', name: 'fw' }],
    ['upsertNetworkRoutes', { network: 'n', dst: '10.1.0.0/24', via: '10.0.0.254', owner: 'Firewall/fw' }],
    ['removeNetworkRoutes', { network: 'n', dst: '10.1.0.0/24' }],
  ])('a delta with only %s is not empty', (field, entry) => {
    expect(isEmptyPlanDelta({ ...emptyPlanDelta(), [field]: [entry] })).toBe(false);
  });
});

describe('applyPlanDelta: flood entries (key: network + vtep)', () => {
  test('an upsert with a new vtep adds an entry; one with the same key replaces it', () => {
    const p = plan({ flood: [flood('n', 'h2', '192.0.2.2')] });
    const next = applyPlanDelta(p, { ...emptyPlanDelta(), upsertFlood: [flood('n', 'h3', '192.0.2.3'), flood('n', 'h2b', '192.0.2.2'), flood('m', 'h2', '192.0.2.2')] }, 2);
    expect(next.flood).toEqual([flood('m', 'h2', '192.0.2.2'), flood('n', 'h2b', '192.0.2.2'), flood('n', 'h3', '192.0.2.3')]);
  });

  test('a removal matches on network and vtep only', () => {
    const p = plan({ flood: [flood('n', 'h2', '192.0.2.2'), flood('m', 'h2', '192.0.2.2')] });
    const next = applyPlanDelta(p, { ...emptyPlanDelta(), removeFlood: [flood('n', 'renamed', '192.0.2.2'), flood('n', 'h9', '192.0.2.9')] }, 2);
    expect(next.flood).toEqual([flood('m', 'h2', '192.0.2.2')]);
  });

  test('removals go before upserts, so a delta can move an entry', () => {
    const p = plan({ flood: [flood('n', 'h2', '192.0.2.2')] });
    const next = applyPlanDelta(p, { ...emptyPlanDelta(), removeFlood: [flood('n', 'h2', '192.0.2.2')], upsertFlood: [flood('n', 'h2', '192.0.2.2')] }, 2);
    expect(next.flood).toEqual([flood('n', 'h2', '192.0.2.2')]);
  });

  test('floodKey separates network and vtep unambiguously', () => {
    expect(floodKey(flood('a', 'x', 'b.c'))).not.toBe(floodKey(flood('a.b', 'x', 'c')));
  });
});

describe('applyPlanDelta: remote endpoints (key: name)', () => {
  test('upsert adds or replaces by name, remove drops by name, the result is sorted by name', () => {
    const p = plan({ remoteEndpoints: [remote('b'), remote('c')] });
    const next = applyPlanDelta(
      p,
      { ...emptyPlanDelta(), upsertRemoteEndpoints: [remote('b', '192.0.2.7', '02:00:00:00:00:07'), remote('a')], removeRemoteEndpoints: ['c', 'unknown'] },
      5,
    );
    expect(next.remoteEndpoints).toEqual([remote('a'), remote('b', '192.0.2.7', '02:00:00:00:00:07')]);
    expect(next.revision).toBe(5);
  });

  test('the input plan is left untouched', () => {
    const p = plan({ remoteEndpoints: [remote('b')], flood: [flood('n', 'h2', '192.0.2.2')] });
    const copy = structuredClone(p);
    applyPlanDelta(p, { ...emptyPlanDelta(), removeRemoteEndpoints: ['b'], removeFlood: [flood('n', 'h2', '192.0.2.2')] }, 2);
    expect(p).toEqual(copy);
  });
});

describe('applyPlanDelta: firewall policies and address sets (key: name)', () => {
  const policy = (name: string, generation = 1): PlanFirewallPolicy => ({ name, priority: 1000, generation, appliesTo: `applies:${name}`, ingress: { rules: [{ name: '0', action: 'allow', protocol: 'any', peers: [{ set: 'peer:*:app=web' }] }] } });
  const set = (name: string, ...addresses: string[]): PlanAddressSet => ({ name, addresses });

  test('upserts add or replace by name, removals drop by name, results sorted by name', () => {
    const p = plan({ firewallPolicies: [policy('b'), policy('c')], addressSets: [set('applies:b', '10.0.0.1'), set('peer:*:app=web')] });
    const next = applyPlanDelta(
      p,
      {
        ...emptyPlanDelta(),
        upsertFirewallPolicies: [policy('b', 2), policy('a')],
        removeFirewallPolicies: ['c', 'unknown'],
        upsertAddressSets: [set('peer:*:app=web', '10.0.0.2', '10.0.0.3'), set('applies:a', '10.0.0.4')],
        removeAddressSets: ['applies:b'],
      },
      3,
    );
    expect(next.firewallPolicies).toEqual([policy('a'), policy('b', 2)]);
    expect(next.addressSets).toEqual([set('applies:a', '10.0.0.4'), set('peer:*:app=web', '10.0.0.2', '10.0.0.3')]);
  });
});
