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
});
