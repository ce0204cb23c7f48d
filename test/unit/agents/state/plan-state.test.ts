import { overlayNetworksTouched, withBlock } from '../../../../agents/state/plan-changes.js';
import { applyPlanDelta } from '../../../../model/plan-delta.js';
import type { PlanDelta } from '../../../../model/agent-protocol.js';
import { emptyDelta, makeHarness, planNetwork, testPlan, type Harness } from '../support/harness.js';

const empty: PlanDelta = emptyDelta();

describe('applyPlanDelta', () => {
  test('upserts and removes networks, blocks and reservations by key', () => {
    const plan = testPlan({ reservations: [{ network: 'blue', ip: '100.64.0.9', owner: 'a' }] });
    const red = planNetwork('red', 0x11, '100.64.1.0/24', '100.64.1.1');
    const next = applyPlanDelta(plan, {
      ...empty,
      upsertNetworks: [red, { ...planNetwork('blue', 0x10), mtu: 1400 }],
      removeNetworks: [],
      upsertBlocks: [{ network: 'red', cidr: '100.64.1.0/26' }],
      removeBlocks: [{ network: 'blue', cidr: '100.64.0.0/26' }],
      upsertReservations: [{ network: 'blue', ip: '100.64.0.9', owner: 'b' }],
      removeReservations: [],
      upsertFlood: [],
      removeFlood: [],
      upsertRemoteEndpoints: [],
      removeRemoteEndpoints: [],
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

describe('overlay fields of the plan', () => {
  const b2 = { name: 'b2', network: 'blue', ip: '100.64.0.66', mac: '02:00:00:00:00:b2', host: 'h2', vtep: '198.18.0.12' };
  const r2 = { name: 'r2', network: 'red', ip: '100.64.1.66', mac: '02:00:00:00:01:b2', host: 'h2', vtep: '198.18.0.12' };

  test('flood entries are keyed by network + vtep, remote endpoints by name', () => {
    const plan = testPlan({
      flood: [{ network: 'blue', host: 'h2', vtep: '198.18.0.12' }, { network: 'red', host: 'h2', vtep: '198.18.0.12' }],
      remoteEndpoints: [b2],
    });
    const next = applyPlanDelta(plan, {
      ...emptyDelta(),
      upsertFlood: [{ network: 'blue', host: 'h3', vtep: '198.18.0.13' }, { network: 'blue', host: 'h2-renamed', vtep: '198.18.0.12' }],
      removeFlood: [{ network: 'red', host: 'whoever', vtep: '198.18.0.12' }],
      upsertRemoteEndpoints: [{ ...b2, vtep: '198.18.0.13', host: 'h3' }, r2],
      removeRemoteEndpoints: ['nope'],
    }, 2);
    expect(next.flood).toEqual([{ network: 'blue', host: 'h2-renamed', vtep: '198.18.0.12' }, { network: 'blue', host: 'h3', vtep: '198.18.0.13' }]);
    expect(next.remoteEndpoints).toEqual([{ ...b2, vtep: '198.18.0.13', host: 'h3' }, r2]);
    expect(applyPlanDelta(next, { ...emptyDelta(), removeRemoteEndpoints: ['b2'] }, 3).remoteEndpoints).toEqual([r2]);
  });

  test('overlayNetworksTouched: the networks whose entries a delta changes, or undefined when networks change', () => {
    const plan = testPlan({ remoteEndpoints: [b2, r2] });
    expect(overlayNetworksTouched(plan, { ...emptyDelta(), upsertBlocks: [{ network: 'blue', cidr: '100.64.0.64/26' }] })).toEqual(new Set());
    expect(overlayNetworksTouched(plan, { ...emptyDelta(), removeRemoteEndpoints: ['r2', 'unknown'] })).toEqual(new Set(['red']));
    expect(overlayNetworksTouched(plan, { ...emptyDelta(), upsertFlood: [{ network: 'green', host: 'h3', vtep: '198.18.0.13' }] })).toEqual(new Set(['green']));
    // an endpoint that moved network touches both
    expect(overlayNetworksTouched(plan, { ...emptyDelta(), upsertRemoteEndpoints: [{ ...b2, network: 'red' }] })).toEqual(new Set(['red', 'blue']));
    expect(overlayNetworksTouched(plan, { ...emptyDelta(), upsertNetworks: [planNetwork('blue', 0x10)] })).toBeUndefined();
    expect(overlayNetworksTouched(plan, { ...emptyDelta(), removeNetworks: ['blue'] })).toBeUndefined();
  });

  test('listeners hear what changed: a delta with the plan before it, a full plan, a block', () => {
    const h2 = makeHarness();
    try {
      const kinds: string[] = [];
      h2.plan.onChange((_p, c) => kinds.push(c.kind === 'delta' ? `delta from ${c.previous.revision}` : c.kind));
      h2.plan.applyDelta(1, 2, emptyDelta());
      h2.plan.replace(testPlan({ revision: 7 }));
      h2.plan.addBlock({ network: 'blue', cidr: '100.64.0.64/26' });
      expect(kinds).toEqual(['delta from 1', 'replace', 'block']);
    } finally {
      h2.cleanup();
    }
  });
});
