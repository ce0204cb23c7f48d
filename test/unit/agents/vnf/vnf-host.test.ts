// The agent's VNF host on the fake kernel, with the Firewall's driver: the
// order that never forwards unfiltered, adoption, repair, removal, and only
// this host's namespaces swept; a kind without a driver; routes inside the
// namespace.
import { FakeKernel } from '../../../../agents/datapath/fake-kernel.js';
import { BridgeManager } from '../../../../agents/bridges/bridge-manager.js';
import { VnfHost, vnfNetworks, type VnfNft } from '../../../../agents/vnf/vnf-host.js';
import { VnfProcesses } from '../../../../agents/vnf/vnf-processes.js';
import type { HostPlan, PlanNetwork } from '../../../../model/agent-protocol.js';
import type { ConntrackEntry, ConntrackFilter } from '../../../../model/conntrack.js';
import type { PlanFirewallSpec } from '../../../../model/firewall-vnf.js';
import { bridgeName, gatewayMac, vxlanName } from '../../../../model/kernel-names.js';
import type { NftDocument } from '../../../../model/nft-json.js';
import { VNF_PORT_TABLE, VNF_UPLINK_TABLE, vnfHostVethName, vnfIfname, vnfMac, vnfNetnsName, vnfUplinkHostName } from '../../../../model/vnf-names.js';
import type { PlanRouterSpec } from '../../../../model/router.js';
import type { PlanVnf } from '../../../../model/vnf-protocol.js';
import { VNF_DRIVERS } from '../../../../vnf/drivers.js';
import type { VnfDriver } from '../../../../vnf/vnf-driver.js';

const silent = { info: () => {}, error: () => {} };

function net(name: string, vni: number, third: number): PlanNetwork {
  return { name, vni, subnet: `10.${third}.0.0/24`, prefixLength: 24, gateway: `10.${third}.0.1`, mtu: 1450, bridge: bridgeName(vni), vxlan: vxlanName(vni), gatewayMac: gatewayMac(vni) };
}
const A = net('a', 10, 1);
const B = net('b', 11, 2);

const FW = { kind: 'Firewall', name: 'fw' };

function firewall(generation = 1): PlanVnf<PlanFirewallSpec> {
  const iface = (n: PlanNetwork, ip: string) => ({ network: n.name, ip, prefixLength: 24, mac: vnfMac(FW, n.name), mtu: n.mtu, hostIfname: vnfHostVethName(FW, n.name), ifname: vnfIfname(n.name) });
  return { ...FW, generation, netns: vnfNetnsName('h1', FW), interfaces: [iface(A, '10.1.0.254'), iface(B, '10.2.0.254')], spec: { defaultAction: 'deny', rules: [], addressSets: [] } };
}

export function plan(...vnfs: PlanVnf[]): HostPlan {
  const p: HostPlan = { host: 'h1', revision: 1, networks: [A, B], blocks: [], reservations: [], flood: [], remoteEndpoints: [], firewallPolicies: [], addressSets: [], vnfs, networkRoutes: [] };
  if (vnfs.some((v) => v.kind === 'Firewall')) {
    p.networkRoutes = [
      { network: 'a', dst: B.subnet, via: '10.1.0.254', owner: 'Firewall/fw' },
      { network: 'b', dst: A.subnet, via: '10.2.0.254', owner: 'Firewall/fw' },
    ];
  }
  return p;
}

/** An nft that remembers its table per namespace, and what the kernel had when each document came. */
class FakeNft {
  readonly tables = new Map<string, NftDocument>();
  readonly applied: Array<{ netns: string; vethsBefore: number; sysctlsBefore: number }> = [];
  /** every document, in order */
  readonly docs: NftDocument[] = [];
  fail = false;
  /** what list() returns for a table that exists */
  listing: unknown[] = [];
  constructor(private readonly kernel: FakeKernel) {}
  at(netns: string): VnfNft {
    return {
      apply: async (doc) => {
        if (this.fail) throw new Error('nft: No such file or directory');
        this.docs.push(doc);
        this.applied.push({ netns, vethsBefore: this.kernel.calls.filter((c) => c.op === 'addVeth').length, sysctlsBefore: this.kernel.calls.filter((c) => c.op === 'setSysctl').length });
        this.tables.set(netns, doc);
      },
      // as nft lists it: the table's named counters (the VNF host's marker among them) besides what a test puts there
      list: async (table) => {
        const doc = this.tables.get(netns);
        // one table per namespace here: another table's name is not listed
        if (!doc || !doc.nftables.some((c) => 'add' in c && 'table' in c.add && c.add.table.name === table)) return undefined;
        const named = doc.nftables.flatMap((c) => ('add' in c && 'counter' in c.add ? [{ counter: c.add.counter }] : []));
        return [...this.listing, ...named];
      },
    };
  }
}

