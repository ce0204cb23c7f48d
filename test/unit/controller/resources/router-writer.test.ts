// The Router VNF at the controller: the checks that need the store (each
// refusal writes nothing), what the planner makes of it for its host and
// for every host's endpoints, and how it composes with a Firewall.
import type { EndpointReport } from '../../../../model/agent-protocol.js';
import type { Firewall } from '../../../../model/firewall-vnf.js';
import type { PlanRouterSpec, Router, RouterSpec } from '../../../../model/router.js';
import type { PlanVnf } from '../../../../model/vnf-protocol.js';
import { recordFromReport } from '../../../../controller/hub/endpoint-record.js';
import { Ipam } from '../../../../controller/ipam/ipam.js';
import { assignVni } from '../../../../controller/ipam/vni-allocator.js';
import { planHost } from '../../../../controller/planner/host-planner.js';
import { readPlanInput } from '../../../../controller/planner/plan-input.js';
import { deleteNetwork } from '../../../../controller/resources/network-writer.js';
import { deleteVnf, writeVnf } from '../../../../controller/resources/vnf-writer.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import { caught } from '../support/caught.js';
import { network } from '../support/harness.js';

const router = (name: string, spec: RouterSpec): Router => ({ apiVersion: 'weft.dev/v1', kind: 'Router', metadata: { name }, spec });
const BASE: RouterSpec = { host: 'h1', interfaces: [{ network: 'blue', ip: '10.1.0.254' }, { network: 'red', ip: '10.2.0.254' }] };
const OUT: RouterSpec = { ...BASE, external: { mode: 'host' } };
const SEG: RouterSpec = { ...BASE, external: { mode: 'interface', interface: 'eth1', address: '203.0.113.10/24', gateway: '203.0.113.1' } };

