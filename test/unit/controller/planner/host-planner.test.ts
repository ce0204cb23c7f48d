import {
  defaultGateway6, diffPlans, duplicateVteps, hostsWithoutVtep, planHost, type PlanEndpointInfo, type PlanInput,
} from '../../../../controller/planner/host-planner.js';
import type { HostPlan } from '../../../../model/agent-protocol.js';
import type { FirewallPolicy, FirewallPolicySpec } from '../../../../model/firewall.js';
import { applyPlanDelta, emptyPlanDelta, isEmptyPlanDelta } from '../../../../model/plan-delta.js';
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
    endpoints: [],
    vnfs: [],
    ...over,
  };
}

describe('planHost', () => {
  test('every network is in every plan, with bridge and VXLAN names, anycast gateway MAC, gateway and MTU from the host underlay', () => {
    const p1 = planHost(input(), 'h1');
    expect(p1.networks.map((n) => n.name)).toEqual(['db', 'web']);
    expect(p1.networks[1]).toEqual({
      name: 'web', vni: 4096, subnet: '10.0.0.0/24', prefixLength: 24, gateway: '10.0.0.1', mtu: 8950, bridge: 'wb-001000', vxlan: 'wx-001000', gatewayMac: '02:77:66:00:10:00',
    });
    expect(p1.networks[0]).toMatchObject({ mtu: 1400, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' });
    const p3 = planHost(input(), 'h3');
    expect(p3.networks.find((n) => n.name === 'web')?.mtu).toBe(1450);
    expect(p3.blocks).toEqual([]);
    expect(p3.revision).toBe(7);
    // The anycast gateway MAC is a function of the network alone: the same on every host.
    expect(p3.networks.map((n) => n.gatewayMac)).toEqual(p1.networks.map((n) => n.gatewayMac));
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
          hosts: { h1: { underlayMtu: 1500 + rnd(3) * 1000 }, h2: { address: `192.0.2.${2 + rnd(2)}` }, h3: rnd(4) ? { address: '192.0.2.9' } : {} },
          blocks: nets.filter(() => rnd(2) === 0).map((n) => ({ network: n, cidr: `10.${nets.indexOf(n) + 10}.0.${rnd(4) * 64}/26`, host: 'h1' })),
          reservations: nets.map((n) => ({ network: n, ip: `10.${nets.indexOf(n) + 10}.0.${2 + rnd(250)}`, owner: `c${rnd(3)}`, host: 'h1', source: 'agent' as const })),
          vnfs: [],
          endpoints: ['h1', 'h2', 'h3'].flatMap((h) =>
            nets.filter(() => rnd(2) === 0).map((n) => ({ name: `${h}-${n}-${rnd(3)}`, network: n, host: h, ip: `10.${nets.indexOf(n) + 10}.0.${2 + rnd(250)}`, mac: `02:00:00:00:00:0${rnd(3)}` })),
          ),
        },
        'h1',
      );
      expect(applyPlanDelta(prev, diffPlans(prev, next), next.revision)).toEqual(next);
      prev = next;
    }
  });
});