const processes = () => new VnfProcesses({ stateDir: '/nonexistent/weft-test' });

describe('VnfHost', () => {
  let kernel: FakeKernel;
  let nft: FakeNft;
  let vnfs: VnfHost;
  const path = `/run/netns/${vnfNetnsName('h1', FW)}`;
  const report = (host: VnfHost, name = 'fw') => host.reports().find((r) => r.name === name);

  beforeEach(() => {
    kernel = new FakeKernel();
    nft = new FakeNft(kernel);
    vnfs = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p));
  });

  test('table first, then forwarding, then the interfaces: no packet is forwarded unfiltered', async () => {
    await vnfs.sync(plan(firewall()));
    expect(nft.applied).toEqual([{ netns: path, vethsBefore: 0, sysctlsBefore: 0 }]);
    const setSysctl = kernel.calls.find((c) => c.op === 'setSysctl');
    expect(setSysctl).toMatchObject({ ns: path, args: ['net.ipv4.ip_forward', '1'] });
    const host = await kernel.host().listLinks();
    const hostSide = host.find((l) => l.name === vnfHostVethName(FW, 'a'));
    expect(hostSide).toMatchObject({ kind: 'veth', alias: 'weft:vnf:firewall/fw/a', up: true, master: host.find((l) => l.name === A.bridge)?.index });
    const inside = await kernel.at(path);
    const links = await inside.listLinks();
    expect(links.map((l) => l.name).sort()).toEqual(['lo', 'n-a', 'n-b']);
    expect(links.find((l) => l.name === 'n-a')).toMatchObject({ mac: vnfMac(FW, 'a'), up: true, mtu: 1450 });
    expect((await inside.listAddrs()).filter((x) => x.family === 4).map((x) => x.address).sort()).toEqual(['10.1.0.254', '10.2.0.254', '127.0.0.1']);
    inside.close();
    expect(report(vnfs)).toMatchObject({ generation: 1, ready: true, interfaces: [{ network: 'a', ip: '10.1.0.254' }, { network: 'b', ip: '10.2.0.254' }] });
  });

  test('a table that cannot be applied leaves the namespace without forwarding and without interfaces', async () => {
    nft.fail = true;
    await vnfs.sync(plan(firewall()));
    expect(kernel.calls.filter((c) => c.op === 'addVeth' || c.op === 'setSysctl')).toEqual([]);
    expect(report(vnfs)).toMatchObject({ ready: false, message: expect.stringContaining('nft') });
  });

  test('an unchanged firewall is left alone; a restarted host adopts it, creating nothing and keeping a table loaded from the same document', async () => {
    await vnfs.sync(plan(firewall()));
    await vnfs.sync(plan(firewall()));
    expect(nft.applied).toHaveLength(1);
    const restarted = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p));
    const before = kernel.calls.length;
    await restarted.sync(plan(firewall(2)));
    const ops = kernel.calls.slice(before).map((c) => c.op);
    expect(ops).not.toContain('addVeth');
    expect(ops).not.toContain('createNamedNetns');
    expect(ops).not.toContain('removeLink');
    expect(nft.applied).toHaveLength(1); // same rules: the table (and its counters) stays
    expect(report(restarted)).toMatchObject({ generation: 2, ready: true });
    // other rules: the table is replaced in one apply
    const changed = firewall(3);
    changed.spec = { ...changed.spec, defaultAction: 'allow' };
    await new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p)).sync(plan(changed));
    expect(nft.applied).toHaveLength(2);
    expect(JSON.stringify(nft.tables.get(path))).toContain('weft-doc-');
  });

  test('repairs an interface someone removed, and an address someone changed', async () => {
    await vnfs.sync(plan(firewall()));
    const host = kernel.host();
    const a = await host.getLink(vnfHostVethName(FW, 'a'));
    await host.removeLink(a!.index);
    const inside = await kernel.at(path);
    const b = await inside.getLink('n-b');
    await inside.addrDel(b!.index, '10.2.0.254', 24);
    await inside.addrAdd(b!.index, '10.2.0.99', 24);
    await vnfs.sync(plan(firewall()));
    expect(await host.getLink(vnfHostVethName(FW, 'a'))).toBeDefined();
    expect((await inside.listAddrs(b!.index)).filter((x) => x.family === 4).map((x) => x.address)).toEqual(['10.2.0.254']);
    inside.close();
  });

  test('removal takes the veths and the namespace; other hosts\' firewalls sharing /run/netns are not ours', async () => {
    await kernel.createNamedNetns(vnfNetnsName('h2', FW));
    await vnfs.sync(plan(firewall()));
    await vnfs.sync(plan());
    expect(await kernel.listNamedNetns()).toEqual([vnfNetnsName('h2', FW)]);
    expect((await kernel.host().listLinks()).filter((l) => l.name.startsWith('wf-'))).toEqual([]);
    expect(vnfs.reports()).toEqual([]);
  });

  test('a namespace of this host name whose interfaces are not on our bridges is another agent\'s: kept', async () => {
    // the same machine-wide /run/netns seen by two agents: simulate with one kernel and a veth whose host side is elsewhere
    const path2 = await kernel.createNamedNetns(vnfNetnsName('h1', { kind: 'Firewall', name: 'theirs' }));
    const elsewhere = await kernel.createNamedNetns('their-host-ns');
    const theirHost = await kernel.at(elsewhere);
    await theirHost.addVeth({ name: 'wf-theirs', mtu: 1500, up: true, peer: { name: 'n-x', netns: path2, up: true } });
    theirHost.close();
    await vnfs.sync(plan());
    expect(await kernel.listNamedNetns()).toContain(vnfNetnsName('h1', { kind: 'Firewall', name: 'theirs' }));
    // an empty one (half-made) is swept
    await kernel.createNamedNetns(vnfNetnsName('h1', { kind: 'Firewall', name: 'empty' }));
    await vnfs.sync(plan());
    expect(await kernel.listNamedNetns()).not.toContain(vnfNetnsName('h1', { kind: 'Firewall', name: 'empty' }));
  });

  test('the host namespace\'s port table comes before the first firewall port, and goes after the last firewall', async () => {
    const host = new FakeNft(kernel);
    const withHost = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), host.at('host'));
    await withHost.sync(plan(firewall()));
    expect(host.applied).toEqual([{ netns: 'host', vethsBefore: 0, sysctlsBefore: 0 }]);
    expect(JSON.stringify(host.tables.get('host'))).toContain('"notrack":null');
    await withHost.sync(plan());
    expect(JSON.stringify(host.tables.get('host'))).not.toContain('notrack');
  });

  test("a router's uplink: a veth on no bridge with an address at each end, forwarding and the uplink table in the host, all gone with the router", async () => {
    const RT = { kind: 'Router', name: 'edge' };
    const iface = (n: PlanNetwork, ip: string) => ({ network: n.name, ip, prefixLength: 24, mac: vnfMac(RT, n.name), mtu: n.mtu, hostIfname: vnfHostVethName(RT, n.name), ifname: vnfIfname(n.name) });
    const rt: PlanVnf<PlanRouterSpec> = {
      ...RT,
      generation: 1,
      netns: vnfNetnsName('h1', RT),
      interfaces: [iface(A, '10.1.0.253'), iface(B, '10.2.0.253')],
      spec: { subnets: [A.subnet, B.subnet], routes: [], uplink: { hostIp: '169.254.3.1', ip: '169.254.3.2', prefixLength: 30 }, portForwards: [] },
    };
    const hostNft = new FakeNft(kernel);
    const withHost = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), hostNft.at('host'));
    await withHost.sync(plan(rt));
    expect(report(withHost, 'edge')).toMatchObject({ ready: true });
    const hostSide = (await kernel.host().listLinks()).find((l) => l.name === vnfUplinkHostName(RT));
    expect(hostSide).toMatchObject({ kind: 'veth', alias: 'weft:vnf:router/edge/.uplink', up: true });
    expect(hostSide?.master).toBeUndefined();
    expect((await kernel.host().listAddrs(hostSide?.index)).map((a) => `${a.address}/${a.prefixLength}`)).toEqual(['169.254.3.1/30']);
    expect(kernel.calls).toContainEqual(expect.objectContaining({ op: 'setSysctl', ns: 'host', args: ['net.ipv4.ip_forward', '1'] }));
    const inside = await kernel.at(`/run/netns/${vnfNetnsName('h1', RT)}`);
    const up = (await inside.listLinks()).find((l) => l.name === 'uplink');
    expect((await inside.listAddrs(up?.index)).map((a) => a.address)).toEqual(['169.254.3.2']);
    expect(await inside.listRoutes(4)).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '169.254.3.1' }));
    inside.close();
    expect(JSON.stringify(hostNft.tables.get('host'))).toContain('weft-vnf-uplinks');
    // a restarted agent adopts the uplink as it is
    const vethsBefore = kernel.calls.filter((c) => c.op === 'addVeth').length;
    const restarted = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), hostNft.at('host'));
    await restarted.sync(plan(rt));
    expect(report(restarted, 'edge')).toMatchObject({ ready: true });
    expect(kernel.calls.filter((c) => c.op === 'addVeth').length).toBe(vethsBefore);
    const hostDocsBefore = hostNft.docs.length;
    await withHost.sync(plan());
    expect((await kernel.host().listLinks()).map((l) => l.name).filter((n) => n.startsWith('wu-') || n.startsWith('wf-'))).toEqual([]);
    // the host's port and uplink tables are deleted, nothing of them is made again
    const removal = hostNft.docs.slice(hostDocsBefore).flatMap((d) => d.nftables);
    const deleted = removal.flatMap((c) => ('delete' in c && 'table' in c.delete ? [c.delete.table.name] : []));
    expect(deleted.sort()).toEqual([VNF_PORT_TABLE, VNF_UPLINK_TABLE].sort());
    expect(removal.filter((c) => 'add' in c && !('table' in c.add))).toEqual([]);
  });

  test("a router's external interface: not ready naming a missing host interface; then a macvlan on it inside the namespace, adopted after a restart, replaced when the interface changes, gone with the router", async () => {
    const RT = { kind: 'Router', name: 'edge' };
    const rtPath = `/run/netns/${vnfNetnsName('h1', RT)}`;
    const iface = (n: PlanNetwork, ip: string) => ({ network: n.name, ip, prefixLength: 24, mac: vnfMac(RT, n.name), mtu: n.mtu, hostIfname: vnfHostVethName(RT, n.name), ifname: vnfIfname(n.name) });
    const external = { interface: 'eth1', ip: '203.0.113.10', prefixLength: 24, gateway: '203.0.113.1', snat: true, floatingIPs: [{ address: '203.0.113.20', toIp: '10.2.0.7' }] };
    const rt = (ext: PlanRouterSpec['external']): PlanVnf<PlanRouterSpec> => ({
      ...RT,
      generation: 1,
      netns: vnfNetnsName('h1', RT),
      interfaces: [iface(A, '10.1.0.253'), iface(B, '10.2.0.253')],
      spec: { subnets: [A.subnet, B.subnet], routes: [], external: ext, portForwards: [] },
    });
    const hostNft = new FakeNft(kernel);
    const withHost = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), hostNft.at('host'));
    const externalLink = async () => {
      const inside = await kernel.at(rtPath);
      try {
        const link = (await inside.listLinks()).find((l) => l.name === 'external');
        const addrs = link ? (await inside.listAddrs(link.index)).map((a) => `${a.address}/${a.prefixLength}`) : [];
        return { link, addrs, routes: await inside.listRoutes(4) };
      } finally {
        inside.close();
      }
    };

    await withHost.sync(plan(rt(external)));
    expect(report(withHost, 'edge')).toMatchObject({ ready: false, message: expect.stringContaining('host interface "eth1" does not exist on host "h1"') });
    expect((await externalLink()).link).toBeUndefined();
    // a weft bridge is no way out
    await withHost.sync(plan(rt({ ...external, interface: A.bridge })));
    expect(report(withHost, 'edge')).toMatchObject({ ready: false, message: expect.stringContaining(`host interface "${A.bridge}" on host "h1" is weft's own (a bridge)`) });
    expect((await externalLink()).link).toBeUndefined();

    // the host interface appears (a veth to another namespace stands for a NIC)
    await kernel.createNamedNetns('segment');
    const eth1 = await kernel.host().addVeth({ name: 'eth1', mtu: 1500, up: true, peer: { name: 'peer', netns: '/run/netns/segment', up: true } });
    await withHost.sync(plan(rt(external)));
    expect(report(withHost, 'edge')).toMatchObject({ ready: true });
    const made = await externalLink();
    expect(made.link).toMatchObject({ kind: 'macvlan', lowerIndex: eth1.index, alias: 'weft:vnf:router/edge/.external', mac: vnfMac(RT, '.external'), up: true });
    expect(made.addrs.sort()).toEqual(['203.0.113.10/24', '203.0.113.20/32']);
    expect(made.routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '203.0.113.1' }));
    // nothing in the host for it: no uplink, no uplink table
    expect((await kernel.host().listLinks()).map((l) => l.name).filter((n) => n.startsWith('wu-'))).toEqual([]);
    expect(JSON.stringify(hostNft.docs)).not.toContain(VNF_UPLINK_TABLE);

    // a restarted agent adopts it as it is; a floating IP removed goes from the interface
    const restarted = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), hostNft.at('host'));
    await restarted.sync(plan(rt(external)));
    expect(kernel.calls.filter((c) => c.op === 'addMacvlan')).toHaveLength(1);
    await restarted.sync(plan(rt({ ...external, floatingIPs: [] })));
    expect((await externalLink()).addrs).toEqual(['203.0.113.10/24']);
    expect(kernel.calls.filter((c) => c.op === 'addMacvlan')).toHaveLength(1);

    // moved to another host interface: made anew on that one
    const eth2 = await kernel.host().addVeth({ name: 'eth2', mtu: 1500, up: true, peer: { name: 'peer2', netns: '/run/netns/segment', up: true } });
    await restarted.sync(plan(rt({ ...external, interface: 'eth2' })));
    expect((await externalLink()).link).toMatchObject({ kind: 'macvlan', lowerIndex: eth2.index });

    // an address the host itself holds is refused: the router would answer ARP for it
    await kernel.host().addrAdd(eth2.index, '203.0.113.10', 24);
    await restarted.sync(plan(rt({ ...external, interface: 'eth2' })));
    expect(report(restarted, 'edge')).toMatchObject({ ready: false, message: expect.stringContaining('203.0.113.10 is an address of host "h1" itself') });
    expect((await externalLink()).link).toBeUndefined();
    await kernel.host().addrDel(eth2.index, '203.0.113.10', 24);

    // back to no way out at all: the macvlan goes, the namespace stays
    await restarted.sync(plan(rt(undefined)));
    expect((await externalLink()).link).toBeUndefined();

    await restarted.sync(plan(rt(external)));
    await restarted.sync(plan());
    expect(await kernel.listNamedNetns()).toEqual(['segment']);
    expect((await kernel.host().listLinks()).map((l) => l.name).filter((n) => n.startsWith('wf-'))).toEqual([]);
  });

  test('counters are re-read between passes, and reported only when they moved', async () => {
    await vnfs.sync(plan(firewall()));
    expect(await vnfs.refreshCounters()).toBe(false);
    nft.listing = [{ rule: { family: 'inet', table: 'weft-vnf-firewall', chain: 'judge', comment: 'default', expr: [{ counter: { packets: 2, bytes: 120 } }, { drop: null }] } }];
    expect(await vnfs.refreshCounters()).toBe(true);
    expect(report(vnfs)?.counters).toEqual([{ rule: 'default', packets: 2, bytes: 120 }]);
    expect(await vnfs.refreshCounters()).toBe(false);
  });

  test('the networks a VNF has interfaces on are carried by its host', () => {
    expect([...vnfNetworks(plan(firewall()))]).toEqual(['a', 'b']);
    expect(vnfNetworks(undefined).size).toBe(0);
  });

  test('a kind this agent has no driver for is reported, not realised, and does not stop the others', async () => {
    const other: PlanVnf = { kind: 'Teleporter', name: 'x', generation: 4, netns: vnfNetnsName('h1', { kind: 'Teleporter', name: 'x' }), interfaces: [], spec: {} };
    await vnfs.sync(plan(other, firewall()));
    expect(report(vnfs, 'x')).toEqual({ kind: 'Teleporter', name: 'x', generation: 4, ready: false, interfaces: [], message: 'this agent has no driver for VNF kind "Teleporter"' });
    expect(report(vnfs)).toMatchObject({ kind: 'Firewall', ready: true });
    expect(await kernel.listNamedNetns()).toEqual([vnfNetnsName('h1', FW)]);
  });

  test('two kinds may use one name: each has its own namespace and veths', async () => {
    const twin: VnfDriver = { kind: 'Twin', render: (v, ctx) => ({ ...(VNF_DRIVERS[0] as VnfDriver).render({ ...firewall(), ...v, spec: firewall().spec }, ctx), kind: 'Twin' }) };
    const both = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), undefined, [...VNF_DRIVERS, twin]);
    const T = { kind: 'Twin', name: 'fw' };
    const twinVnf: PlanVnf = {
      ...T, generation: 1, netns: vnfNetnsName('h1', T), spec: {},
      interfaces: [{ network: 'a', ip: '10.1.0.250', prefixLength: 24, mac: vnfMac(T, 'a'), mtu: 1450, hostIfname: vnfHostVethName(T, 'a'), ifname: vnfIfname('a') }],
    };
    await both.sync(plan(firewall(), twinVnf));
    expect(both.reports().map((r) => [r.kind, r.ready])).toEqual([['Firewall', true], ['Twin', true]]);
    expect((await kernel.listNamedNetns()).sort()).toEqual([vnfNetnsName('h1', FW), vnfNetnsName('h1', T)].sort());
    await both.sync(plan(firewall()));
    expect(await kernel.listNamedNetns()).toEqual([vnfNetnsName('h1', FW)]);
    expect((await kernel.host().listLinks()).filter((l) => l.name.startsWith('wf-')).map((l) => l.name).sort()).toEqual([vnfHostVethName(FW, 'a'), vnfHostVethName(FW, 'b')].sort());
  });

  test('routes a driver renders are made inside the namespace, and ones it drops are removed', async () => {
    let routes = [{ dst: '10.9.0.0/24', via: '10.1.0.1' }];
    const routed: VnfDriver = { kind: 'Firewall', render: (v, ctx) => ({ ...(VNF_DRIVERS[0] as VnfDriver).render(v, ctx), routes }) };
    const host = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), undefined, [routed]);
    await host.sync(plan(firewall()));
    const inside = await kernel.at(path);
    expect((await inside.listRoutes(4)).filter((r) => r.gateway !== undefined).map((r) => [r.dst, r.gateway])).toEqual([['10.9.0.0/24', '10.1.0.1']]);
    routes = [{ dst: '10.8.0.0/24', via: '10.2.0.1' }];
    await host.sync(plan(firewall(2)));
    expect((await inside.listRoutes(4)).filter((r) => r.gateway !== undefined).map((r) => [r.dst, r.gateway])).toEqual([['10.8.0.0/24', '10.2.0.1']]);
    inside.close();
  });

  test("connections a driver lists come from the namespace's conntrack with the want's filter, read between passes only", async () => {
    let tracked: ConntrackEntry[] = [{ protocol: 6, orig: { src: '192.0.2.9', dst: '10.1.0.254', sport: 40000, dport: 8080 }, reply: { src: '10.2.0.7', dst: '192.0.2.9', sport: 80, dport: 40000 }, status: 1 << 5, tcpState: 3 }];
    const read: Array<[string, ConntrackFilter]> = [];
    const conntrack = async (nsPath: string, filter: ConntrackFilter) => {
      read.push([nsPath, filter]);
      return tracked;
    };
    let observe: ConntrackFilter | undefined = { mark: 0x7766_0001, mask: 0xffff_ffff };
    const listing: VnfDriver = {
      kind: 'Firewall',
      render: (v, ctx) => ({ ...(VNF_DRIVERS[0] as VnfDriver).render(v, ctx), ...(observe ? { observeConntrack: observe } : {}) }),
      readConnections: (entries) => ({ total: entries.length, items: entries.map((e) => ({ client: `${e.orig.src}:${e.orig.sport}` })) }),
    };
    const host = new VnfHost(kernel, kernel.host(), new BridgeManager(kernel.host()), silent, processes(), (p) => nft.at(p), undefined, [listing], conntrack);
    await host.sync(plan(firewall()));
    // a pass does not wait on the table
    expect(read).toEqual([]);
    expect(host.reports()[0]?.connections).toBeUndefined();
    expect(await host.refreshCounters()).toBe(true);
    expect(read).toEqual([[path, { mark: 0x7766_0001, mask: 0xffff_ffff }]]);
    expect(host.reports()[0]?.connections).toEqual({ total: 1, items: [{ client: '192.0.2.9:40000' }] });
    expect(await host.refreshCounters()).toBe(false);
    tracked = [];
    expect(await host.refreshCounters()).toBe(true);
    expect(host.reports()[0]?.connections).toEqual({ total: 0, items: [] });
    // a want that does not ask is not read
    observe = undefined;
    read.length = 0;
    await host.sync(plan(firewall(2)));
    expect(await host.refreshCounters()).toBe(false);
    expect(read).toEqual([]);
    expect(host.reports()[0]?.connections).toBeUndefined();
  });
});
