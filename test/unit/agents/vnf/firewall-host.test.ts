// The agent's Firewall VNF host on the fake kernel: the order that never
// forwards unfiltered, adoption, repair, removal, and only this host's
// namespaces swept; the endpoint routes through the firewall.
import { FakeKernel } from '../../../../agents/datapath/fake-kernel.js';
import { BridgeManager } from '../../../../agents/bridges/bridge-manager.js';
import type { NftDocument } from '../../../../agents/datapath/nft/nft-json.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import { EndpointRoutes, diffEndpointRoutes, endpointRoutesFor } from '../../../../agents/vnf/endpoint-routes.js';
import { FirewallVnfHost, firewallVnfNetworks, type VnfNft } from '../../../../agents/vnf/firewall-host.js';
import type { HostPlan, PlanNetwork } from '../../../../model/agent-protocol.js';
import { bridgeName, gatewayMac, vxlanName } from '../../../../model/kernel-names.js';
import { firewallHostVethName, firewallIfname, firewallMac, firewallNetnsName } from '../../../../model/vnf-names.js';
import type { PlanFirewallVnf } from '../../../../model/vnf-protocol.js';

const silent = { info: () => {}, error: () => {} };

function net(name: string, vni: number, third: number): PlanNetwork {
  return { name, vni, subnet: `10.${third}.0.0/24`, prefixLength: 24, gateway: `10.${third}.0.1`, mtu: 1450, bridge: bridgeName(vni), vxlan: vxlanName(vni), gatewayMac: gatewayMac(vni) };
}
const A = net('a', 10, 1);
const B = net('b', 11, 2);

function firewall(generation = 1): PlanFirewallVnf {
  const iface = (n: PlanNetwork, ip: string) => ({ network: n.name, ip, prefixLength: 24, mac: firewallMac('fw', n.name), mtu: n.mtu, hostIfname: firewallHostVethName('fw', n.name), ifname: firewallIfname(n.name) });
  return { name: 'fw', generation, netns: firewallNetnsName('h1', 'fw'), interfaces: [iface(A, '10.1.0.254'), iface(B, '10.2.0.254')], defaultAction: 'deny', rules: [], addressSets: [] };
}

function plan(fw?: PlanFirewallVnf): HostPlan {
  const p: HostPlan = { host: 'h1', revision: 1, networks: [A, B], blocks: [], reservations: [], flood: [], remoteEndpoints: [], firewallPolicies: [], addressSets: [] };
  if (fw) {
    p.firewallVnfs = [fw];
    p.networkRoutes = [
      { network: 'a', dst: B.subnet, via: '10.1.0.254', owner: 'fw' },
      { network: 'b', dst: A.subnet, via: '10.2.0.254', owner: 'fw' },
    ];
  }
  return p;
}

/** An nft that remembers its table per namespace, and what the kernel had when each document came. */
class FakeNft {
  readonly tables = new Map<string, NftDocument>();
  readonly applied: Array<{ netns: string; vethsBefore: number; sysctlsBefore: number }> = [];
  fail = false;
  /** what list() returns for a table that exists */
  listing: unknown[] = [];
  constructor(private readonly kernel: FakeKernel) {}
  at(netns: string): VnfNft {
    return {
      apply: async (doc) => {
        if (this.fail) throw new Error('nft: No such file or directory');
        this.applied.push({ netns, vethsBefore: this.kernel.calls.filter((c) => c.op === 'addVeth').length, sysctlsBefore: this.kernel.calls.filter((c) => c.op === 'setSysctl').length });
        this.tables.set(netns, doc);
      },
      list: async () => (this.tables.has(netns) ? this.listing : undefined),
    };
  }
}

