// NetlinkDatapath on the real kernel: the shared contract, iproute2 as a
// second oracle, and real packets between namespaces (on one bridge, and
// between two "hosts" over a VXLAN overlay).
//
// Everything happens inside throwaway namespaces named wt<pid>-*: a "host"
// namespace stands in for the agent's (it gets the bridge and the host ends
// of the veths), workloads sit beside it. Nothing is created in the
// machine's root namespace. afterEach deletes every namespace, also when a
// test fails; deleting a namespace deletes its links.
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { NetlinkDatapath } from '../../../agents/datapath/netlink/netlink-datapath.js';
import { withNetns } from '../../../agents/datapath/netlink/netns.js';
import type { LinkInfo, NetnsHandle } from '../../../agents/datapath/port.js';
import { runDatapathContract } from '../../contract/datapath-contract.js';
import { icmpEcho } from './icmp-echo.js';

const execFileP = promisify(execFile);
const PREFIX = `wt${process.pid}-`;
const HOST_NS = `${PREFIX}host`;
/** The two-host overlay lab's namespaces: wt<pid>x-h1, -h2 (hosts), -w1, -w2 (workloads). */
const LAB_PREFIX = `wt${process.pid}x-`;

/** `ip ... -j` as parsed JSON (argument array: nothing goes through a shell). */
async function ipJson<T>(args: string[]): Promise<T> {
  const { stdout } = await execFileP('ip', args);
  return JSON.parse(stdout) as T;
}

async function ourNamespaces(): Promise<string[]> {
  const { stdout } = await execFileP('ip', ['netns', 'list']);
  return stdout.split('\n').filter((l) => l.startsWith(PREFIX) || l.startsWith(LAB_PREFIX));
}

/** `bridge ... -j` as parsed JSON. */
async function bridgeJson<T>(args: string[]): Promise<T> {
  const { stdout } = await execFileP('bridge', args);
  return JSON.parse(stdout) as T;
}

runDatapathContract('NetlinkDatapath (real kernel)', {
  setUp: async () => {
    const factory = new NetlinkDatapath();
    const path = await factory.createNamedNetns(HOST_NS);
    return { factory, host: await factory.at(path), prefix: PREFIX };
  },
  tearDown: async (w) => {
    w.host.close();
    (w.factory as NetlinkDatapath).close();
    await w.factory.deleteNamedNetns(HOST_NS);
  },
});

interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  master?: string;
  ifalias?: string;
  link_index?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

interface IpAddr {
  ifname: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number }>;
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
}

interface BridgeFdb {
  mac: string;
  dst?: string;
  flags: string[];
  state?: string;
  master?: string;
}

interface IpNeigh {
  dst: string;
  lladdr?: string;
  state: string[];
}

interface BridgePort {
  ifname: string;
  neigh_suppress?: boolean;
}

interface NftCounters {
  nftables: Array<{ counter?: { name: string; packets: number } }>;
}

