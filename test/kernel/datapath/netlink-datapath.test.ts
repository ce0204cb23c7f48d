// NetlinkDatapath on the real kernel: the shared contract, iproute2 as a
// second oracle, and real packets between namespaces.
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

/** `ip ... -j` as parsed JSON (argument array: nothing goes through a shell). */
async function ipJson<T>(args: string[]): Promise<T> {
  const { stdout } = await execFileP('ip', args);
  return JSON.parse(stdout) as T;
}

async function ourNamespaces(): Promise<string[]> {
  const { stdout } = await execFileP('ip', ['netns', 'list']);
  return stdout.split('\n').filter((l) => l.startsWith(PREFIX));
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
  it('leaves no wt<pid>- namespace and no test link in the root namespace', async () => {
    expect(await ourNamespaces()).toEqual([]);
    const { stdout } = await execFileP('ip', ['-br', 'link']);
    expect(stdout).not.toMatch(/^w[bv]-[to]/m);
  });
});
