import { jest } from '@jest/globals';
import type { AttachParams } from '../../../../model/agent-rpc.js';
import { WeftError } from '../../../../model/errors.js';
import { bridgeAlias, endpointAlias, hostVethName } from '../../../../model/kernel-names.js';
import type { FakeOp } from '../support/test-kernel.js';
import { makeHarness, testPlan, type Harness } from '../support/harness.js';

async function failure(p: Promise<unknown>): Promise<WeftError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof WeftError) return e;
    throw new Error(`expected a WeftError, got ${String(e)}`);
  }
  throw new Error('expected a failure');
}


describe('EndpointService.attach', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('creates bridge, veth pair, address, route and record, and reports endpointUp', async () => {
    h = makeHarness();
    const netns = await h.netns('c1');
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, labels: { app: 'web' } });
    expect(r).toMatchObject({
      endpoint: 'c1.eth0', network: 'blue', containerId: 'c1', ifname: 'eth0', hostIfname: hostVethName('c1', 'eth0'),
      address: '100.64.0.2/24', ip: '100.64.0.2', prefixLength: 24, gateway: '100.64.0.1', mtu: 1450, existing: false,
    });
    expect(r.mac).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/); // locally administered unicast

    const bridge = await h.dp.link('host', 'wb-000010');
    expect(bridge).toMatchObject({ kind: 'bridge', alias: bridgeAlias('blue'), mtu: 1450, up: true });
    expect(await h.dp.addrsOf('host', 'wb-000010')).toEqual([expect.objectContaining({ address: '100.64.0.1', prefixLength: 24 })]);
    const veth = await h.dp.link('host', r.hostIfname);
    expect(veth).toMatchObject({ kind: 'veth', alias: endpointAlias('c1.eth0'), master: bridge?.index, up: true, mtu: 1450 });
    expect(await h.dp.link(netns, 'eth0')).toMatchObject({ up: true, mac: r.mac, mtu: 1450 });
    expect((await h.dp.link(netns, 'lo'))?.up).toBe(true);
    expect(await h.dp.addrsOf(netns, 'eth0')).toEqual([expect.objectContaining({ address: '100.64.0.2', prefixLength: 24 })]);
    expect(await h.dp.routes(netns)).toEqual([expect.objectContaining({ dst: 'default', gateway: '100.64.0.1' })]);
    expect(h.store.get('c1.eth0')).toMatchObject({ state: 'attached', ip: '100.64.0.2', labels: { app: 'web' } });
    await new Promise((r) => setImmediate(r)); // reported right after the answer: no other host to wait for
    expect(h.uplink.ofType('endpointUp')).toEqual([{ type: 'endpointUp', endpoint: expect.objectContaining({ name: 'c1.eth0' }) }]);
    expect(h.dp.openHandles).toBe(0);
  });

  test('on a dual-stack network: the IPv6 address at the IPv4 offset and a route via gateway6 inside, gateway6 on the bridge, both in record, result and report', async () => {
    const plan = testPlan();
    const blue = { ...plan.networks[0]!, subnet6: 'fd00:10::/64', gateway6: 'fd00:10::1' };
    h = makeHarness({ plan: { ...plan, networks: [blue] } });
    const netns = await h.netns('c1');
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    expect(r).toMatchObject({ address: '100.64.0.2/24', address6: 'fd00:10::2/64', ip6: 'fd00:10::2', prefixLength6: 64, gateway6: 'fd00:10::1' });
    expect(await h.dp.addrsOf(netns, 'eth0')).toEqual([expect.objectContaining({ address: '100.64.0.2', prefixLength: 24 })]);
    expect(await h.dp.addrsOf(netns, 'eth0', 6)).toEqual([expect.objectContaining({ address: 'fd00:10::2', prefixLength: 64 })]);
    expect(await h.dp.routes(netns)).toEqual([expect.objectContaining({ dst: 'default', gateway: '100.64.0.1' })]);
    expect(await h.dp.routes(netns, 6)).toEqual([expect.objectContaining({ dst: 'default', gateway: 'fd00:10::1' })]);
    expect(await h.dp.addrsOf('host', 'wb-000010', 6)).toEqual([expect.objectContaining({ address: 'fd00:10::1', prefixLength: 64 })]);
    expect(h.store.get('c1.eth0')).toMatchObject({ ip: '100.64.0.2', ip6: 'fd00:10::2', prefixLength6: 64, gateway6: 'fd00:10::1' });
    await new Promise((res) => setImmediate(res));
    expect(h.uplink.ofType('endpointUp')).toEqual([{ type: 'endpointUp', endpoint: expect.objectContaining({ ip: '100.64.0.2', ip6: 'fd00:10::2' }) }]);
    // a repeated attach answers the same, from the record
    expect(await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns })).toMatchObject({ address6: 'fd00:10::2/64', gateway6: 'fd00:10::1', existing: true });
  });

  test('on an IPv4-only network nothing IPv6 is made or reported', async () => {
    h = makeHarness();
    const netns = await h.netns('c1');
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    expect(r.address6).toBeUndefined();
    expect(await h.dp.addrsOf(netns, 'eth0', 6)).toEqual([]);
    expect(await h.dp.routes(netns, 6)).toEqual([]);
    expect(await h.dp.addrsOf('host', 'wb-000010', 6)).toEqual([]);
    expect(h.store.get('c1.eth0')?.ip6).toBeUndefined();
  });

  describe('when another host shares a network with this one (the plan floods to a VTEP)', () => {
    const shared = () => testPlan({ flood: [{ network: 'blue', host: 'h2', vtep: '198.18.0.12' }] });

    test('the attach returns only once the controller confirms other hosts applied the endpoint', async () => {
      h = makeHarness({ plan: shared() });
      let confirm: (v: { late: string[] }) => void = () => {};
      h.uplink.announceAnswer = () => new Promise((resolve) => (confirm = resolve));
      const netns = await h.netns('c1');
      let returned = false;
      const attach = h.endpoints.attach({ network: 'blue', containerId: 'c1', netns }).then((r) => {
        returned = true;
        return r;
      });
      // announced (with a requestId: the controller answers it), not yet confirmed
      while (h.uplink.ofType('endpointUp').length === 0) await new Promise((r) => setTimeout(r, 1));
      expect(h.uplink.ofType('endpointUp')).toEqual([expect.objectContaining({ endpoint: expect.objectContaining({ name: 'c1.eth0' }), requestId: expect.any(String) })]);
      await new Promise((r) => setTimeout(r, 20));
      expect(returned).toBe(false);
      confirm({ late: [] });
      expect(await attach).toMatchObject({ endpoint: 'c1.eth0', existing: false });
      expect(h.uplink.ofType('endpointUp')).toHaveLength(1); // not reported twice
    });

    test('a controller that refuses or does not answer does not fail the attach', async () => {
      h = makeHarness({ plan: shared() });
      h.uplink.announceAnswer = () => Promise.reject(new WeftError('NotReady', 'timed out'));
      const netns = await h.netns('c1');
      expect(await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns })).toMatchObject({ endpoint: 'c1.eth0', existing: false });
      expect(h.store.get('c1.eth0')?.state).toBe('attached');
    });

    test('while disconnected the report is queued as before, and the attach does not wait', async () => {
      h = makeHarness({ plan: shared() });
      h.uplink.connected = false;
      h.uplink.announceAnswer = () => new Promise(() => {}); // would hang
      const netns = await h.netns('c1');
      expect(await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns })).toMatchObject({ endpoint: 'c1.eth0' });
      await new Promise((r) => setImmediate(r));
      expect(h.uplink.ofType('endpointUp')).toEqual([expect.not.objectContaining({ requestId: expect.anything() })]);
    });
  });

  test('honours a requested ifname, ip and mac', async () => {
    h = makeHarness();
    const netns = await h.netns();
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ifname: 'net1', ip: '100.64.0.40', mac: '02:AA:bb:cc:dd:ee' });
    expect(r).toMatchObject({ ifname: 'net1', ip: '100.64.0.40', mac: '02:aa:bb:cc:dd:ee' });
    expect((await h.dp.link(netns, 'net1'))?.mac).toBe('02:aa:bb:cc:dd:ee');
  });

  test.each<[string, Record<string, unknown>, string, string]>([
    ['unknown field', { extra: 1 }, 'Invalid', '/extra'],
    ['relative netns', { netns: 'run/netns/x' }, 'Invalid', '/netns'],
    ['16-byte ifname', { ifname: 'abcdefghijklmnop' }, 'Invalid', '/ifname'],
    ['ifname with a slash', { ifname: 'a/b' }, 'Invalid', '/ifname'],
    ['bad container ID', { containerId: '-x' }, 'Invalid', '/containerId'],
    ['IPv6 ip', { ip: 'fd00::5' }, 'Invalid', '/ip'],
    ['multicast mac', { mac: '01:00:5e:00:00:01' }, 'Invalid', '/mac'],
    ['labels not an object', { labels: ['a'] }, 'Invalid', '/labels'],
    ['label value not a string', { labels: { a: 1 } }, 'Invalid', '/labels/a'],
    ['network missing', { network: undefined }, 'Invalid', '/network'],
    ['unknown network', { network: 'red' }, 'NotFound', '/network'],
    ['namespace that does not exist', { netns: '/run/netns/nope' }, 'Invalid', '/netns'],
  ])('refuses %s', async (_what, patch, code, field) => {
    h = makeHarness();
    const params = { network: 'blue', containerId: 'c1', netns: await h.netns(), ...patch } as unknown as AttachParams;
    const e = await failure(h.endpoints.attach(params));
    expect(e.code).toBe(code);
    expect(e.field).toBe(field);
    expect(await h.dp.weftLinks('wv-')).toEqual([]);
  });

  test('without any plan: NotReady (retriable)', async () => {
    h = makeHarness({ plan: null });
    const e = await failure(h.endpoints.attach({ network: 'blue', containerId: 'c1', netns: await h.netns() }));
    expect(e.code).toBe('NotReady');
    expect(e.retriable).toBe(true);
  });

  test('an interface name already used inside the namespace: Conflict, nothing made', async () => {
    h = makeHarness();
    const netns = await h.netns();
    await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    const e = await failure(h.endpoints.attach({ network: 'blue', containerId: 'c2', netns }));
    expect(e.code).toBe('Conflict');
    expect(e.field).toBe('/ifname');
    expect(await h.dp.link('host', hostVethName('c2', 'eth0'))).toBeUndefined();
  });

  test('a half-made pair with our host veth name (no record) is replaced, even though its peer holds the ifname', async () => {
    h = makeHarness();
    const netns = await h.netns();
    await h.dp.host().addVeth({ name: hostVethName('c1', 'eth0'), mtu: 1450, up: true, peer: { name: 'eth0', netns, up: true } });
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    expect(r.existing).toBe(false);
    expect((await h.dp.link('host', r.hostIfname))?.alias).toBe(endpointAlias('c1.eth0'));
    expect((await h.dp.links(netns)).map((l) => l.name).sort()).toEqual(['eth0', 'lo']);
  });

  describe('rolls back a failure at every step', () => {
    const steps: [FakeOp, 'host' | 'ws', number][] = [
      ['getLink', 'host', 0], // bridge read
      ['addBridge', 'host', 0],
      ['listAddrs', 'host', 0],
      ['addrAdd', 'host', 0], // gateway on the bridge
      ['setLinkUp', 'host', 0], // bridge up
      ['at', 'ws', 0],
      ['addVeth', 'host', 0],
      ['setLinkAlias', 'host', 0], // host veth alias (the fake keeps a bridge's alias from create)
      ['setLinkUp', 'ws', 0], // lo up
      ['setLinkUp', 'ws', 1], // peer up
      ['addrAdd', 'ws', 0],
      ['routeReplace', 'ws', 0],
    ];
    test.each(steps)('%s in %s (call %d)', async (op, where, skip) => {
      h = makeHarness();
      const netns = await h.netns();
      h.dp.failOn(op, { ns: where === 'host' ? 'host' : netns, skip });
      const e = await failure(h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.9' }));
      expect(e.code).toBe('Datapath');
      expect(e.retriable).toBe(true);
      expect(e.message).toContain('c1/eth0');
      // nothing left: no host veth, only lo in the namespace, no record, address free, handles closed
      expect(await h.dp.weftLinks('wv-')).toEqual([]);
      expect((await h.dp.links(netns)).map((l) => l.name)).toEqual(['lo']);
      expect(await h.dp.routes(netns)).toEqual([]);
      expect(h.store.list()).toEqual([]);
      expect(h.dp.openHandles).toBe(0);
      expect(h.uplink.ofType('endpointUp')).toEqual([]);
      // and a retry succeeds with the same address
      const ok = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.9' });
      expect(ok.ip).toBe('100.64.0.9');
    });

    test('failure to persist the record', async () => {
      h = makeHarness();
      const netns = await h.netns();
      const put = jest.spyOn(h.store, 'put').mockImplementationOnce(() => {
        throw new Error('disk I/O error');
      });
      const e = await failure(h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.9' }));
      expect(e.code).toBe('Datapath');
      expect(e.message).toContain('persist record');
      expect(await h.dp.weftLinks('wv-')).toEqual([]);
      expect((await h.dp.links(netns)).map((l) => l.name)).toEqual(['lo']);
      put.mockRestore();
      expect((await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.9' })).ip).toBe('100.64.0.9');
    });

    test('a static address outside the blocks is reserved at the controller for the container', async () => {
      h = makeHarness();
      const netns = await h.netns();
      const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.201' });
      expect(r.ip).toBe('100.64.0.201');
      // the controller keys reservations by container ID, and checks the endpoint report against it
      expect(h.uplink.staticRequests).toEqual([{ network: 'blue', ip: '100.64.0.201', owner: 'c1' }]);
    });

    test('a static address reserved through the controller is released there on rollback', async () => {
      h = makeHarness();
      const netns = await h.netns();
      h.dp.failOn('addVeth');
      await failure(h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.200' }));
      expect(h.uplink.ofType('releaseStatic')).toEqual([{ type: 'releaseStatic', network: 'blue', ip: '100.64.0.200' }]);
    });
  });

  describe('concurrency', () => {
    test('50 parallel attaches of different containers get distinct addresses', async () => {
      h = makeHarness();
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => h.endpoints.attach({ network: 'blue', containerId: `c${i}`, netns: await h.netns() })),
      );
      expect(new Set(results.map((r) => r.ip)).size).toBe(50);
      expect(new Set(results.map((r) => r.hostIfname)).size).toBe(50);
      expect(h.store.list()).toHaveLength(50);
      expect(await h.dp.weftLinks()).toHaveLength(51); // 50 veths + 1 bridge
    });

    test('parallel attaches of the same container are serialised and idempotent', async () => {
      h = makeHarness();
      const netns = await h.netns();
      const results = await Promise.all(Array.from({ length: 10 }, () => h.endpoints.attach({ network: 'blue', containerId: 'c1', netns })));
      expect(new Set(results.map((r) => r.ip)).size).toBe(1);
      expect(results.filter((r) => !r.existing)).toHaveLength(1);
      expect(await h.dp.weftLinks('wv-')).toHaveLength(1);
    });

    test('re-attach with a different network or ip is a Conflict', async () => {
      h = makeHarness({ plan: testPlan({ networks: [...testPlan().networks, { ...testPlan().networks[0]!, name: 'red', vni: 0x11, bridge: 'wb-000011' }] }) });
      const netns = await h.netns();
      await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
      expect((await failure(h.endpoints.attach({ network: 'red', containerId: 'c1', netns }))).code).toBe('Conflict');
      expect((await failure(h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.50' }))).code).toBe('Conflict');
      const again = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ip: '100.64.0.2' });
      expect(again.existing).toBe(true);
    });
  });
});

describe('EndpointService.detach', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('an unknown container detaches successfully with nothing listed', async () => {
    h = makeHarness();
    expect(await h.endpoints.detach({ containerId: 'nobody' })).toEqual({ detached: [] });
  });

  test('answers before the veth is gone, then deletes it in the background', async () => {
    h = makeHarness();
    h.dp.deleteDelayMs = 300;
    const netns = await h.netns();
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    expect(await h.endpoints.detach({ containerId: 'c1' })).toEqual({ detached: ['c1.eth0'] });
    // answered while the (slow) kernel delete is still under way
    expect(await h.dp.link('host', r.hostIfname)).toBeDefined();
    expect(h.store.get('c1.eth0')?.state).toBe('deleting');
    expect(h.endpoints.list().endpoints).toEqual([]);
    await h.endpoints.drain();
    expect(await h.dp.link('host', r.hostIfname)).toBeUndefined();
    expect((await h.dp.links(netns)).map((l) => l.name)).toEqual(['lo']);
    expect(h.store.get('c1.eth0')).toBeUndefined();
    expect(h.uplink.ofType('endpointDown')).toEqual([{ type: 'endpointDown', name: 'c1.eth0' }]);
    // idempotent
    expect(await h.endpoints.detach({ containerId: 'c1' })).toEqual({ detached: [] });
  });

  test('detaches only the interface or network asked for', async () => {
    h = makeHarness();
    const netns = await h.netns();
    await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ifname: 'eth0' });
    await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns, ifname: 'eth1' });
    expect(await h.endpoints.detach({ containerId: 'c1', ifname: 'eth1' })).toEqual({ detached: ['c1.eth1'] });
    await h.endpoints.drain();
    expect(h.endpoints.list().endpoints.map((e) => e.endpoint)).toEqual(['c1.eth0']);
  });

  test('the address is not reused before the old interface is gone', async () => {
    h = makeHarness({ plan: testPlan({ blocks: [{ network: 'blue', cidr: '100.64.0.0/30' }] }) });
    h.uplink.connected = false;
    h.dp.deleteDelayMs = 40;
    const a = await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await h.endpoints.attach({ network: 'blue', containerId: 'b', netns: await h.netns() });
    await h.endpoints.detach({ containerId: 'a' });
    // dynamic: the only candidate is quarantined
    expect((await failure(h.endpoints.attach({ network: 'blue', containerId: 'c', netns: await h.netns() }))).code).toBe('NotReady');
    // static: waits for the old interface to go, then gets it
    const c = await h.endpoints.attach({ network: 'blue', containerId: 'c', netns: await h.netns(), ip: a.ip });
    expect(c.ip).toBe(a.ip);
    expect(await h.dp.link('host', a.hostIfname)).toBeUndefined();
  });

  test('re-attaching the same container interface waits for the pending delete', async () => {
    h = makeHarness();
    h.dp.deleteDelayMs = 40;
    const netns = await h.netns();
    const first = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    const oldIndex = (await h.dp.link('host', first.hostIfname))?.index;
    await h.endpoints.detach({ containerId: 'c1' });
    const second = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns });
    expect(second.existing).toBe(false);
    expect(second.hostIfname).toBe(first.hostIfname);
    expect((await h.dp.link('host', second.hostIfname))?.index).not.toBe(oldIndex); // a new interface, not the dying one
    expect(h.store.get('c1.eth0')?.state).toBe('attached');
    expect(h.uplink.ofType('endpointDown')).toHaveLength(1);
  });

  test('a delete that keeps failing leaves the record deleting and the address quarantined', async () => {
    h = makeHarness();
    const r = await h.endpoints.attach({ network: 'blue', containerId: 'c1', netns: await h.netns() });
    h.dp.failOn('removeLink', { times: 3 });
    await h.endpoints.detach({ containerId: 'c1' });
    await h.endpoints.drain();
    expect(h.store.get('c1.eth0')?.state).toBe('deleting');
    expect(h.allocator.isQuarantined('blue', r.ip)).toBe(true);
    // the reconciler finishes it
    await h.endpoints.finishDelete('c1.eth0');
    expect(h.store.get('c1.eth0')).toBeUndefined();
    expect(h.allocator.isQuarantined('blue', r.ip)).toBe(false);
  });
});
