// The datapath port's contract, written once and run against both
// implementations: FakeKernel (test/unit/agents/datapath/fake-kernel.test.ts)
// and the real kernel through NetlinkDatapath
// (test/kernel/datapath/netlink-datapath.test.ts), so the fake cannot drift
// from the truth. Every test is a round trip: create, read back, compare,
// delete. The kernel adds things the fake does not model (IPv6 link-local
// addresses, fe80::/64 routes), so reads are compared with toContainEqual
// or filtered to what the test made, never with whole-list equality.
import type { DatapathFactory, LinkInfo, NetnsHandle } from '../../agents/datapath/port.js';
import { DatapathError, isAlreadyExists, isNotFound, isUnsupported } from '../../agents/datapath/errors.js';

export interface DatapathWorld {
  factory: DatapathFactory;
  /** The namespace playing the agent's host. On a real kernel: a throwaway namespace, never the root one. */
  host: NetnsHandle;
  /** Prefix for namespace names, unique per run (e.g. `wt<pid>-`). */
  prefix: string;
}

export interface DatapathContractSetup {
  /** A fresh world before each test. */
  setUp(): Promise<DatapathWorld>;
  /** Remove what setUp made; runs after every test, also a failed one. */
  tearDown(world: DatapathWorld): Promise<void>;
}