describe('NetlinkDatapath: iproute2 agrees, and packets flow', () => {
  const dp = new NetlinkDatapath();
  let host: NetnsHandle;
  let handles: NetnsHandle[] = [];
  let names: string[] = [];

  async function netns(suffix: string): Promise<string> {
    names.push(`${PREFIX}${suffix}`);
    return dp.createNamedNetns(`${PREFIX}${suffix}`);
  }

  async function at(path: string): Promise<NetnsHandle> {
    const h = await dp.at(path);
    handles.push(h);
    return h;
  }

  /** Workload namespace: eth0 (veth peer) with an address, lo up, host side on the bridge. */
  async function workload(suffix: string, bridge: LinkInfo, ip: string): Promise<{ path: string; ns: NetnsHandle; hostSide: LinkInfo }> {
    const path = await netns(suffix);
    const hostSide = await host.addVeth({
      name: `wv-o${suffix}`,
      mtu: 1450,
      master: bridge.index,
      up: true,
      peer: { name: 'eth0', netns: path, mac: `02:42:64:40:00:0${suffix === 'a' ? 2 : 3}`, up: true },
    });
    const ns = await at(path);
    await ns.setLinkUp(1);
    await ns.addrAdd(hostSide.peerIndex ?? -1, ip, 24);
    return { path, ns, hostSide };
  }

  beforeEach(async () => {
    host = await at(await netns('host'));
  });

  afterEach(async () => {
    for (const h of handles) h.close();
    for (const n of names.reverse()) await dp.deleteNamedNetns(n);
    handles = [];
    names = [];
  });

  afterAll(() => dp.close());

  it('a bridge made by addBridge is what `ip -d -j link` reports (name, MTU, MAC, alias, kind, STP off)', async () => {
    await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1', mac: '02:42:ac:11:00:01' });
    const [link] = await ipJson<IpLink[]>(['-n', `${PREFIX}host`, '-d', '-j', 'link', 'show', 'dev', 'wb-o1']);
    expect(link).toMatchObject({ ifname: 'wb-o1', mtu: 1450, address: '02:42:ac:11:00:01', ifalias: 'weft:net:o1' });
    expect(link?.linkinfo?.info_kind).toBe('bridge');
    expect(link?.linkinfo?.info_data?.['stp_state']).toBe(0);
  });

  it('a veth made by addVeth is what `ip -d -j link` reports on both sides', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    await host.setLinkUp(br.index);
    const a = await workload('a', br, '100.64.0.2');
    const [hostSide] = await ipJson<IpLink[]>(['-n', `${PREFIX}host`, '-d', '-j', 'link', 'show', 'dev', 'wv-oa']);
    expect(hostSide).toMatchObject({ ifindex: a.hostSide.index, mtu: 1450, master: 'wb-o1', link_index: a.hostSide.peerIndex });
    expect(hostSide?.flags).toContain('UP');
    expect(hostSide?.linkinfo?.info_kind).toBe('veth');
    const [eth0] = await ipJson<IpLink[]>(['-n', `${PREFIX}a`, '-d', '-j', 'link', 'show', 'dev', 'eth0']);
    expect(eth0).toMatchObject({ ifindex: a.hostSide.peerIndex, mtu: 1450, address: '02:42:64:40:00:02', link_index: a.hostSide.index });
    expect(eth0?.flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
  });

  it('addresses and routes are what `ip -j addr` and `ip -j route` report', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    const a = await workload('a', br, '100.64.0.2');
    await a.ns.routeReplace({ dst: 'default', gateway: '100.64.0.1', family: 4 });
    const [addr] = await ipJson<IpAddr[]>(['-n', `${PREFIX}a`, '-j', 'addr', 'show', 'dev', 'eth0']);
    expect(addr?.addr_info).toContainEqual(expect.objectContaining({ family: 'inet', local: '100.64.0.2', prefixlen: 24 }));
    const routes = await ipJson<IpRoute[]>(['-n', `${PREFIX}a`, '-j', 'route', 'show']);
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '100.64.0.1', dev: 'eth0' }));
  });

  it('an IPv6 address is added without DAD (usable at once, `nodad` in `ip -j addr`), and an IPv6 default route goes via it', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    await host.setLinkUp(br.index);
    const a = await workload('a', br, '100.64.0.2');
    await a.ns.addrAdd(a.hostSide.peerIndex ?? -1, 'fd00:64::2', 64);
    await a.ns.routeReplace({ dst: 'default', gateway: 'fd00:64::1', oif: a.hostSide.peerIndex ?? -1, family: 6 });
    const [addr] = await ipJson<{ addr_info: { family: string; local: string; prefixlen: number; nodad?: boolean; tentative?: boolean }[] }[]>(['-n', `${PREFIX}a`, '-j', 'addr', 'show', 'dev', 'eth0']);
    const global = addr?.addr_info.find((x) => x.local === 'fd00:64::2');
    expect(global).toMatchObject({ family: 'inet6', prefixlen: 64, nodad: true });
    expect(global?.tentative).toBeUndefined();
    const routes = await ipJson<IpRoute[]>(['-n', `${PREFIX}a`, '-j', '-6', 'route', 'show', 'default']);
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: 'fd00:64::1', dev: 'eth0' }));
    expect(await a.ns.listRoutes(6)).toContainEqual(expect.objectContaining({ dst: 'default', gateway: 'fd00:64::1', family: 6 }));
  });

  const VXLAN = { name: 'wx-o1', vni: 42, local: '198.18.0.11', port: 4789, learning: false, proxy: true } as const;

  it('a vxlan made by addVxlan is what `ip -d -j link` reports (VNI, local, port, learning off, proxy on, lower device, MTU)', async () => {
    const path = await netns('u');
    const u = await host.addVeth({ name: 'wv-ou', mtu: 1500, up: true, peer: { name: 'eth0', netns: path, up: true } });
    const vx = await host.addVxlan({ ...VXLAN, mtu: 1450, dev: u.index });
    const [link] = await ipJson<IpLink[]>(['-n', `${PREFIX}host`, '-d', '-j', 'link', 'show', 'dev', 'wx-o1']);
    expect(link).toMatchObject({ ifindex: vx.index, ifname: 'wx-o1', mtu: 1450, address: vx.mac });
    expect(link?.linkinfo?.info_kind).toBe('vxlan');
    expect(link?.linkinfo?.info_data).toMatchObject({ id: 42, local: '198.18.0.11', port: 4789, learning: false, proxy: true, link: 'wv-ou' });
    // no group or remote: broadcast goes only where all-zero FDB entries point
    expect(link?.linkinfo?.info_data).not.toHaveProperty('group');
    expect(link?.linkinfo?.info_data).not.toHaveProperty('remote');
  });

  it('setLinkMac is what `ip -j link` reports', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    await host.setLinkMac(br.index, '02:77:66:00:00:2a');
    const [link] = await ipJson<IpLink[]>(['-n', `${PREFIX}host`, '-j', 'link', 'show', 'dev', 'wb-o1']);
    expect(link?.address).toBe('02:77:66:00:00:2a');
  });

  it('FDB entries from fdbAppend are what `bridge -j fdb show dev` reports (self, permanent, one line per VTEP)', async () => {
    const vx = await host.addVxlan({ ...VXLAN, mtu: 1450 });
    await host.fdbAppend({ index: vx.index, mac: '02:42:64:40:00:03', dst: '198.18.0.12', permanent: true });
    await host.fdbAppend({ index: vx.index, mac: '00:00:00:00:00:00', dst: '198.18.0.12', permanent: true });
    await host.fdbAppend({ index: vx.index, mac: '00:00:00:00:00:00', dst: '198.18.0.13', permanent: true });
    const fdb = await bridgeJson<BridgeFdb[]>(['-n', `${PREFIX}host`, '-j', 'fdb', 'show', 'dev', 'wx-o1']);
    const ours = fdb.filter((e) => e.dst !== undefined);
    expect(ours).toHaveLength(3);
    for (const e of ours) expect(e).toMatchObject({ flags: ['self'], state: 'permanent' });
    expect(ours.map((e) => `${e.mac} ${e.dst ?? ''}`).sort()).toEqual([
      '00:00:00:00:00:00 198.18.0.12',
      '00:00:00:00:00:00 198.18.0.13',
      '02:42:64:40:00:03 198.18.0.12',
    ]);
    expect((await host.listFdb(vx.index)).map((e) => `${e.mac} ${e.dst}`).sort()).toEqual(ours.map((e) => `${e.mac} ${e.dst ?? ''}`).sort());
  });

  it('neighbour entries from neighReplace are what `ip -j neigh show dev` reports (PERMANENT)', async () => {
    const vx = await host.addVxlan({ ...VXLAN, mtu: 1450 });
    await host.setLinkUp(vx.index);
    await host.neighReplace({ index: vx.index, ip: '100.64.0.3', mac: '02:42:64:40:00:03', permanent: true });
    const neigh = await ipJson<IpNeigh[]>(['-n', `${PREFIX}host`, '-j', 'neigh', 'show', 'dev', 'wx-o1']);
    expect(neigh).toEqual([expect.objectContaining({ dst: '100.64.0.3', lladdr: '02:42:64:40:00:03', state: ['PERMANENT'] })]);
  });

  it('setBridgePortNeighSuppress resolves exactly when `bridge -d -j link` then reports neigh_suppress on', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    const vx = await host.addVxlan({ ...VXLAN, mtu: 1450 });
    await host.setLinkMaster(vx.index, br.index);
    const took = await host.setBridgePortNeighSuppress(vx.index, true).then(
      () => true,
      () => false,
    );
    const [port] = await bridgeJson<BridgePort[]>(['-n', `${PREFIX}host`, '-d', '-j', 'link', 'show', 'dev', 'wx-o1']);
    expect(port?.neigh_suppress === true).toBe(took);
  });

  it('two namespaces attached to a bridge in the host namespace can ping each other', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    await host.setLinkUp(br.index);
    const a = await workload('a', br, '100.64.0.2');
    const b = await workload('b', br, '100.64.0.3');
    expect(icmpEcho(a.path, '100.64.0.3')).toBe(true);
    expect(icmpEcho(b.path, '100.64.0.2')).toBe(true);
  });

  it('the ping helper reports an address nobody holds as unreachable (negative control)', async () => {
    const br = await host.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
    await host.setLinkUp(br.index);
    const a = await workload('a', br, '100.64.0.2');
    expect(icmpEcho(a.path, '100.64.0.99', 700)).toBe(false);
  });
});