describe('overlay entries', () => {
  const NETS = [
    { network: network('red', { subnet: '10.10.0.0/24' }), vni: 100 },
    { network: network('blue', { subnet: '10.20.0.0/24' }), vni: 200 },
  ];
  const HOSTS: PlanInput['hosts'] = { h1: { address: '192.0.2.1' }, h2: { address: '192.0.2.2' }, h3: { address: '192.0.2.3' } };
  const ep = (host: string, network: string, n: number): PlanEndpointInfo => ({
    name: `${host}-${network}-${n}`, network, host, ip: `10.${network === 'red' ? 10 : 20}.0.${Number(host.slice(1)) * 10 + n}`, mac: `02:00:00:0${host.slice(1)}:00:0${n}`,
  });
  const overlay = (endpoints: PlanEndpointInfo[], hosts = HOSTS): PlanInput => ({ revision: 1, networks: NETS, hosts, blocks: [], reservations: [], endpoints, vnfs: [] });
  /** Two endpoints per network per host: the lab matrix. */
  const matrix = ['h1', 'h2', 'h3'].flatMap((h) => ['red', 'blue'].flatMap((n) => [ep(h, n, 1), ep(h, n, 2)]));

  test('3 hosts x 2 networks: each host floods to and knows the endpoints of exactly the other carriers', () => {
    for (const host of ['h1', 'h2', 'h3']) {
      const p = planHost(overlay(matrix), host);
      const others = ['h1', 'h2', 'h3'].filter((h) => h !== host);
      expect(p.flood).toEqual(
        ['blue', 'red'].flatMap((network) => others.map((o) => ({ network, host: o, vtep: `192.0.2.${o.slice(1)}` }))),
      );
      expect(p.remoteEndpoints).toHaveLength(2 * 2 * 2);
      expect(p.remoteEndpoints.every((r) => r.host !== host && r.vtep === `192.0.2.${r.host.slice(1)}`)).toBe(true);
      expect(p.remoteEndpoints[0]).toEqual({ name: p.remoteEndpoints[0]?.name, network: 'blue', ip: expect.any(String), mac: expect.any(String), host: others[0], vtep: `192.0.2.${others[0]?.slice(1)}` });
      const names = p.remoteEndpoints.map((r) => r.name);
      expect(names).toEqual([...names].sort());
    }
  });

  test('a host without endpoints on a network knows its carriers (for its first attach there), and nobody floods it', () => {
    // h3 carries only red; h1 and h2 carry both.
    const eps = matrix.filter((e) => !(e.host === 'h3' && e.network === 'blue'));
    const p3 = planHost(overlay(eps), 'h3');
    expect(p3.flood.map((f) => `${f.network}:${f.host}`)).toEqual(['blue:h1', 'blue:h2', 'red:h1', 'red:h2']);
    expect(p3.remoteEndpoints.map((r) => r.name)).toEqual(['h1-blue-1', 'h1-blue-2', 'h1-red-1', 'h1-red-2', 'h2-blue-1', 'h2-blue-2', 'h2-red-1', 'h2-red-2']);
    // ...but nobody floods blue towards h3, so it receives no traffic of it.
    for (const h of ['h1', 'h2']) expect(planHost(overlay(eps), h).flood.filter((f) => f.network === 'blue').map((f) => f.host)).not.toContain('h3');
    // A host with no endpoints at all has every network and every carrier's entries; nobody floods to it.
    const empty = planHost(overlay(matrix), 'h4');
    expect(empty.networks).toHaveLength(2);
    expect(empty.flood).toHaveLength(2 * 3);
    expect(empty.remoteEndpoints).toHaveLength(matrix.length);
    for (const h of ['h1', 'h2', 'h3']) expect(planHost(overlay(matrix), h).flood.map((f) => f.host)).not.toContain('h4');
  });

  test("an attach on h1 adds exactly one remote endpoint to h2's and h3's plans, plus a flood entry when it is h1's first there", () => {
    const before = matrix.filter((e) => !(e.host === 'h1' && e.network === 'red'));
    const first = [...before, ep('h1', 'red', 1)];
    const second = [...first, ep('h1', 'red', 2)];
    for (const host of ['h2', 'h3']) {
      const d1 = diffPlans(planHost(overlay(before), host), planHost(overlay(first), host));
      expect(d1.upsertRemoteEndpoints).toEqual([{ name: 'h1-red-1', network: 'red', ip: '10.10.0.11', mac: '02:00:00:01:00:01', host: 'h1', vtep: '192.0.2.1' }]);
      expect(d1.upsertFlood).toEqual([{ network: 'red', host: 'h1', vtep: '192.0.2.1' }]);
      expect({ ...d1, upsertRemoteEndpoints: [], upsertFlood: [] }).toEqual(emptyPlanDelta());

      const d2 = diffPlans(planHost(overlay(first), host), planHost(overlay(second), host));
      expect(d2.upsertRemoteEndpoints.map((r) => r.name)).toEqual(['h1-red-2']);
      expect({ ...d2, upsertRemoteEndpoints: [] }).toEqual(emptyPlanDelta());
    }
    // h1 itself knew the other carriers of red before carrying it: its plan does not change.
    expect(planHost(overlay(before), 'h1').flood.filter((f) => f.network === 'red').map((f) => f.host)).toEqual(['h2', 'h3']);
    expect(diffPlans(planHost(overlay(before), 'h1'), planHost(overlay(first), 'h1'))).toEqual(emptyPlanDelta());
  });

  test("a detach removes the remote endpoint, and the flood entry with h1's last endpoint there", () => {
    const one = matrix.filter((e) => e.name !== 'h1-red-2');
    const none = one.filter((e) => e.name !== 'h1-red-1');
    for (const host of ['h2', 'h3']) {
      const d1 = diffPlans(planHost(overlay(matrix), host), planHost(overlay(one), host));
      expect({ ...emptyPlanDelta(), removeRemoteEndpoints: ['h1-red-2'] }).toEqual(d1);
      const d2 = diffPlans(planHost(overlay(one), host), planHost(overlay(none), host));
      expect({ ...emptyPlanDelta(), removeRemoteEndpoints: ['h1-red-1'], removeFlood: [{ network: 'red', host: 'h1', vtep: '192.0.2.1' }] }).toEqual(d2);
    }
    // h1 keeps the other carriers' entries (its agent drops them with the device).
    expect(diffPlans(planHost(overlay(one), 'h1'), planHost(overlay(none), 'h1'))).toEqual(emptyPlanDelta());
  });

  test('a host that moves to a new underlay address is re-pointed: the flood entry is replaced, remote endpoints upserted', () => {
    const moved = { ...HOSTS, h1: { address: '192.0.2.101' } };
    const d = diffPlans(planHost(overlay(matrix), 'h2'), planHost(overlay(matrix, moved), 'h2'));
    expect(d.removeFlood.map((f) => `${f.network}:${f.vtep}`)).toEqual(['blue:192.0.2.1', 'red:192.0.2.1']);
    expect(d.upsertFlood.map((f) => `${f.network}:${f.vtep}`)).toEqual(['blue:192.0.2.101', 'red:192.0.2.101']);
    expect(d.upsertRemoteEndpoints.map((r) => `${r.name}@${r.vtep}`)).toEqual(['h1-blue-1', 'h1-blue-2', 'h1-red-1', 'h1-red-2'].map((n) => `${n}@192.0.2.101`));
    expect(d.removeRemoteEndpoints).toEqual([]);
  });

  test('a host without an underlay address is left out of the others and reported once for the log', () => {
    const hosts = { ...HOSTS, h3: {} };
    const p1 = planHost(overlay(matrix, hosts), 'h1');
    expect(p1.flood.map((f) => f.host)).not.toContain('h3');
    expect(p1.remoteEndpoints.map((r) => r.host)).not.toContain('h3');
    // h3 itself still reaches the others: its own plan needs their addresses, not its own.
    expect(planHost(overlay(matrix, hosts), 'h3').flood.map((f) => f.host)).toEqual(['h1', 'h2', 'h1', 'h2']);
    expect(hostsWithoutVtep(overlay(matrix, hosts))).toEqual(['h3']);
    expect(hostsWithoutVtep(overlay(matrix))).toEqual([]);
    // A host carrying nothing has nothing to be unreachable about.
    expect(hostsWithoutVtep(overlay(matrix.filter((e) => e.host !== 'h3'), hosts))).toEqual([]);
  });

  test('hosts reporting the same underlay address are detected', () => {
    const hosts = { ...HOSTS, h3: { address: '192.0.2.1' } };
    expect(duplicateVteps(overlay(matrix, hosts))).toEqual([{ vtep: '192.0.2.1', hosts: ['h1', 'h3'] }]);
    expect(duplicateVteps(overlay(matrix))).toEqual([]);
  });

  test('endpoints of a network the plan does not know (deleted meanwhile) are ignored', () => {
    const p = planHost({ ...overlay(matrix), networks: NETS.slice(0, 1) }, 'h1');
    expect(new Set(p.flood.map((f) => f.network))).toEqual(new Set(['red']));
    expect(new Set(p.remoteEndpoints.map((r) => r.network))).toEqual(new Set(['red']));
  });
});