/** Poll until `check` passes: namespace teardown in the kernel is asynchronous. */
export async function eventually(check: () => Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function caught(p: Promise<unknown>): Promise<DatapathError> {
  try {
    await p;
  } catch (err: unknown) {
    if (err instanceof DatapathError) return err;
    throw err;
  }
  throw new Error('expected a DatapathError, the call succeeded');
}

export function runDatapathContract(name: string, setup: DatapathContractSetup): void {
  describe(`${name}: datapath contract`, () => {
    let w: DatapathWorld;
    let opened: NetnsHandle[] = [];
    let created: string[] = [];

    beforeEach(async () => {
      w = await setup.setUp();
    });

    afterEach(async () => {
      // Handles first: an open socket keeps its namespace (and its links) alive.
      for (const h of opened) h.close();
      for (const n of created) await w.factory.deleteNamedNetns(n);
      opened = [];
      created = [];
      await setup.tearDown(w);
    });

    async function netns(suffix: string): Promise<string> {
      const nsName = `${w.prefix}${suffix}`;
      created.push(nsName);
      return w.factory.createNamedNetns(nsName);
    }

    async function at(path: string): Promise<NetnsHandle> {
      const h = await w.factory.at(path);
      opened.push(h);
      return h;
    }

    async function bridge(nameSuffix = '1'): Promise<LinkInfo> {
      return w.host.addBridge({ name: `wb-t${nameSuffix}`, mtu: 1450, alias: `weft:net:t${nameSuffix}` });
    }

    /** A workload namespace with a veth whose peer is eth0 there, host side on `master`. */
    async function workload(suffix: string, master?: number): Promise<{ path: string; ns: NetnsHandle; host: LinkInfo; eth0: LinkInfo }> {
      const path = await netns(suffix);
      const host = await w.host.addVeth({
        name: `wv-t${suffix}`,
        mtu: 1450,
        ...(master === undefined ? {} : { master }),
        up: true,
        peer: { name: 'eth0', netns: path, up: true },
      });
      const ns = await at(path);
      const eth0 = await ns.getLink('eth0');
      if (!eth0) throw new Error('peer eth0 missing');
      return { path, ns, host, eth0 };
    }

    describe('named namespaces', () => {
      it('createNamedNetns returns /run/netns/NAME and listNamedNetns lists the name', async () => {
        const path = await netns('a');
        expect(path).toBe(`/run/netns/${w.prefix}a`);
        expect(await w.factory.listNamedNetns()).toContain(`${w.prefix}a`);
      });

      it('createNamedNetns fails with isAlreadyExists when the name is taken', async () => {
        await netns('a');
        const err = await caught(w.factory.createNamedNetns(`${w.prefix}a`));
        expect(isAlreadyExists(err)).toBe(true);
        expect(err.message).toBe(`create netns "${w.prefix}a": EEXIST`);
      });

      it('deleteNamedNetns removes the name and tolerates a missing one', async () => {
        await netns('a');
        await w.factory.deleteNamedNetns(`${w.prefix}a`);
        expect(await w.factory.listNamedNetns()).not.toContain(`${w.prefix}a`);
        await expect(w.factory.deleteNamedNetns(`${w.prefix}a`)).resolves.toBeUndefined();
      });

      it('at() fails with isNotFound for a namespace that does not exist', async () => {
        const err = await caught(w.factory.at(`/run/netns/${w.prefix}missing`));
        expect(isNotFound(err)).toBe(true);
        expect(err.errno).toBe('ENOENT');
      });

      it('a new namespace has a loopback device that is down and has no kind', async () => {
        const ns = await at(await netns('a'));
        expect(ns.ns).toBe(`/run/netns/${w.prefix}a`);
        expect(await ns.getLink('lo')).toEqual({ index: 1, name: 'lo', up: false, mtu: 65536, mac: '00:00:00:00:00:00' });
      });

      it('host() returns the same shared handle every time', () => {
        expect(w.factory.host()).toBe(w.factory.host());
        expect(w.factory.host().ns).toBe('host');
      });
    });

    describe('links', () => {
      it('addBridge creates a down bridge that reads back with its name, kind, MTU, MAC and alias', async () => {
        const created = await w.host.addBridge({ name: 'wb-t1', mtu: 1450, alias: 'weft:net:t1', mac: '02:42:ac:11:00:01' });
        const read = await w.host.getLink('wb-t1');
        expect(read).toEqual({ index: created.index, name: 'wb-t1', kind: 'bridge', up: false, mtu: 1450, mac: '02:42:ac:11:00:01', alias: 'weft:net:t1' });
        expect(created).toEqual(read);
        expect(await w.host.listLinks()).toContainEqual(read);
      });

      it('concurrent listings on one handle all succeed (one dump at a time per socket)', async () => {
        const br = await bridge();
        await w.host.addrAdd(br.index, '198.18.90.1', 24);
        const [links, addrs, routes, again] = await Promise.all([w.host.listLinks(), w.host.listAddrs(), w.host.listRoutes(4), w.host.listLinks()]);
        expect(links.map((l) => l.name)).toContain('wb-t1');
        expect(again).toEqual(links);
        expect(addrs.map((a) => a.address)).toContain('198.18.90.1');
        expect(Array.isArray(routes)).toBe(true);
      });

      it('addBridge fails with isAlreadyExists and says what it was doing when the name is taken', async () => {
        await bridge();
        const err = await caught(bridge());
        expect(isAlreadyExists(err)).toBe(true);
        expect(err).toMatchObject({ op: 'create', object: 'bridge "wb-t1"', errno: 'EEXIST' });
        expect(err.message).toBe('create bridge "wb-t1": EEXIST');
      });

      it('a 16-byte link name fails with ERANGE and creates nothing', async () => {
        const err = await caught(w.host.addBridge({ name: 'wb-0123456789abc', mtu: 1500, alias: 'x' }));
        expect(err.errno).toBe('ERANGE');
        expect((await w.host.listLinks()).map((l) => l.name)).not.toContain('wb-0123456789abc');
      });

      it('getLink returns undefined for a missing link', async () => {
        expect(await w.host.getLink('wb-none')).toBeUndefined();
      });

      it('setLinkUp, setLinkMtu and setLinkAlias change what getLink reads back', async () => {
        const br = await bridge();
        await w.host.setLinkUp(br.index);
        await w.host.setLinkMtu(br.index, 1400);
        await w.host.setLinkAlias(br.index, 'weft:net:renamed');
        expect(await w.host.getLink('wb-t1')).toMatchObject({ up: true, mtu: 1400, alias: 'weft:net:renamed' });
      });

      it('set* on a missing link fails with isNotFound (ENODEV)', async () => {
        const err = await caught(w.host.setLinkUp(9999));
        expect(isNotFound(err)).toBe(true);
        expect(err.errno).toBe('ENODEV');
      });

      it('removeLink deletes a link and then tolerates its absence', async () => {
        const br = await bridge();
        await w.host.removeLink(br.index);
        expect(await w.host.getLink('wb-t1')).toBeUndefined();
        await expect(w.host.removeLink(br.index)).resolves.toBeUndefined();
      });

      it('removeLink refuses to delete loopback as unsupported', async () => {
        const ns = await at(await netns('a'));
        const err = await caught(ns.removeLink(1));
        expect(isUnsupported(err)).toBe(true);
        expect(err.errno).toBe('EOPNOTSUPP');
      });
    });

    describe('veth pairs', () => {
      it('addVeth puts the host side here, enslaved and up, and the peer in the target namespace with its name, MTU and MAC', async () => {
        const br = await bridge();
        const path = await netns('a');
        const host = await w.host.addVeth({
          name: 'wv-ta',
          mtu: 1450,
          master: br.index,
          up: true,
          peer: { name: 'eth0', netns: path, mac: '02:42:64:40:00:02', up: true },
        });
        expect(host).toMatchObject({ name: 'wv-ta', kind: 'veth', master: br.index, up: true, mtu: 1450 });
        expect(await w.host.getLink('wv-ta')).toEqual(host);
        const ns = await at(path);
        const eth0 = await ns.getLink('eth0');
        expect(eth0).toEqual({ index: host.peerIndex, name: 'eth0', kind: 'veth', up: true, mtu: 1450, mac: '02:42:64:40:00:02', peerIndex: host.index });
      });

      it('addVeth with peer.up false leaves the peer down', async () => {
        const path = await netns('a');
        await w.host.addVeth({ name: 'wv-ta', mtu: 1500, up: false, peer: { name: 'eth0', netns: path, up: false } });
        const ns = await at(path);
        expect(await ns.getLink('eth0')).toMatchObject({ up: false });
        expect(await w.host.getLink('wv-ta')).toMatchObject({ up: false });
      });

      it('addVeth fails with isNotFound when the target namespace does not exist, and creates nothing', async () => {
        const err = await caught(
          w.host.addVeth({ name: 'wv-ta', mtu: 1500, up: true, peer: { name: 'eth0', netns: `/run/netns/${w.prefix}missing`, up: true } }),
        );
        expect(isNotFound(err)).toBe(true);
        expect(err.message).toBe('create veth "wv-ta": ENOENT');
        expect(await w.host.getLink('wv-ta')).toBeUndefined();
      });

      it('addVeth fails with isAlreadyExists when the peer name is taken in the target namespace, and creates nothing', async () => {
        const { path } = await workload('a');
        const err = await caught(w.host.addVeth({ name: 'wv-tb', mtu: 1500, up: true, peer: { name: 'eth0', netns: path, up: true } }));
        expect(isAlreadyExists(err)).toBe(true);
        expect(await w.host.getLink('wv-tb')).toBeUndefined();
      });

      it('addVeth with a master that is not a bridge fails as unsupported, and creates neither end', async () => {
        const a = await workload('a');
        const pathB = await netns('b');
        const err = await caught(
          w.host.addVeth({ name: 'wv-tb', mtu: 1500, master: a.host.index, up: true, peer: { name: 'eth0', netns: pathB, up: true } }),
        );
        expect(isUnsupported(err)).toBe(true);
        expect(await w.host.getLink('wv-tb')).toBeUndefined();
        expect(await (await at(pathB)).getLink('eth0')).toBeUndefined();
      });

      it('addVeth with a bad MTU fails with EINVAL', async () => {
        const path = await netns('a');
        const err = await caught(w.host.addVeth({ name: 'wv-ta', mtu: 20, up: true, peer: { name: 'eth0', netns: path, up: true } }));
        expect(err.errno).toBe('EINVAL');
      });

      it('removing the host side removes the peer in the other namespace', async () => {
        const a = await workload('a');
        await w.host.removeLink(a.host.index);
        expect(await a.ns.getLink('eth0')).toBeUndefined();
      });

      it('removing the peer removes the host side', async () => {
        const a = await workload('a');
        await a.ns.removeLink(a.eth0.index);
        expect(await w.host.getLink(a.host.name)).toBeUndefined();
      });

      it('deleting the target namespace removes the host side', async () => {
        const a = await workload('a');
        a.ns.close();
        await w.factory.deleteNamedNetns(`${w.prefix}a`);
        await eventually(async () => expect(await w.host.getLink(a.host.name)).toBeUndefined());
      });

      it('setLinkMaster enslaves a link to a bridge and master 0 releases it', async () => {
        const br = await bridge();
        const a = await workload('a');
        await w.host.setLinkMaster(a.host.index, br.index);
        expect((await w.host.getLink(a.host.name))?.master).toBe(br.index);
        await w.host.setLinkMaster(a.host.index, 0);
        expect((await w.host.getLink(a.host.name))?.master).toBeUndefined();
      });

      it('removing a bridge releases its ports', async () => {
        const br = await bridge();
        const a = await workload('a', br.index);
        await w.host.removeLink(br.index);
        const port = await w.host.getLink(a.host.name);
        expect(port).toBeDefined();
        expect(port?.master).toBeUndefined();
      });
    });

    describe('addresses', () => {
      it('addrAdd adds an IPv4 address that listAddrs reads back, and adding it again is a no-op', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        const v4 = (await a.ns.listAddrs(a.eth0.index)).filter((x) => x.family === 4);
        expect(v4).toEqual([{ index: a.eth0.index, address: '100.64.0.2', prefixLength: 24, family: 4 }]);
      });

      it('addrAdd adds an IPv6 address, read back in canonical form', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, 'fd00:0:0:0::2', 64);
        expect(await a.ns.listAddrs(a.eth0.index)).toContainEqual({ index: a.eth0.index, address: 'fd00::2', prefixLength: 64, family: 6 });
      });

      it('addrAdd on a missing link fails with isNotFound', async () => {
        const err = await caught(w.host.addrAdd(9999, '100.64.0.2', 24));
        expect(isNotFound(err)).toBe(true);
        expect(err.message).toBe('add address 100.64.0.2/24 on link 9999: ENODEV');
      });

      it('addrAdd with a malformed address fails with EINVAL', async () => {
        const a = await workload('a');
        const err = await caught(a.ns.addrAdd(a.eth0.index, '100.64.0.300', 24));
        expect(err.errno).toBe('EINVAL');
      });

      it('addrDel removes an address and tolerates its absence', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        await a.ns.addrDel(a.eth0.index, '100.64.0.2', 24);
        expect((await a.ns.listAddrs(a.eth0.index)).filter((x) => x.family === 4)).toEqual([]);
        await expect(a.ns.addrDel(a.eth0.index, '100.64.0.2', 24)).resolves.toBeUndefined();
      });

      it('addresses belong to their namespace', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        expect((await w.host.listAddrs()).map((x) => x.address)).not.toContain('100.64.0.2');
      });

      it('bringing loopback up gives it 127.0.0.1/8', async () => {
        const ns = await at(await netns('a'));
        await ns.setLinkUp(1);
        expect(await ns.listAddrs(1)).toContainEqual({ index: 1, address: '127.0.0.1', prefixLength: 8, family: 4 });
      });
    });

    describe('routes', () => {
      it('an address on an up link brings its connected route', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        expect(await a.ns.listRoutes(4)).toEqual([{ dst: '100.64.0.0/24', family: 4, oif: a.eth0.index }]);
      });

      it('routeReplace adds a default route via a gateway, and replacing it keeps one default route', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        await a.ns.routeReplace({ dst: 'default', gateway: '100.64.0.1', family: 4 });
        expect(await a.ns.listRoutes(4)).toContainEqual({ dst: 'default', gateway: '100.64.0.1', oif: a.eth0.index, family: 4 });
        await a.ns.routeReplace({ dst: 'default', gateway: '100.64.0.254', oif: a.eth0.index, family: 4 });
        const defaults = (await a.ns.listRoutes(4)).filter((r) => r.dst === 'default');
        expect(defaults).toEqual([{ dst: 'default', gateway: '100.64.0.254', oif: a.eth0.index, family: 4 }]);
      });

      it('routeReplace adds a prefix route through a device', async () => {
        const a = await workload('a');
        await a.ns.routeReplace({ dst: '198.18.5.0/24', oif: a.eth0.index, family: 4 });
        expect(await a.ns.listRoutes(4)).toContainEqual({ dst: '198.18.5.0/24', oif: a.eth0.index, family: 4 });
      });

      it('routeReplace via an unreachable gateway fails with ENETUNREACH', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        const err = await caught(a.ns.routeReplace({ dst: 'default', gateway: '100.99.0.1', family: 4 }));
        expect(err.errno).toBe('ENETUNREACH');
      });

      it('removing a link removes its addresses and routes', async () => {
        const a = await workload('a');
        await a.ns.addrAdd(a.eth0.index, '100.64.0.2', 24);
        await a.ns.routeReplace({ dst: 'default', gateway: '100.64.0.1', family: 4 });
        await a.ns.removeLink(a.eth0.index);
        expect((await a.ns.listAddrs()).filter((x) => x.index === a.eth0.index)).toEqual([]);
        expect(await a.ns.listRoutes(4)).toEqual([]);
      });
    });
  });
}
