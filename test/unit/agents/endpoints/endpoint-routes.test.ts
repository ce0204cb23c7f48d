// Endpoint route sync: the routes through VNFs in the endpoints' namespaces
// (plan.networkRoutes), on the fake kernel.
import { FakeKernel } from '../../../../agents/datapath/fake-kernel.js';
import { EndpointRoutes, diffEndpointRoutes, endpointRoutesFor } from '../../../../agents/endpoints/endpoint-routes.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import type { HostPlan, PlanNetwork } from '../../../../model/agent-protocol.js';
import { bridgeName, gatewayMac, vxlanName } from '../../../../model/kernel-names.js';

const silent = { info: () => {}, error: () => {} };

function net(name: string, vni: number, third: number): PlanNetwork {
  return { name, vni, subnet: `10.${third}.0.0/24`, prefixLength: 24, gateway: `10.${third}.0.1`, mtu: 1450, bridge: bridgeName(vni), vxlan: vxlanName(vni), gatewayMac: gatewayMac(vni) };
}
const A = net('a', 10, 1);
const B = net('b', 11, 2);

/** A plan with a firewall's routes between a and b (withRoutes), or none. */
function plan(withRoutes = false): HostPlan {
  const networkRoutes = withRoutes
    ? [
        { network: 'a', dst: B.subnet, via: '10.1.0.254', owner: 'Firewall/fw' },
        { network: 'b', dst: A.subnet, via: '10.2.0.254', owner: 'Firewall/fw' },
      ]
    : [];
  return { host: 'h1', revision: 1, networks: [A, B], blocks: [], reservations: [], flood: [], remoteEndpoints: [], firewallPolicies: [], addressSets: [], vnfs: [], networkRoutes };
}

describe('endpoint routes through VNFs', () => {
  test('diff: add what is missing, remove ours the plan dropped, never touch a route to a non-weft destination', () => {
    const managed = new Set(['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24']);
    const current = [
      { dst: 'default', gateway: '10.1.0.1', oif: 2, family: 4 as const },
      { dst: '10.1.0.0/24', oif: 2, family: 4 as const },
      { dst: '10.3.0.0/24', gateway: '10.1.0.253', oif: 2, family: 4 as const },
      { dst: '192.168.7.0/24', gateway: '10.1.0.9', oif: 2, family: 4 as const },
    ];
    expect(diffEndpointRoutes([{ dst: '10.2.0.0/24', via: '10.1.0.254' }], current, 2, managed)).toEqual([
      { op: 'del', route: { dst: '10.3.0.0/24', gateway: '10.1.0.253', oif: 2, family: 4 } },
      { op: 'add', route: { dst: '10.2.0.0/24', gateway: '10.1.0.254', oif: 2, family: 4 } },
    ]);
    expect(endpointRoutesFor(plan(true), 'a')).toEqual([{ dst: B.subnet, via: '10.1.0.254' }]);
  });

  test('sync brings existing endpoints in line, and takes the routes away with the firewall', async () => {
    const kernel = new FakeKernel();
    const wpath = await kernel.createNamedNetns('w1');
    const host = kernel.host();
    await host.addVeth({ name: 'wv-w1', mtu: 1450, up: true, peer: { name: 'eth0', netns: wpath, up: true } });
    const ns = await kernel.at(wpath);
    const eth0 = (await ns.getLink('eth0'))!;
    await ns.setLinkUp(eth0.index);
    await ns.addrAdd(eth0.index, '10.1.0.5', 24);
    const record = { name: 'w1.eth0', network: 'a', ifname: 'eth0', netns: wpath, state: 'attached' } as EndpointRecord;
    const routes = new EndpointRoutes(kernel, silent);
    await routes.sync(plan(true), [record]);
    expect(await ns.listRoutes(4)).toContainEqual({ dst: B.subnet, gateway: '10.1.0.254', oif: eth0.index, family: 4 });
    await routes.sync(plan(), [record]);
    expect((await ns.listRoutes(4)).map((r) => r.dst)).not.toContain(B.subnet);
    ns.close();
  });

  test("a router's routes: the halves of the address space and a static destination come and go with it; the default route stays", async () => {
    const kernel = new FakeKernel();
    const wpath = await kernel.createNamedNetns('w2');
    await kernel.host().addVeth({ name: 'wv-w2', mtu: 1450, up: true, peer: { name: 'eth0', netns: wpath, up: true } });
    const ns = await kernel.at(wpath);
    const eth0 = (await ns.getLink('eth0'))!;
    await ns.addrAdd(eth0.index, '10.1.0.5', 24);
    await ns.routeReplace({ dst: 'default', gateway: '10.1.0.1', family: 4 });
    const record = { name: 'w2.eth0', network: 'a', ifname: 'eth0', netns: wpath, state: 'attached' } as EndpointRecord;
    const via = '10.1.0.254';
    const withRouter = (statics: string[]): HostPlan => ({
      ...plan(),
      networkRoutes: ['0.0.0.0/1', '128.0.0.0/1', B.subnet, ...statics].map((dst) => ({ network: 'a', dst, via, owner: 'Router/edge' })),
    });
    const routes = new EndpointRoutes(kernel, silent);
    const dsts = async () => (await ns.listRoutes(4)).filter((r) => r.gateway !== undefined).map((r) => `${r.dst} via ${r.gateway}`).sort();
    await routes.sync(withRouter(['192.0.2.0/24']), [record]);
    expect(await dsts()).toEqual([`0.0.0.0/1 via ${via}`, `10.2.0.0/24 via ${via}`, `128.0.0.0/1 via ${via}`, `192.0.2.0/24 via ${via}`, 'default via 10.1.0.1']);
    // the static route goes from the router: its destination is no network's, but this agent put it there
    await routes.sync(withRouter([]), [record]);
    expect(await dsts()).toEqual([`0.0.0.0/1 via ${via}`, `10.2.0.0/24 via ${via}`, `128.0.0.0/1 via ${via}`, 'default via 10.1.0.1']);
    await routes.sync(plan(), [record]);
    expect(await dsts()).toEqual(['default via 10.1.0.1']);
    ns.close();
  });
});
