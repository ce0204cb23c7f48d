import type { HostPlan, PlanDelta, PlanFloodEntry, PlanRemoteEndpoint } from '../../../model/agent-protocol.js';
import { applyPlanDelta, emptyPlanDelta, floodKey, isEmptyPlanDelta } from '../../../model/plan-delta.js';

const flood = (network: string, host: string, vtep: string): PlanFloodEntry => ({ network, host, vtep });
const remote = (name: string, vtep = '192.0.2.2', mac = '02:00:00:00:00:01'): PlanRemoteEndpoint => ({ name, network: 'n', ip: '10.0.0.5', mac, host: 'h2', vtep });

function plan(over: Partial<HostPlan> = {}): HostPlan {
  return { host: 'h1', revision: 1, networks: [], blocks: [], reservations: [], flood: [], remoteEndpoints: [], ...over };
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