describe('FirewallVnfHost', () => {
  let kernel: FakeKernel;
  let nft: FakeNft;
  let vnfs: FirewallVnfHost;
  const path = `/run/netns/${firewallNetnsName('h1', 'fw')}`;

  beforeEach(() => {
    kernel = new FakeKernel();
    nft = new FakeNft(kernel);
    vnfs = new FirewallVnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, (p) => nft.at(p));
  });

  test('table first, then forwarding, then the interfaces: no packet is forwarded unfiltered', async () => {
    await vnfs.sync(plan(firewall()));
    expect(nft.applied).toEqual([{ netns: path, vethsBefore: 0, sysctlsBefore: 0 }]);
    const setSysctl = kernel.calls.find((c) => c.op === 'setSysctl');
    expect(setSysctl).toMatchObject({ ns: path, args: ['net.ipv4.ip_forward', '1'] });
    const host = await kernel.host().listLinks();
    const hostSide = host.find((l) => l.name === firewallHostVethName('fw', 'a'));
    expect(hostSide).toMatchObject({ kind: 'veth', alias: 'weft:fw:fw/a', up: true, master: host.find((l) => l.name === A.bridge)?.index });
    const inside = await kernel.at(path);
    const links = await inside.listLinks();
    expect(links.map((l) => l.name).sort()).toEqual(['lo', 'n-a', 'n-b']);
    expect(links.find((l) => l.name === 'n-a')).toMatchObject({ mac: firewallMac('fw', 'a'), up: true, mtu: 1450 });
    expect((await inside.listAddrs()).filter((x) => x.family === 4).map((x) => x.address).sort()).toEqual(['10.1.0.254', '10.2.0.254', '127.0.0.1']);
    inside.close();
    expect(vnfs.reports().fw).toMatchObject({ generation: 1, ready: true, interfaces: [{ network: 'a', ip: '10.1.0.254' }, { network: 'b', ip: '10.2.0.254' }] });
  });

  test('a table that cannot be applied leaves the namespace without forwarding and without interfaces', async () => {
    nft.fail = true;
    await vnfs.sync(plan(firewall()));
    expect(kernel.calls.filter((c) => c.op === 'addVeth' || c.op === 'setSysctl')).toEqual([]);
    expect(vnfs.reports().fw).toMatchObject({ ready: false, message: expect.stringContaining('nft') });
  });

  test('an unchanged firewall is left alone; a restarted host adopts it, replacing the table in one apply and creating nothing', async () => {
    await vnfs.sync(plan(firewall()));
    await vnfs.sync(plan(firewall()));
    expect(nft.applied).toHaveLength(1);
    const restarted = new FirewallVnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, (p) => nft.at(p));
    const before = kernel.calls.length;
    await restarted.sync(plan(firewall(2)));
    const ops = kernel.calls.slice(before).map((c) => c.op);
    expect(ops).not.toContain('addVeth');
    expect(ops).not.toContain('createNamedNetns');
    expect(ops).not.toContain('removeLink');
    expect(nft.applied).toHaveLength(2);
    expect(restarted.reports().fw).toMatchObject({ generation: 2, ready: true });
  });

  test('repairs an interface someone removed, and an address someone changed', async () => {
    await vnfs.sync(plan(firewall()));
    const host = kernel.host();
    const a = await host.getLink(firewallHostVethName('fw', 'a'));
    await host.removeLink(a!.index);
    const inside = await kernel.at(path);
    const b = await inside.getLink('n-b');
    await inside.addrDel(b!.index, '10.2.0.254', 24);
    await inside.addrAdd(b!.index, '10.2.0.99', 24);
    await vnfs.sync(plan(firewall()));
    expect(await host.getLink(firewallHostVethName('fw', 'a'))).toBeDefined();
    expect((await inside.listAddrs(b!.index)).filter((x) => x.family === 4).map((x) => x.address)).toEqual(['10.2.0.254']);
    inside.close();
  });

  test('removal takes the veths and the namespace; other hosts\' firewalls sharing /run/netns are not ours', async () => {
    await kernel.createNamedNetns(firewallNetnsName('h2', 'fw'));
    await vnfs.sync(plan(firewall()));
    await vnfs.sync(plan());
    expect(await kernel.listNamedNetns()).toEqual([firewallNetnsName('h2', 'fw')]);
    expect((await kernel.host().listLinks()).filter((l) => l.name.startsWith('wf-'))).toEqual([]);
    expect(vnfs.reports()).toEqual({});
  });

  test('a namespace of this host name whose interfaces are not on our bridges is another agent\'s: kept', async () => {
    // the same machine-wide /run/netns seen by two agents: simulate with one kernel and a veth whose host side is elsewhere
    const path2 = await kernel.createNamedNetns(firewallNetnsName('h1', 'theirs'));
    const elsewhere = await kernel.createNamedNetns('their-host-ns');
    const theirHost = await kernel.at(elsewhere);
    await theirHost.addVeth({ name: 'wf-theirs', mtu: 1500, up: true, peer: { name: 'n-x', netns: path2, up: true } });
    theirHost.close();
    await vnfs.sync(plan());
    expect(await kernel.listNamedNetns()).toContain(firewallNetnsName('h1', 'theirs'));
    // an empty one (half-made) is swept
    await kernel.createNamedNetns(firewallNetnsName('h1', 'empty'));
    await vnfs.sync(plan());
    expect(await kernel.listNamedNetns()).not.toContain(firewallNetnsName('h1', 'empty'));
  });

  test('the host namespace\'s port table comes before the first firewall port, and goes after the last firewall', async () => {
    const host = new FakeNft(kernel);
    const withHost = new FirewallVnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, (p) => nft.at(p), host.at('host'));
    await withHost.sync(plan(firewall()));
    expect(host.applied).toEqual([{ netns: 'host', vethsBefore: 0, sysctlsBefore: 0 }]);
    expect(JSON.stringify(host.tables.get('host'))).toContain('"notrack":null');
    await withHost.sync(plan());
    expect(JSON.stringify(host.tables.get('host'))).not.toContain('notrack');
  });

  test('counters are re-read between passes, and reported only when they moved', async () => {
    await vnfs.sync(plan(firewall()));
    expect(await vnfs.refreshCounters()).toBe(false);
    nft.listing = [{ rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'judge', comment: 'default', expr: [{ counter: { packets: 2, bytes: 120 } }, { drop: null }] } }];
    expect(await vnfs.refreshCounters()).toBe(true);
    expect(vnfs.reports().fw?.counters).toEqual([{ rule: 'default', packets: 2, bytes: 120 }]);
    expect(await vnfs.refreshCounters()).toBe(false);
  });

  test('the networks a firewall has interfaces on are carried by its host', () => {
    expect([...firewallVnfNetworks(plan(firewall()))]).toEqual(['a', 'b']);
    expect(firewallVnfNetworks(undefined).size).toBe(0);
  });
});

describe('endpoint routes through the firewall', () => {
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
    expect(endpointRoutesFor(plan(firewall()), 'a')).toEqual([{ dst: B.subnet, via: '10.1.0.254' }]);
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
    await routes.sync(plan(firewall()), [record]);
    expect(await ns.listRoutes(4)).toContainEqual({ dst: B.subnet, gateway: '10.1.0.254', oif: eth0.index, family: 4 });
    await routes.sync(plan(), [record]);
    expect((await ns.listRoutes(4)).map((r) => r.dst)).not.toContain(B.subnet);
    ns.close();
  });
});