describe('firewall policies in the plan', () => {
  const NETS = [{ network: network('red', { subnet: '10.10.0.0/24' }), vni: 100 }];
  const HOSTS: PlanInput['hosts'] = { h1: { address: '192.0.2.1' }, h2: { address: '192.0.2.2' } };
  const fwp = (name: string, spec: FirewallPolicySpec, generation = 1): FirewallPolicy => ({ apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name, generation }, spec });
  const ep = (name: string, host: string, ip: string, labels: Record<string, string>): PlanEndpointInfo => ({ name, network: 'red', host, ip, mac: '02:00:00:00:00:01', labels });
  const DB = fwp('db', {
    appliesTo: { selector: { app: 'db' } },
    ingress: { defaultAction: 'deny', rules: [{ name: 'from-web', action: 'allow', from: [{ selector: { app: 'web' } }], protocol: 'tcp', ports: [5432] }] },
  });
  const ENDPOINTS = [ep('db-1', 'h1', '10.10.0.11', { app: 'db' }), ep('web-2', 'h2', '10.10.0.21', { app: 'web' }), ep('web-3', 'h2', '10.10.0.22', { app: 'other' })];
  const fw = (endpoints: PlanEndpointInfo[], policies: FirewallPolicy[] = [DB], revision = 1): PlanInput => ({
    revision, networks: NETS, hosts: HOSTS, blocks: [], reservations: [], endpoints, firewallPolicies: policies, vnfs: [],
  });

  test('a plan holds the policies applying to its endpoints and the sets they name, sorted by name', () => {
    const p1 = planHost(fw(ENDPOINTS), 'h1');
    expect(p1.firewallPolicies.map((p) => p.name)).toEqual(['db']);
    expect(p1.addressSets).toEqual([
      { name: 'applies:db', addresses: ['10.10.0.11'] },
      { name: 'peer:*:app=web', addresses: ['10.10.0.21'] },
    ]);
    expect(planHost(fw(ENDPOINTS), 'h2')).toMatchObject({ firewallPolicies: [], addressSets: [] });
    // An input without policies (older callers) plans none.
    const { firewallPolicies: _none, ...bare } = fw(ENDPOINTS);
    expect(planHost(bare, 'h1')).toMatchObject({ firewallPolicies: [], addressSets: [] });
  });

  test('a label change on an endpoint changes address sets only: the delta upserts the set and nothing else', () => {
    const relabelled = ENDPOINTS.map((e) => (e.name === 'web-3' ? { ...e, labels: { app: 'web' } } : e));
    const d = diffPlans(planHost(fw(ENDPOINTS), 'h1'), planHost(fw(relabelled, [DB], 2), 'h1'));
    expect(d).toEqual({ ...emptyPlanDelta(), upsertAddressSets: [{ name: 'peer:*:app=web', addresses: ['10.10.0.21', '10.10.0.22'] }] });
  });

  test('an endpoint of the host gaining the selected label joins the applies set, the policy stays', () => {
    const joined = [...ENDPOINTS, ep('db-9', 'h1', '10.10.0.19', { app: 'db' })];
    const d = diffPlans(planHost(fw(ENDPOINTS), 'h1'), planHost(fw(joined, [DB], 2), 'h1'));
    expect(d).toEqual({ ...emptyPlanDelta(), upsertAddressSets: [{ name: 'applies:db', addresses: ['10.10.0.11', '10.10.0.19'] }] });
  });

  test('a policy edit upserts the policy; a set it no longer names is removed', () => {
    const edited = fwp('db', { ...DB.spec, ingress: { rules: [{ name: 'from-web', action: 'allow', from: [{ selector: { app: 'api' } }] }] } }, 2);
    const d = diffPlans(planHost(fw(ENDPOINTS), 'h1'), planHost(fw(ENDPOINTS, [edited], 2), 'h1'));
    expect(d.upsertFirewallPolicies?.map((p) => `${p.name}@${p.generation}`)).toEqual(['db@2']);
    expect(d.upsertAddressSets).toEqual([{ name: 'peer:*:app=api', addresses: [] }]);
    expect(d.removeAddressSets).toEqual(['peer:*:app=web']);
    expect(d.removeFirewallPolicies).toEqual([]);
  });

  test("the host's last selected endpoint leaving removes the policy and its sets", () => {
    const gone = ENDPOINTS.filter((e) => e.name !== 'db-1');
    const d = diffPlans(planHost(fw(ENDPOINTS), 'h1'), planHost(fw(gone, [DB], 2), 'h1'));
    expect(d).toEqual({ ...emptyPlanDelta(), removeFirewallPolicies: ['db'], removeAddressSets: ['applies:db', 'peer:*:app=web'] });
  });

  test('applying diff(old, new) to old gives new, for random policies and labels', () => {
    let seed = 777;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const apps = ['web', 'db', 'api'];
    const randomPolicy = (name: string): FirewallPolicy =>
      fwp(name, {
        ...(rnd(3) ? { appliesTo: { selector: { app: apps[rnd(3)] as string } } } : {}),
        ingress: { rules: Array.from({ length: rnd(3) }, () => ({ action: 'allow' as const, from: [{ selector: { app: apps[rnd(3)] as string } }], ports: [1 + rnd(100)] })) },
        ...(rnd(2) ? { egress: { defaultAction: 'deny' as const, rules: [{ action: 'allow' as const, to: [{ cidr: `10.${rnd(4)}.0.0/16` }] }] } } : {}),
      }, 1 + rnd(3));
    let prev: HostPlan = planHost(fw([]), 'h1');
    for (let i = 0; i < 100; i++) {
      const endpoints = ['h1', 'h2'].flatMap((h) => Array.from({ length: rnd(4) }, (_, k) => ep(`${h}-${k}`, h, `10.10.0.${10 * Number(h.slice(1)) + k}`, { app: apps[rnd(3)] as string })));
      const policies = ['p1', 'p2', 'p3'].filter(() => rnd(2) === 0).map(randomPolicy);
      const next = planHost(fw(endpoints, policies, 2 + i), 'h1');
      expect(applyPlanDelta(prev, diffPlans(prev, next), next.revision)).toEqual(next);
      prev = next;
    }
  });
});