describe('Router VNF at the controller', () => {
  let store: SqliteStore;
  const ipam = new Ipam();
  const write = (r: Router) => store.write((tx) => writeVnf(tx, ipam, r, 'apply'));
  const routers = () => store.read((r) => r.listResources('Router').map((x) => x.metadata.name));
  const refusal = (r: Router) => {
    const e = caught(() => write(r));
    return { code: e.code, message: e.message, paths: (e.details ?? []).map((d) => d.path) };
  };

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    store.write((tx) => {
      for (const [name, subnet] of [['blue', '10.1.0.0/24'], ['red', '10.2.0.0/24'], ['green', '10.3.0.0/24'], ['wide', '10.0.0.0/14']] as const) {
        tx.putResource(network(name, { subnet }));
        assignVni(tx, name, undefined);
      }
      for (const h of ['h1', 'h2']) tx.putResource({ apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: h }, spec: {}, status: { address: `198.18.0.1${h.slice(1)}` } });
      const rep = (name: string, net: string, ip: string): EndpointReport => ({ name, network: net, containerId: name, ifname: 'eth0', ip, mac: '02:00:00:00:00:07', hostIfname: 'wv-1', netns: '/run/netns/x', labels: {} });
      tx.putEndpointRecord(recordFromReport('h2', rep('web1', 'red', '10.2.0.7')));
      tx.putEndpointRecord(recordFromReport('h2', rep('lonely', 'green', '10.3.0.7')));
    });
  });

  afterEach(() => store.close());

  test.each([
    ['a host that does not exist', { ...BASE, host: 'h9' }, 'Invalid', '/spec/host', 'host "h9" does not exist (known hosts: h1, h2)'],
    ['overlapping subnets behind one router', { ...BASE, interfaces: [{ network: 'blue' }, { network: 'wide' }] }, 'Invalid', '/spec/interfaces/1/network', 'overlaps network "blue" (10.1.0.0/24) behind the same router'],
    ['a route via an address on no connected network', { ...BASE, routes: [{ to: '192.0.2.0/24', via: '10.3.0.254' }] }, 'Invalid', '/spec/routes/0/via', 'next hop 10.3.0.254 is on none of the connected networks (blue 10.1.0.0/24, red 10.2.0.0/24)'],
    ['a route to a connected network', { ...BASE, routes: [{ to: '10.1.0.0/25', via: '10.2.0.1' }] }, 'Invalid', '/spec/routes/0/to', 'overlaps connected network "blue"'],
    ['a port forward to an endpoint that does not exist', { ...OUT, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'nobody' } }] }, 'Invalid', '/spec/portForwards/0/to/endpoint', 'endpoint "nobody" does not exist'],
    ['a port forward to an endpoint on no connected network', { ...OUT, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'lonely' } }] }, 'Invalid', '/spec/portForwards/0/to/endpoint', 'endpoint "lonely" is on network "green", which this router does not connect'],
    ['a network that does not exist', { ...BASE, interfaces: [{ network: 'nope' }] }, 'Invalid', '/spec/interfaces/0/network', 'network "nope" does not exist'],
    ['a floating IP to an endpoint that does not exist', { ...SEG, floatingIPs: [{ address: '203.0.113.20', endpoint: 'nobody' }] }, 'Invalid', '/spec/floatingIPs/0/endpoint', 'endpoint "nobody" does not exist'],
    ['a floating IP to an endpoint on no connected network', { ...SEG, floatingIPs: [{ address: '203.0.113.20', endpoint: 'lonely' }] }, 'Invalid', '/spec/floatingIPs/0/endpoint', 'endpoint "lonely" is on network "green", which this router does not connect (blue, red); add an interface on "green" or map the address to another endpoint'],
    ['an external subnet overlapping a connected network', { ...SEG, external: { mode: 'interface', interface: 'eth1', address: '10.2.0.200/16', gateway: '10.2.0.1' } }, 'Invalid', '/spec/external/address', 'the external subnet 10.2.0.0/16 overlaps connected network'],
  ] as Array<[string, RouterSpec, string, string, string]>)('refuses %s, and writes nothing', (_what, spec, code, path, message) => {
    const r = refusal(router('edge', spec));
    expect(r.code).toBe(code);
    expect(r.paths).toContain(path);
    expect(r.message).toContain(message);
    expect(routers()).toEqual([]);
    expect(store.read((x) => x.listReservations().filter((y) => y.owner === 'router:edge'))).toEqual([]);
  });

  test('one way out per network: a second router with external on it is a 409 naming both; without external it may connect it', () => {
    write(router('edge', OUT));
    const r = refusal(router('other', { host: 'h2', interfaces: [{ network: 'red' }, { network: 'green' }], external: {} }));
    expect(r.code).toBe('Conflict');
    expect(r.message).toContain('network "red" already has a way out through router "edge"; router "other" cannot give it another');
    expect(routers()).toEqual(['edge']);
    write(router('inner', { host: 'h2', interfaces: [{ network: 'red' }, { network: 'green' }] }));
    expect(routers()).toEqual(['edge', 'inner']);
  });

  test('a port is published once per host: a second router in mode host on the host cannot take it', () => {
    write(router('edge', { ...OUT, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'web1', port: 80 } }] }));
    const r = refusal(router('other', { host: 'h1', interfaces: [{ network: 'green' }], external: {}, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'lonely' } }] }));
    expect(r.code).toBe('Conflict');
    expect(r.message).toContain('tcp/8080 on host "h1" is already published by router "edge"; router "other" needs another port');
  });

  test('an external address belongs to one router: another one\'s own address or floating IP is a 409; a port in mode interface is not the host\'s', () => {
    write(router('edge', { ...SEG, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'web1', port: 80 } }] }));
    const seg = (address: string) => ({ mode: 'interface' as const, interface: 'eth1', address, gateway: '203.0.113.1' });
    const r = refusal(router('other', { host: 'h2', interfaces: [{ network: 'green' }], external: seg('203.0.113.11/24'), floatingIPs: [{ address: '203.0.113.10', endpoint: 'lonely' }] }));
    expect(r.code).toBe('Conflict');
    expect(r.message).toContain('external address 203.0.113.10 already belongs to router "edge"; router "other" cannot answer for it too');
    expect(refusal(router('other', { host: 'h2', interfaces: [{ network: 'green' }], external: seg('203.0.113.10/24') })).code).toBe('Conflict');
    write(router('other', { host: 'h1', interfaces: [{ network: 'green' }], external: seg('203.0.113.11/24'), portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'lonely' } }] }));
    expect(routers()).toEqual(['edge', 'other']);
  });

  test('mode interface: the plan carries the segment and the floating IPs resolved, no uplink; endpoints get the half-defaults through the router', () => {
    write(router('edge', { ...SEG, external: { ...SEG.external, snat: false }, floatingIPs: [{ address: '203.0.113.21', endpoint: 'web1' }], portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'web1', port: 80 } }] }));
    const p1 = planHost(store.read(readPlanInput), 'h1');
    const edge = p1.vnfs[0] as PlanVnf<PlanRouterSpec>;
    expect(edge.spec.uplink).toBeUndefined();
    expect(edge.spec.external).toEqual({ interface: 'eth1', ip: '203.0.113.10', prefixLength: 24, gateway: '203.0.113.1', snat: false, floatingIPs: [{ address: '203.0.113.21', toIp: '10.2.0.7' }] });
    expect(edge.spec.portForwards).toEqual([{ protocol: 'tcp', port: 8080, toIp: '10.2.0.7', toPort: 80 }]);
    expect(p1.networkRoutes.filter((r) => r.dst === '0.0.0.0/1' || r.dst === '128.0.0.0/1')).toHaveLength(4);
  });

  test('a network a router connects cannot be deleted under it', () => {
    write(router('edge', BASE));
    const e = caught(() => store.write((tx) => deleteNetwork(tx, 'blue')));
    expect(e.code).toBe('Conflict');
    expect(e.message).toContain('is used by router "edge"; remove the network from its spec');
  });

  test("spec.host's plan runs it with its uplink, NAT inputs and forwards resolved; every host's endpoints get routes through it", () => {
    write(router('edge', { ...OUT, routes: [{ to: '192.0.2.0/24', via: '10.2.0.250' }], portForwards: [{ protocol: 'udp', port: 53, to: { endpoint: 'web1' } }, { protocol: 'tcp', port: 8080, to: { endpoint: 'web1', port: 80 } }] }));
    const input = store.read(readPlanInput);
    const p1 = planHost(input, 'h1');
    const p2 = planHost(input, 'h2');
    expect(p2.vnfs).toEqual([]);
    const edge = p1.vnfs[0] as PlanVnf<PlanRouterSpec>;
    expect(edge).toMatchObject({ kind: 'Router', name: 'edge', netns: 'wn.h1.router.edge' });
    expect(edge.interfaces.map((i) => `${i.network}:${i.ip}`)).toEqual(['blue:10.1.0.254', 'red:10.2.0.254']);
    expect(edge.spec.subnets).toEqual(['10.1.0.0/24', '10.2.0.0/24']);
    expect(edge.spec.routes).toEqual([{ to: '192.0.2.0/24', via: '10.2.0.250' }]);
    expect(edge.spec.uplink).toMatchObject({ prefixLength: 30 });
    expect(edge.spec.uplink?.ip).toMatch(/^169\.254\.(\d|[1-9]\d|1[01]\d|12[0-7])\./);
    expect(edge.spec.portForwards).toEqual([
      { protocol: 'tcp', port: 8080, toIp: '10.2.0.7', toPort: 80 },
      { protocol: 'udp', port: 53, toIp: '10.2.0.7', toPort: 53 },
    ]);
    const route = (network: string, dst: string, via: string) => ({ network, dst, via, owner: 'Router/edge' });
    const routes = [
      route('blue', '0.0.0.0/1', '10.1.0.254'),
      route('blue', '10.2.0.0/24', '10.1.0.254'),
      route('blue', '128.0.0.0/1', '10.1.0.254'),
      route('blue', '192.0.2.0/24', '10.1.0.254'),
      route('red', '0.0.0.0/1', '10.2.0.254'),
      route('red', '10.1.0.0/24', '10.2.0.254'),
      route('red', '128.0.0.0/1', '10.2.0.254'),
      // red holds the next hop: its endpoints go there directly
      route('red', '192.0.2.0/24', '10.2.0.250'),
    ];
    expect(p1.networkRoutes).toEqual(routes);
    expect(p2.networkRoutes).toEqual(routes);
  });

  test('without external: routes between the networks only, no uplink, no half-defaults', () => {
    write(router('edge', BASE));
    const p = planHost(store.read(readPlanInput), 'h1');
    expect((p.vnfs[0] as PlanVnf<PlanRouterSpec>).spec.uplink).toBeUndefined();
    expect(p.networkRoutes.map((r) => `${r.network} ${r.dst}`)).toEqual(['blue 10.2.0.0/24', 'red 10.1.0.0/24']);
    store.write((tx) => deleteVnf(tx, 'Router', 'edge'));
    expect(planHost(store.read(readPlanInput), 'h1').networkRoutes).toEqual([]);
  });

  test('routers on one host get distinct uplinks, and one keeps its uplink when another comes', () => {
    write(router('a', { host: 'h1', interfaces: [{ network: 'blue' }], external: {} }));
    const uplinkOf = (name: string) => (planHost(store.read(readPlanInput), 'h1').vnfs.find((v) => v.name === name) as PlanVnf<PlanRouterSpec>).spec.uplink;
    const before = uplinkOf('a');
    write(router('b', { host: 'h1', interfaces: [{ network: 'red' }], external: {} }));
    write(router('c', { host: 'h1', interfaces: [{ network: 'green' }], external: {} }));
    expect(uplinkOf('a')).toEqual(before);
    const ips = ['a', 'b', 'c'].map((n) => uplinkOf(n)?.ip);
    expect(new Set(ips).size).toBe(3);
  });

  test('a Firewall and a Router on the same networks: the firewall keeps routing between them (no path around it)', () => {
    const fw: Firewall = { apiVersion: 'weft.dev/v1', kind: 'Firewall', metadata: { name: 'guard' }, spec: { host: 'h2', networks: [{ network: 'blue', ip: '10.1.0.250' }, { network: 'red', ip: '10.2.0.250' }] } };
    store.write((tx) => writeVnf(tx, ipam, fw, 'create'));
    write(router('edge', OUT));
    const routes = planHost(store.read(readPlanInput), 'h1').networkRoutes;
    expect(routes.find((r) => r.network === 'blue' && r.dst === '10.2.0.0/24')).toMatchObject({ via: '10.1.0.250', owner: 'Firewall/guard' });
    expect(routes.find((r) => r.network === 'blue' && r.dst === '0.0.0.0/1')).toMatchObject({ via: '10.1.0.254', owner: 'Router/edge' });
  });

  test('a Firewall in front of a Router: the networks behind the firewall reach what lies beyond the router through both, and back', () => {
    // green (behind) -- guard -- blue (shared) -- edge -- red, and the outside
    const fw: Firewall = { apiVersion: 'weft.dev/v1', kind: 'Firewall', metadata: { name: 'guard' }, spec: { host: 'h2', networks: [{ network: 'green', ip: '10.3.0.250' }, { network: 'blue', ip: '10.1.0.250' }] } };
    store.write((tx) => writeVnf(tx, ipam, fw, 'create'));
    write(router('edge', { ...OUT, routes: [{ to: '192.0.2.0/24', via: '10.2.0.250' }] }));
    const input = store.read(readPlanInput);
    const routes = planHost(input, 'h2').networkRoutes;
    const of = (network: string) => routes.filter((r) => r.network === network).map((r) => `${r.dst} via ${r.via} (${r.owner})`);
    expect(of('green')).toEqual([
      '0.0.0.0/1 via 10.3.0.250 (Firewall/guard)',
      '10.1.0.0/24 via 10.3.0.250 (Firewall/guard)',
      '10.2.0.0/24 via 10.3.0.250 (Firewall/guard)',
      '128.0.0.0/1 via 10.3.0.250 (Firewall/guard)',
      '192.0.2.0/24 via 10.3.0.250 (Firewall/guard)',
    ]);
    expect(of('red')).toContain('10.3.0.0/24 via 10.2.0.254 (Router/edge)');
    // blue holds both: the firewall routes to what it guards, the router to the rest
    expect(of('blue')).toContain('10.3.0.0/24 via 10.1.0.250 (Firewall/guard)');
    expect(of('blue')).toContain('0.0.0.0/1 via 10.1.0.254 (Router/edge)');
    const guard = planHost(input, 'h2').vnfs.find((v) => v.name === 'guard');
    expect(guard?.transitRoutes).toEqual(['0.0.0.0/1', '10.2.0.0/24', '128.0.0.0/1', '192.0.2.0/24'].map((dst) => ({ dst, via: '10.1.0.254' })));
    const edge = planHost(input, 'h1').vnfs.find((v) => v.name === 'edge') as PlanVnf<PlanRouterSpec>;
    expect(edge.transitRoutes).toEqual([{ dst: '10.3.0.0/24', via: '10.1.0.250' }]);
    // translated on the way out like the router's own networks
    expect(edge.spec.subnets).toEqual(['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24']);

    store.write((tx) => deleteVnf(tx, 'Firewall', 'guard'));
    const after = store.read(readPlanInput);
    expect(planHost(after, 'h2').networkRoutes.filter((r) => r.network === 'green' || r.dst === '10.3.0.0/24')).toEqual([]);
    const edgeAfter = planHost(after, 'h1').vnfs.find((v) => v.name === 'edge') as PlanVnf<PlanRouterSpec>;
    expect(edgeAfter.transitRoutes).toBeUndefined();
    expect(edgeAfter.spec.subnets).toEqual(['10.1.0.0/24', '10.2.0.0/24']);
  });
});