/**
 * Hundreds of requests at once on one handle (a runtime detaching a whole
 * node): every veth delete holds the sending thread in the kernel for
 * ~15-20 ms, and unbounded, the acks overran the socket's receive buffer
 * (~250 of them fit) before any was read; node_netlink then aborted the
 * process on the socket error. The handle keeps a bounded window.
 */
describe('a burst of link deletions on one handle', () => {
  const BURST = 400;
  const dp = new NetlinkDatapath();
  const name = `${PREFIX}burst`;

  afterEach(async () => {
    await dp.deleteNamedNetns(name).catch(() => undefined);
  });

  afterAll(() => dp.close());

  it(`${BURST} veth deletions issued together all succeed and leave no veth behind`, async () => {
    const path = await dp.createNamedNetns(name);
    const batch = Array.from({ length: BURST }, (_, i) => `link add wv-b${i} type veth peer name wp-b${i}\n`).join('');
    await new Promise<void>((resolve, reject) => {
      const child = execFile('ip', ['-n', name, '-b', '-'], (err) => (err ? reject(err) : resolve()));
      child.stdin?.end(batch);
    });
    const h = await dp.at(path);
    try {
      const veths = (await h.listLinks()).filter((l) => l.name.startsWith('wv-b'));
      expect(veths).toHaveLength(BURST);
      const results = await Promise.allSettled(veths.map((l) => h.removeLink(l.index)));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    } finally {
      h.close();
    }
    const left = await ipJson<IpLink[]>(['-n', name, '-j', 'link', 'show']);
    expect(left.filter((l) => l.ifname.startsWith('wv-b') || l.ifname.startsWith('wp-b'))).toEqual([]);
  }, 60_000);
});

