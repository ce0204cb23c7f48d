import { defaultGateway6, diffPlans, planHost, type PlanInput } from '../../../../controller/planner/host-planner.js';
import type { HostPlan } from '../../../../model/agent-protocol.js';
import { applyPlanDelta, isEmptyPlanDelta } from '../../../../model/plan-delta.js';
import { network } from '../support/harness.js';

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    revision: 7,
    networks: [
      { network: network('web', { subnet: '10.0.0.0/24' }), vni: 4096 },
      { network: network('db', { subnet: '10.1.0.0/24', mtu: 1400, subnet6: 'fd00:1::/64' }), vni: 4097 },
    ],
    hosts: { h1: { underlayMtu: 9000 }, h2: {} },
    blocks: [
      { network: 'web', cidr: '10.0.0.0/26', host: 'h1' },
      { network: 'web', cidr: '10.0.0.64/26', host: 'h2' },
    ],
    reservations: [
      { network: 'web', ip: '10.0.0.10', owner: 'c1', host: 'h1', source: 'agent' },
      { network: 'web', ip: '10.0.0.70', owner: 'c2', host: 'h1', source: 'declared', ref: 'c2.eth0' },
      { network: 'db', ip: '10.1.0.200', owner: 'c3', host: 'h2', source: 'declared', ref: 'c3.eth0' },
    ],
    ...over,
  };
}

describe('planHost', () => {
  test('every network is in every plan, with bridge name, gateway and MTU from the host underlay', () => {
    const p1 = planHost(input(), 'h1');
    expect(p1.networks.map((n) => n.name)).toEqual(['db', 'web']);
    expect(p1.networks[1]).toEqual({ name: 'web', vni: 4096, subnet: '10.0.0.0/24', prefixLength: 24, gateway: '10.0.0.1', mtu: 8950, bridge: 'wb-001000' });
    expect(p1.networks[0]).toMatchObject({ mtu: 1400, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' });
    const p3 = planHost(input(), 'h3');
    expect(p3.networks.find((n) => n.name === 'web')?.mtu).toBe(1450);
    expect(p3.blocks).toEqual([]);
    expect(p3.revision).toBe(7);
  });

  test("a host's plan holds its own blocks and every address in them it must not hand out", () => {
    const p1 = planHost(input(), 'h1');
    expect(p1.blocks).toEqual([{ network: 'web', cidr: '10.0.0.0/26' }]);
    expect(p1.reservations).toEqual([
      { network: 'web', ip: '10.0.0.0', owner: 'weft:network' },
      { network: 'web', ip: '10.0.0.1', owner: 'weft:gateway' },
      { network: 'web', ip: '10.0.0.10', owner: 'c1' },
      // Reserved for h1 but inside h2's block: h1 gets it so its agent can give it to c2.
      { network: 'web', ip: '10.0.0.70', owner: 'c2' },
    ]);
    const p2 = planHost(input(), 'h2');
    expect(p2.reservations).toEqual([
      { network: 'db', ip: '10.1.0.200', owner: 'c3' },
      { network: 'web', ip: '10.0.0.70', owner: 'c2' },
    ]);
  });

  test('defaultGateway6 is the first address after the network address', () => {
    expect(defaultGateway6('fd00:10::/64')).toBe('fd00:10::1');
    expect(defaultGateway6('fd00:10::ff00/120')).toBe('fd00:10::ff01');
  });
});

describe('diffPlans', () => {
  const base = planHost(input(), 'h1');

  test('identical plans give an empty delta', () => {
    expect(isEmptyPlanDelta(diffPlans(base, planHost(input({ revision: 8 }), 'h1')))).toBe(true);
  });

  test('added, changed and removed entries appear once each', () => {
    const next = planHost(
      input({
        revision: 9,
        networks: [
          { network: network('web', { subnet: '10.0.0.0/24', mtu: 1300 }), vni: 4096 },
          { network: network('ops', { subnet: '10.2.0.0/24' }), vni: 4098 },
        ],
        blocks: [
          { network: 'web', cidr: '10.0.0.128/26', host: 'h1' },
          { network: 'ops', cidr: '10.2.0.0/26', host: 'h1' },
        ],
        reservations: [{ network: 'web', ip: '10.0.0.130', owner: 'c9', source: 'agent' }],
      }),
      'h1',
    );
    const d = diffPlans(base, next);
    expect(d.upsertNetworks.map((n) => `${n.name}:${n.mtu}`)).toEqual(['ops:8950', 'web:1300']);
    expect(d.removeNetworks).toEqual(['db']);
    expect(d.upsertBlocks).toEqual([
      { network: 'ops', cidr: '10.2.0.0/26' },
      { network: 'web', cidr: '10.0.0.128/26' },
    ]);
    expect(d.removeBlocks).toEqual([{ network: 'web', cidr: '10.0.0.0/26' }]);
    expect(d.upsertReservations.map((r) => r.ip)).toEqual(['10.2.0.0', '10.2.0.1', '10.0.0.130']);
    expect(d.removeReservations.map((r) => r.ip)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.10', '10.0.0.70']);
  });

  test('a reservation whose owner changed is upserted', () => {
    const next = planHost(input({ reservations: [{ network: 'web', ip: '10.0.0.10', owner: 'other', host: 'h1', source: 'agent' }] }), 'h1');
    expect(diffPlans(base, next).upsertReservations).toEqual([{ network: 'web', ip: '10.0.0.10', owner: 'other' }]);
  });

  test('applying diff(old, new) to old gives new, for a sequence of random plans', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let prev: HostPlan = planHost(input(), 'h1');
    for (let i = 0; i < 100; i++) {
      const nets = ['a', 'b', 'c', 'd'].filter(() => rnd(2) === 0);
      const next = planHost(
        {
          revision: 10 + i,
          networks: nets.map((n, k) => ({ network: network(n, { subnet: `10.${k + 10}.0.0/24`, ...(rnd(2) ? { mtu: 1300 + rnd(100) } : {}) }), vni: 5000 + k })),
          hosts: { h1: { underlayMtu: 1500 + rnd(3) * 1000 } },
          blocks: nets.filter(() => rnd(2) === 0).map((n) => ({ network: n, cidr: `10.${nets.indexOf(n) + 10}.0.${rnd(4) * 64}/26`, host: 'h1' })),
          reservations: nets.map((n) => ({ network: n, ip: `10.${nets.indexOf(n) + 10}.0.${2 + rnd(250)}`, owner: `c${rnd(3)}`, host: 'h1', source: 'agent' as const })),
        },
        'h1',
      );
      expect(applyPlanDelta(prev, diffPlans(prev, next), next.revision)).toEqual(next);
      prev = next;
    }
  });
});
