import { jest } from '@jest/globals';
import { bridgeAlias, endpointAlias } from '../../../../model/kernel-names.js';
import { makeHarness, planNetwork, testPlan, type Harness } from '../support/harness.js';

describe('ReconcileLoop with the network sub-reconciler', () => {
  const open: Harness[] = [];
  const track = (h: Harness) => (open.push(h), h);
  afterEach(() => {
    for (const h of open.splice(0)) h.cleanup();
  });

  test('on restart adopts what matches, sweeps what a crash left, finishes deletes and reports status', async () => {
    const before = track(makeHarness());
    const ns = await Promise.all([1, 2, 3, 4].map((i) => before.netns(`r${i}`)));
    const good = await before.endpoints.attach({ network: 'blue', containerId: 'good', netns: ns[0]! });
    const unaliased = await before.endpoints.attach({ network: 'blue', containerId: 'unaliased', netns: ns[1]! });
    const vanished = await before.endpoints.attach({ network: 'blue', containerId: 'vanished', netns: ns[2]! });
    const deleting = await before.endpoints.attach({ network: 'blue', containerId: 'deleting', netns: ns[3]! });
    const host = before.dp.host();
    const linkOf = async (name: string) => (await host.getLink(name))!;
    // crash leftovers:
    const half = await before.netns('half');
    await host.addVeth({ name: 'wv-deadbeef', mtu: 1450, up: true, peer: { name: 'eth0', netns: half, up: true } }); // no alias, no record
    await host.setLinkAlias((await linkOf(unaliased.hostIfname)).index, ''); // alias never set
    await host.removeLink((await linkOf(vanished.hostIfname)).index); // someone deleted it
    before.store.setState(deleting.endpoint, 'deleting'); // detach accepted, then the agent died
    const old = await host.addBridge({ name: 'wb-0000ff', mtu: 1450, alias: bridgeAlias('old') }); // network gone from the plan

    const h = track(before.restart());
    await h.reconciler.reconcile();

    expect(await h.dp.weftLinks()).toEqual([good.hostIfname, unaliased.hostIfname, 'wb-000010'].sort());
    expect((await h.dp.link('host', unaliased.hostIfname))?.alias).toBe(endpointAlias(unaliased.endpoint));
    expect(await h.dp.link('host', old.name)).toBeUndefined();
    expect(h.store.list().map((r) => r.name).sort()).toEqual([good.endpoint, unaliased.endpoint].sort());
    expect(h.uplink.ofType('endpointDown').map((m) => m.name).sort()).toEqual([deleting.endpoint, vanished.endpoint].sort());
    expect(h.uplink.ofType('status').at(-1)).toEqual({ type: 'status', appliedRevision: 1, networks: { blue: { ready: true } } });
    expect(h.plan.appliedRevision).toBe(1);
    expect(h.network.lastPass?.failures).toEqual([]);
    // the dropped endpoints' addresses are free again
    expect(await h.allocator.allocate(planNetwork('blue', 0x10), 'x', vanished.ip)).toEqual({ ip: vanished.ip, remote: false });

    // a second pass has nothing left to do
    await h.reconciler.reconcile();
    expect(h.network.lastPass?.actions).toEqual([]);
  });

  test('repairs a bridge deleted under the agent and puts the veths back on it', async () => {
    const h = track(makeHarness());
    const a = await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    const host = h.dp.host();
    await host.removeLink((await host.getLink('wb-000010'))!.index);
    expect((await h.dp.link('host', a.hostIfname))?.master).toBeUndefined();

    await h.reconciler.reconcile();
    const bridge = await h.dp.link('host', 'wb-000010');
    expect(bridge).toMatchObject({ kind: 'bridge', up: true, alias: bridgeAlias('blue') });
    expect((await h.dp.link('host', a.hostIfname))?.master).toBe(bridge?.index);
    expect(await h.dp.addrsOf('host', 'wb-000010')).toEqual([expect.objectContaining({ address: '100.64.0.1', prefixLength: 24 })]);
    // and attaches keep working against the new bridge
    const b = await h.endpoints.attach({ network: 'blue', containerId: 'b', netns: await h.netns() });
    expect((await h.dp.link('host', b.hostIfname))?.master).toBe(bridge?.index);
  });

  test('a plan change triggers a pass: the bridge of a removed network without ports goes', async () => {
    const red = planNetwork('red', 0x11, '100.64.1.0/24', '100.64.1.1');
    const h = track(makeHarness({ plan: testPlan({ networks: [planNetwork('blue', 0x10), red], blocks: [{ network: 'red', cidr: '100.64.1.0/26' }] }) }));
    const ep = await h.endpoints.attach({ network: 'red', containerId: 'a', netns: await h.netns() });
    h.reconciler.start();
    await h.endpoints.detach({ containerId: 'a' });
    await h.endpoints.drain();
    h.plan.replace(testPlan({ revision: 2 }));
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', ep.hostIfname)).toBeUndefined();
    expect(await h.dp.link('host', 'wb-000011')).toBeUndefined();
    expect(h.uplink.ofType('status').at(-1)).toMatchObject({ appliedRevision: 2 });
    await h.reconciler.stop();
  });

  test('a failing action marks its network not ready and the next pass retries it', async () => {
    const h = track(makeHarness());
    await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    const host = h.dp.host();
    await host.removeLink((await host.getLink('wb-000010'))!.index);
    h.dp.failOn('addBridge', { errno: 'ENOBUFS' });
    await h.reconciler.reconcile();
    const status = h.uplink.ofType('status').at(-1);
    expect(status?.networks.blue?.ready).toBe(false);
    expect(status?.networks.blue?.message).toContain('ENOBUFS');
    await h.reconciler.reconcile();
    expect(h.uplink.ofType('status').at(-1)?.networks.blue).toEqual({ ready: true });
  });

  test('triggers during a pass coalesce into one more pass', async () => {
    const h = track(makeHarness());
    const listLinks = jest.fn();
    const host = h.dp.host();
    const orig = host.listLinks.bind(host);
    host.listLinks = async () => {
      listLinks();
      return orig();
    };
    await Promise.all([h.reconciler.reconcile(), h.reconciler.reconcile(), h.reconciler.reconcile(), h.reconciler.reconcile()]);
    expect(listLinks.mock.calls.length).toBeLessThanOrEqual(2);
  });
});