/**
 * Two "hosts" joined by a veth underlay (198.18.0.11 <-> .12), each with a
 * bridge, a VXLAN device on it (VNI 42, learning off, ARP proxy on) and one
 * workload (100.64.0.2 on h1, .3 on h2). Forwarding is programmed, not
 * learned: per remote workload a FDB entry (MAC -> remote VTEP) and a
 * permanent neighbour entry (IP -> MAC) on the VXLAN device, plus an
 * all-zero flood entry towards the other host. IPv6 is off in the lab
 * namespaces (no DAD, no MLD noise), the underlay neighbours are permanent.
 *
 * What crosses the underlay is counted by kind, not in total: the
 * workloads' IGMP reports are multicast and do cross (that is what the
 * flood entries are for), a second or two after a workload comes up, so
 * plain interface counters race with them.
 */
describe('VXLAN overlay between two hosts: forwarding programmed over netlink', () => {
  const dp = new NetlinkDatapath();
  const ZERO = '00:00:00:00:00:00';
  const W_MAC = ['02:42:64:40:00:02', '02:42:64:40:00:03'] as const;
  const W_IP = ['100.64.0.2', '100.64.0.3'] as const;
  const VTEP = ['198.18.0.11', '198.18.0.12'] as const;
  const names: string[] = [];
  const handles: NetnsHandle[] = [];
  const hosts: Array<{ ns: NetnsHandle; name: string; vx: LinkInfo; underlay: LinkInfo }> = [];
  const workloads: string[] = [];

  async function labNetns(suffix: string): Promise<{ path: string; ns: NetnsHandle }> {
    const name = `${LAB_PREFIX}${suffix}`;
    names.push(name);
    const path = await dp.createNamedNetns(name);
    await execFileP('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    const ns = await dp.at(path);
    handles.push(ns);
    await ns.setLinkUp(1);
    return { path, ns };
  }

  /**
   * Count VXLAN packets arriving at host 2 by what they carry: an nft
   * netdev ingress chain on its underlay device (the table dies with the
   * namespace). Offsets into the frame: outer Ethernet 14 + IPv4 20 (the
   * encapsulation sets no options) + UDP 8 + VXLAN 8 = inner Ethernet at
   * byte 50, so the inner EtherType is at byte 62 (bit 496); inner IPv4
   * without options puts the ICMP type at byte 50 + 14 + 20 = 84 (bit 672).
   * The outer IP protocol is at byte 23 (bit 184), the UDP port at 36 (bit 288).
   */
  async function installUnderlayCounters(): Promise<void> {
    const vxlan = '@ll,184,8 17 @ll,288,16 4789';
    await execFileP('ip', ['netns', 'exec', `${LAB_PREFIX}h2`, 'nft', [
      'add table netdev wtlab',
      // ("arp" and "echo" are nft keywords: the counters need other names)
      'add counter netdev wtlab inner_arp',
      'add counter netdev wtlab inner_echo',
      'add chain netdev wtlab in { type filter hook ingress device wu-2 priority 0; }',
      `add rule netdev wtlab in ${vxlan} @ll,496,16 0x0806 counter name inner_arp`,
      `add rule netdev wtlab in ${vxlan} @ll,496,16 0x0800 @ll,672,8 8 counter name inner_echo`,
    ].join('; ')]);
  }

  /** Inner ARP frames and ICMP echo requests that reached host 2 over VXLAN so far. */
  async function crossed(): Promise<{ arp: number; echo: number }> {
    const { stdout } = await execFileP('ip', ['netns', 'exec', `${LAB_PREFIX}h2`, 'nft', '-j', 'list', 'counters', 'table', 'netdev', 'wtlab']);
    const counters = (JSON.parse(stdout) as NftCounters).nftables.flatMap((o) => (o.counter ? [o.counter] : []));
    const packets = (name: string): number => counters.find((c) => c.name === name)?.packets ?? Number.NaN;
    return { arp: packets('inner_arp'), echo: packets('inner_echo') };
  }

  /** Forget what workload 1 resolved, so its next packet to .3 starts with an ARP request. */
  async function flushWorkloadNeighbours(): Promise<void> {
    await execFileP('ip', ['-n', `${LAB_PREFIX}w1`, 'neigh', 'flush', 'dev', 'eth0']);
  }

  beforeAll(async () => {
    const h1 = await labNetns('h1');
    const h2 = await labNetns('h2');
    // The underlay: one veth pair, one end in each host namespace.
    const u1 = await h1.ns.addVeth({ name: 'wu-1', mtu: 1500, up: true, peer: { name: 'wu-2', netns: h2.path, up: true } });
    const u2 = await h2.ns.getLink('wu-2');
    if (!u2) throw new Error('underlay peer wu-2 missing');
    const underlays = [u1, u2] as const;
    for (const [i, h] of [h1, h2].entries()) {
      const other = 1 - i;
      const underlay = underlays[i] as LinkInfo;
      await h.ns.addrAdd(underlay.index, VTEP[i] as string, 24);
      await h.ns.neighReplace({ index: underlay.index, ip: VTEP[other] as string, mac: (underlays[other] as LinkInfo).mac, permanent: true });
      const br = await h.ns.addBridge({ name: 'wb-o1', mtu: 1450, alias: 'weft:net:o1' });
      await h.ns.setLinkUp(br.index);
      const owner = await h.ns.findAddressOwner(VTEP[i] as string);
      if (!owner) throw new Error(`no device holds ${VTEP[i] as string}`);
      const vx = await h.ns.addVxlan({ name: 'wx-o1', vni: 42, local: VTEP[i] as string, port: 4789, mtu: owner.mtu - 50, dev: owner.index, learning: false, proxy: true });
      await h.ns.setLinkMaster(vx.index, br.index);
      await h.ns.setLinkUp(vx.index);
      const w = await labNetns(`w${i + 1}`);
      workloads.push(w.path);
      const hostSide = await h.ns.addVeth({ name: 'wv-o1', mtu: 1450, master: br.index, up: true, peer: { name: 'eth0', netns: w.path, mac: W_MAC[i], up: true } });
      await w.ns.addrAdd(hostSide.peerIndex ?? -1, W_IP[i] as string, 24);
      hosts.push({ ns: h.ns, name: `${LAB_PREFIX}h${i + 1}`, vx, underlay });
    }
    await installUnderlayCounters();
    // What the controller would program: the remote workload, from each side.
    for (const [i, h] of hosts.entries()) {
      const other = 1 - i;
      await h.ns.fdbAppend({ index: h.vx.index, mac: W_MAC[other] as string, dst: VTEP[other] as string, permanent: true });
      await h.ns.fdbAppend({ index: h.vx.index, mac: ZERO, dst: VTEP[other] as string, permanent: true });
      await h.ns.neighReplace({ index: h.vx.index, ip: W_IP[other] as string, mac: W_MAC[other] as string, permanent: true });
    }
  });

  afterAll(async () => {
    for (const h of handles) h.close();
    // Each deletion is attempted even if an earlier one fails.
    const results = await Promise.allSettled(names.reverse().map((n) => dp.deleteNamedNetns(n)));
    dp.close();
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  });

  it('the vxlan devices got the underlay MTU minus 50 and the programmed entries', async () => {
    const h = hosts[0];
    if (!h) throw new Error('lab not built');
    expect(h.vx.mtu).toBe(1450);
    expect((await h.ns.listFdb(h.vx.index)).map((e) => `${e.mac} ${e.dst}`).sort()).toEqual([`${ZERO} ${VTEP[1]}`, `${W_MAC[1]} ${VTEP[1]}`]);
    expect(await h.ns.listNeigh(h.vx.index)).toEqual([{ index: h.vx.index, ip: W_IP[1], mac: W_MAC[1], permanent: true }]);
  });

  it('a workload pings the workload on the other host, both ways', () => {
    expect(icmpEcho(workloads[0] as string, W_IP[1])).toBe(true);
    expect(icmpEcho(workloads[1] as string, W_IP[0])).toBe(true);
  });

  it('with proxy on, a first ping gets its reply without any ARP request crossing the underlay', async () => {
    await flushWorkloadNeighbours();
    const before = await crossed();
    expect(icmpEcho(workloads[0] as string, W_IP[1])).toBe(true);
    const after = await crossed();
    // The echo request did cross (so the counters see this traffic)...
    expect(after.echo - before.echo).toBeGreaterThanOrEqual(1);
    // ...the ARP request that preceded it did not...
    expect(after.arp - before.arp).toBe(0);
    // ...and yet the workload resolved the remote MAC: the local VXLAN device answered.
    const neigh = await ipJson<IpNeigh[]>(['-n', `${LAB_PREFIX}w1`, '-j', 'neigh', 'show', 'dev', 'eth0']);
    expect(neigh).toContainEqual(expect.objectContaining({ dst: W_IP[1], lladdr: W_MAC[1] }));
  });

  it('with the unicast FDB entry gone, traffic still reaches the other host through the all-zero flood entry', async () => {
    const h = hosts[0];
    if (!h) throw new Error('lab not built');
    await h.ns.fdbDel({ index: h.vx.index, mac: W_MAC[1], dst: VTEP[1], permanent: true });
    try {
      expect(icmpEcho(workloads[0] as string, W_IP[1])).toBe(true);
    } finally {
      await h.ns.fdbAppend({ index: h.vx.index, mac: W_MAC[1], dst: VTEP[1], permanent: true });
    }
  });

  it('without the neighbour entry the proxy drops the ARP request rather than flooding it, and the ping fails (negative control)', async () => {
    const h = hosts[0];
    if (!h) throw new Error('lab not built');
    await h.ns.neighDel({ index: h.vx.index, ip: W_IP[1] });
    try {
      await flushWorkloadNeighbours();
      const before = await crossed();
      expect(icmpEcho(workloads[0] as string, W_IP[1], 700)).toBe(false);
      const after = await crossed();
      expect({ arp: after.arp - before.arp, echo: after.echo - before.echo }).toEqual({ arp: 0, echo: 0 });
    } finally {
      await h.ns.neighReplace({ index: h.vx.index, ip: W_IP[1], mac: W_MAC[1], permanent: true });
    }
  });
});

describe('netns switching (koffi setns on the JS thread)', () => {
  const dp = new NetlinkDatapath();
  const name = `${PREFIX}switch`;
  let path: string;
  const here = (): number => statSync('/proc/thread-self/ns/net').ino;

  beforeEach(async () => {
    path = await dp.createNamedNetns(name);
  });

  afterEach(async () => {
    await dp.deleteNamedNetns(name);
  });

  it('withNetns runs the callback inside the namespace and switches the thread back', () => {
    const home = here();
    const inside = withNetns(path, here);
    // the bind mount at /run/netns/NAME is the namespace's nsfs inode
    expect(inside).toBe(statSync(path).ino);
    expect(inside).not.toBe(home);
    expect(here()).toBe(home);
  });

  it('withNetns switches back when the callback throws', () => {
    const home = here();
    expect(() =>
      withNetns(path, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(here()).toBe(home);
  });

  it('withNetns refuses to nest (it could not restore the outer namespace)', () => {
    const home = here();
    expect(() => withNetns(path, () => withNetns(path, here))).toThrow(expect.objectContaining({ errno: 'EBUSY' }));
    expect(here()).toBe(home);
  });

  it('createNamedNetns leaves /run/netns a shared mount point, as iproute2 does', () => {
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/run/netns');
    expect(line).toMatch(/shared:\d+/);
  });
});

describe('cleanup', () => {
  it('leaves no wt<pid>- or wt<pid>x- namespace and no test link in the root namespace', async () => {
    expect(await ourNamespaces()).toEqual([]);
    const { stdout } = await execFileP('ip', ['-br', 'link']);
    expect(stdout).not.toMatch(/^w[bvx]-[to]|^wu-\d/m);
  });
});
