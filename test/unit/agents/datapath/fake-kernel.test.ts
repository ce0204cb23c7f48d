// FakeKernel against the datapath contract (the same suite the real kernel
// passes), plus what only the fake has: failure injection and the call log.
import { FakeKernel } from '../../../../agents/datapath/fake-kernel.js';
import { DatapathError } from '../../../../agents/datapath/errors.js';
import { runDatapathContract } from '../../../contract/datapath-contract.js';

runDatapathContract('FakeKernel', {
  setUp: async () => {
    const factory = new FakeKernel();
    return { factory, host: factory.host(), prefix: 'wt-' };
  },
  tearDown: async () => {},
});

describe('FakeKernel extras', () => {
  it('failNext makes the next matching call fail with the given errno and the real verb, once', async () => {
    const k = new FakeKernel();
    k.failNext('addBridge', 'ENOBUFS');
    const first = k.host().addBridge({ name: 'wb-1', mtu: 1500, alias: 'a' });
    await expect(first).rejects.toThrow(new DatapathError('create', 'bridge "wb-1"', 'ENOBUFS'));
    await expect(k.host().addBridge({ name: 'wb-1', mtu: 1500, alias: 'a' })).resolves.toMatchObject({ name: 'wb-1' });
  });

  it('failNext scoped to a namespace leaves other namespaces alone', async () => {
    const k = new FakeKernel();
    const path = await k.createNamedNetns('w');
    const ns = await k.at(path);
    k.failNext('setLinkUp', 'EIO', path);
    await expect(k.host().setLinkUp(1)).resolves.toBeUndefined();
    await expect(ns.setLinkUp(1)).rejects.toMatchObject({ errno: 'EIO', op: 'set up', object: 'link 1' });
  });

  it('a failed call changes nothing', async () => {
    const k = new FakeKernel();
    const path = await k.createNamedNetns('w');
    k.failNext('addVeth');
    await expect(k.host().addVeth({ name: 'wv-1', mtu: 1500, up: true, peer: { name: 'eth0', netns: path, up: true } })).rejects.toBeInstanceOf(DatapathError);
    expect(await k.host().getLink('wv-1')).toBeUndefined();
    expect(await (await k.at(path)).getLink('eth0')).toBeUndefined();
  });

  it('records every call with its namespace, in order', async () => {
    const k = new FakeKernel();
    const path = await k.createNamedNetns('w');
    const ns = await k.at(path);
    await ns.setLinkUp(1);
    expect(k.calls.map((c) => [c.ns, c.op])).toEqual([
      ['host', 'createNamedNetns'],
      [path, 'at'],
      [path, 'setLinkUp'],
    ]);
  });

  it('a namespace outlives its name while a handle holds it, like a socket reference', async () => {
    const k = new FakeKernel();
    const path = await k.createNamedNetns('w');
    await k.host().addVeth({ name: 'wv-1', mtu: 1500, up: true, peer: { name: 'eth0', netns: path, up: true } });
    const ns = await k.at(path);
    await k.deleteNamedNetns('w');
    expect(await k.host().getLink('wv-1')).toBeDefined();
    expect(await ns.getLink('eth0')).toBeDefined();
    ns.close();
    expect(await k.host().getLink('wv-1')).toBeUndefined();
  });

  it('addNetns/removeNetns model a container namespace reachable by /proc path only', async () => {
    const k = new FakeKernel();
    k.addNetns('/proc/4242/ns/net');
    const h = await k.host().addVeth({ name: 'wv-1', mtu: 1500, up: true, peer: { name: 'eth0', netns: '/proc/4242/ns/net', up: true } });
    expect(h.peerIndex).toBe(2);
    expect(await k.listNamedNetns()).toEqual([]);
    k.removeNetns('/proc/4242/ns/net');
    expect(await k.host().getLink('wv-1')).toBeUndefined();
  });

  it('a closed handle refuses calls with EBADF', async () => {
    const k = new FakeKernel();
    const ns = await k.at(await k.createNamedNetns('w'));
    ns.close();
    await expect(ns.listLinks()).rejects.toMatchObject({ errno: 'EBADF' });
  });

  it('setBridgePortNeighSuppress rejects as unsupported by default, like the test machines, even on a bridge port', async () => {
    const k = new FakeKernel();
    const br = await k.host().addBridge({ name: 'wb-1', mtu: 1450, alias: 'a' });
    const vx = await k.host().addVxlan({ name: 'wx-1', vni: 1, local: '198.18.0.11', port: 4789, mtu: 1450, learning: false, proxy: true });
    await k.host().setLinkMaster(vx.index, br.index);
    await expect(k.host().setBridgePortNeighSuppress(vx.index, true)).rejects.toMatchObject({
      message: `set neigh_suppress link ${vx.index}: EOPNOTSUPP`,
      isUnsupported: true,
    });
  });

  it('setBridgePortNeighSuppress is accepted on a bridge port when the option allows it, and still refused elsewhere', async () => {
    const k = new FakeKernel({ bridgePortNeighSuppress: true });
    const br = await k.host().addBridge({ name: 'wb-1', mtu: 1450, alias: 'a' });
    const vx = await k.host().addVxlan({ name: 'wx-1', vni: 1, local: '198.18.0.11', port: 4789, mtu: 1450, learning: false, proxy: true });
    await expect(k.host().setBridgePortNeighSuppress(vx.index, true)).rejects.toMatchObject({ errno: 'EOPNOTSUPP' });
    await k.host().setLinkMaster(vx.index, br.index);
    await expect(k.host().setBridgePortNeighSuppress(vx.index, true)).resolves.toBeUndefined();
  });

  it('failNext reaches the overlay verbs, with their real verbs in the error', async () => {
    const k = new FakeKernel();
    const vx = await k.host().addVxlan({ name: 'wx-1', vni: 1, local: '198.18.0.11', port: 4789, mtu: 1450, learning: false, proxy: true });
    const entry = { index: vx.index, mac: '02:42:64:40:00:03', dst: '198.18.0.12', permanent: true };
    k.failNext('fdbAppend', 'ENOBUFS');
    await expect(k.host().fdbAppend(entry)).rejects.toThrow(new DatapathError('append', `fdb 02:42:64:40:00:03 dst 198.18.0.12 on link ${vx.index}`, 'ENOBUFS'));
    expect(await k.host().listFdb(vx.index)).toEqual([]);
    k.failNext('neighReplace', 'EIO');
    await expect(k.host().neighReplace({ index: vx.index, ip: '100.64.0.3', mac: entry.mac, permanent: true })).rejects.toMatchObject({
      op: 'replace',
      object: `neighbour 100.64.0.3 on link ${vx.index}`,
    });
  });
});
