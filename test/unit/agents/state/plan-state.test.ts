import { applyPlanDelta, withBlock } from '../../../../agents/state/apply-plan-delta.js';
import type { PlanDelta } from '../../../../model/agent-protocol.js';
import { makeHarness, planNetwork, testPlan, type Harness } from '../support/harness.js';

const empty: PlanDelta = { upsertNetworks: [], removeNetworks: [], upsertBlocks: [], removeBlocks: [], upsertReservations: [], removeReservations: [] };

describe('applyPlanDelta', () => {
  test('upserts and removes networks, blocks and reservations by key', () => {
    const plan = testPlan({ reservations: [{ network: 'blue', ip: '100.64.0.9', owner: 'a' }] });
    const red = planNetwork('red', 0x11, '100.64.1.0/24', '100.64.1.1');
    const next = applyPlanDelta(plan, {
      upsertNetworks: [red, { ...planNetwork('blue', 0x10), mtu: 1400 }],
      removeNetworks: [],
      upsertBlocks: [{ network: 'red', cidr: '100.64.1.0/26' }],
      removeBlocks: [{ network: 'blue', cidr: '100.64.0.0/26' }],
      upsertReservations: [{ network: 'blue', ip: '100.64.0.9', owner: 'b' }],
      removeReservations: [],
    }, 2);
    expect(next.revision).toBe(2);
    expect(next.networks.map((n) => [n.name, n.mtu])).toEqual([['blue', 1400], ['red', 1450]]);
    expect(next.blocks).toEqual([{ network: 'red', cidr: '100.64.1.0/26' }]);
    expect(next.reservations).toEqual([{ network: 'blue', ip: '100.64.0.9', owner: 'b' }]);
    expect(plan.revision).toBe(1); // input untouched
    expect(applyPlanDelta(next, { ...empty, removeNetworks: ['red'], removeReservations: [{ network: 'blue', ip: '100.64.0.9', owner: 'b' }] }, 3)).toMatchObject({
      networks: [expect.objectContaining({ name: 'blue' })],
      reservations: [],
    });
  });

  test('withBlock adds a block once', () => {
    const plan = testPlan();
    const b = { network: 'blue', cidr: '100.64.0.64/26' };
    const once = withBlock(plan, b);
    expect(once.blocks).toHaveLength(2);
    expect(withBlock(once, b)).toBe(once);
  });
});

describe('PlanState', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('a delta must start at the current revision', () => {
    h = makeHarness();
    expect(h.plan.applyDelta(5, 6, empty)).toBe(false);
    expect(h.plan.current()?.revision).toBe(1);
    expect(h.plan.applyDelta(1, 2, empty)).toBe(true);
    expect(h.store.loadPlan()?.revision).toBe(2);
  });

  test('without a plan nothing applies and there is no source', () => {
    h = makeHarness({ plan: null });
    expect(h.plan.current()).toBeUndefined();
    expect(h.plan.source()).toBeUndefined();
    expect(h.plan.applyDelta(0, 1, empty)).toBe(false);
  });
});
