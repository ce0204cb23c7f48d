// The overlay end to end through the agent's services on the fake kernel:
// plan -> VXLAN device + FDB + neighbour entries, deltas applied
// incrementally, attach on a new network, restart adoption, VTEP changes.
import { pino } from 'pino';
import { NetworkReconciler } from '../../../../agents/reconcile/network-reconciler.js';
import { ReconcileLoop } from '../../../../agents/reconcile/reconcile-loop.js';
import type { HostPlan, PlanDelta, PlanRemoteEndpoint } from '../../../../model/agent-protocol.js';
import { gatewayMac } from '../../../../model/kernel-names.js';
import { vxlanAlias, vxlanSpec } from '../../../../agents/reconcile/overlay-diff.js';
import type { FakeOp } from '../support/test-kernel.js';
import { TestKernel } from '../support/test-kernel.js';
import { emptyDelta, makeHarness, planNetwork, testPlan, type Harness } from '../support/harness.js';

const blue = planNetwork('blue', 0x10);
const red = planNetwork('red', 0x11, '100.64.1.0/24', '100.64.1.1');
const ZERO = '00:00:00:00:00:00';

const remote = (name: string, ip: string, mac: string, vtep: string, network = 'blue'): PlanRemoteEndpoint => ({
  name, network, ip, mac, host: `h${vtep.split('.')[3]}`, vtep,
});
const b2 = remote('b2', '100.64.0.66', '02:00:00:00:00:b2', '198.18.0.12');
const b3 = remote('b3', '100.64.0.130', '02:00:00:00:00:b3', '198.18.0.13');

function overlayPlan(over: Partial<HostPlan> = {}): HostPlan {
  return testPlan({
    networks: [blue, red],
    blocks: [{ network: 'blue', cidr: '100.64.0.0/26' }, { network: 'red', cidr: '100.64.1.0/26' }],
    flood: [{ network: 'blue', host: 'h12', vtep: '198.18.0.12' }, { network: 'blue', host: 'h13', vtep: '198.18.0.13' }],
    remoteEndpoints: [b2, b3, remote('r2', '100.64.1.66', '02:00:00:00:01:b2', '198.18.0.12', 'red')],
    ...over,
  });
}

const delta = (over: Partial<PlanDelta>): PlanDelta => ({ ...emptyDelta(), ...over });

/** Calls of these ops the agent made after `from` (an index into kernel.calls). */
function callsSince(k: TestKernel, from: number, ...op: FakeOp[]) {
  return k.calls.slice(from).filter((c) => op.includes(c.op));
}

describe('overlay on the fake kernel', () => {
  const open: Harness[] = [];
  const track = (h: Harness) => (open.push(h), h);
  afterEach(async () => {
    for (const h of open.splice(0)) {
      await h.reconciler.stop();
      await h.endpoints.drain();
      h.cleanup();
    }
  });

  async function started(opts: Parameters<typeof makeHarness>[0] = {}): Promise<Harness> {
    const h = track(makeHarness({ plan: overlayPlan(), ...opts }));
    await h.underlay.init();
    h.reconciler.start();
    return h;
  }

  test('builds the VXLAN device, flood and remote entries from the plan, and removes them when withdrawn', async () => {
    const h = await started();
    await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await h.reconciler.reconcile();

    const bridge = await h.dp.link('host', 'wb-000010');
    expect(bridge).toMatchObject({ mac: gatewayMac(0x10), mtu: 1450, up: true });
    const vx = await h.dp.link('host', 'wx-000010');
    const vtep = { address: '127.0.0.1' };
    expect(vx).toMatchObject({ kind: 'vxlan', master: bridge?.index, up: true, mtu: 1450, alias: vxlanAlias('blue', vxlanSpec(blue, vtep)) });
    expect(h.dp.calls.find((c) => c.op === 'addVxlan')?.args[0]).toEqual({
      name: 'wx-000010', vni: 0x10, local: '127.0.0.1', port: 4789, mtu: 1450, learning: false, proxy: true,
    });
    expect(await h.dp.fdbOf('wx-000010')).toEqual([
      `${ZERO} 198.18.0.12`, `${ZERO} 198.18.0.13`, '02:00:00:00:00:b2 198.18.0.12', '02:00:00:00:00:b3 198.18.0.13',
    ]);
    expect(await h.dp.neighOf('wx-000010')).toEqual(['100.64.0.130 02:00:00:00:00:b3', '100.64.0.66 02:00:00:00:00:b2']);
    // red is not carried here: no device, its entries go nowhere
    expect(await h.dp.link('host', 'wx-000011')).toBeUndefined();
    expect(h.uplink.ofType('status').at(-1)?.networks.blue).toEqual({ ready: true });

    // the controller withdraws host .13 (its endpoint and its flood entry)
    expect(h.plan.applyDelta(1, 2, delta({ removeRemoteEndpoints: ['b3'], removeFlood: [{ network: 'blue', host: 'h13', vtep: '198.18.0.13' }] }))).toBe(true);
    await h.reconciler.settle();
    expect(await h.dp.fdbOf('wx-000010')).toEqual([`${ZERO} 198.18.0.12`, '02:00:00:00:00:b2 198.18.0.12']);
    expect(await h.dp.neighOf('wx-000010')).toEqual(['100.64.0.66 02:00:00:00:00:b2']);
    expect(h.plan.appliedRevision).toBe(2);
    expect(h.uplink.ofType('status').at(-1)).toMatchObject({ appliedRevision: 2 });

    // the last endpoint leaves: the device goes with its entries; the bridge stays while the network is in the plan
    await h.endpoints.detach({ containerId: 'a' });
    await h.endpoints.drain();
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', 'wx-000010')).toBeUndefined();
    expect(await h.dp.link('host', 'wb-000010')).toBeDefined();
  });

  test('a delta that only changes overlay entries is applied incrementally: no link listing, no full pass', async () => {
    const h = await started();
    await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await h.reconciler.reconcile();
    const from = h.dp.calls.length;
    const moved = { ...b2, vtep: '198.18.0.13' }; // b2's workload was rescheduled behind .13
    const b4 = remote('b4', '100.64.0.67', '02:00:00:00:00:b4', '198.18.0.12');
    h.plan.applyDelta(1, 2, delta({ upsertRemoteEndpoints: [moved, b4] }));
    await h.reconciler.settle();

    expect(callsSince(h.dp, from, 'listLinks', 'listAddrs', 'addBridge', 'addVxlan')).toEqual([]);
    expect(callsSince(h.dp, from, 'fdbAppend', 'fdbDel', 'neighReplace').map((c) => [c.op, c.args[0]])).toEqual([
      ['fdbDel', expect.objectContaining({ mac: '02:00:00:00:00:b2', dst: '198.18.0.12' })],
      ['fdbAppend', expect.objectContaining({ mac: '02:00:00:00:00:b2', dst: '198.18.0.13', permanent: true })],
      ['fdbAppend', expect.objectContaining({ mac: '02:00:00:00:00:b4', dst: '198.18.0.12', permanent: true })],
      ['neighReplace', expect.objectContaining({ ip: '100.64.0.67', mac: '02:00:00:00:00:b4', permanent: true })],
    ]);
    expect(await h.dp.fdbOf('wx-000010')).toContain('02:00:00:00:00:b2 198.18.0.13');
    expect(h.network.lastOverlaySync).toMatchObject({ revision: 2, failures: [] });

    // entries of a network this host does not carry cost nothing
    const before = h.dp.calls.length;
    h.plan.applyDelta(2, 3, delta({ upsertRemoteEndpoints: [remote('r3', '100.64.1.67', '02:00:00:00:01:b3', '198.18.0.13', 'red')] }));
    await h.reconciler.settle();
    expect(h.dp.calls.slice(before)).toEqual([]);
    expect(h.plan.appliedRevision).toBe(3);
  });

  test('a delta that changes a network still takes a full pass', async () => {
    const h = await started();
    await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await h.reconciler.reconcile();
    const from = h.dp.calls.length;
    h.plan.applyDelta(1, 2, delta({ upsertNetworks: [{ ...blue, mtu: 1400 }] }));
    await h.reconciler.reconcile();
    expect(callsSince(h.dp, from, 'listLinks').length).toBeGreaterThan(0);
    expect(await h.dp.link('host', 'wx-000010')).toMatchObject({ mtu: 1400 });
    expect(await h.dp.link('host', 'wb-000010')).toMatchObject({ mtu: 1400 });
  });

  test('the first attach on a network creates bridge and VXLAN device at once; its entries follow without a full pass', async () => {
    const h = await started();
    await h.reconciler.reconcile();
    const from = h.dp.calls.length;
    await h.endpoints.attach({ network: 'red', containerId: 'r', netns: await h.netns() });
    // the attach itself made both
    const bridge = await h.dp.link('host', 'wb-000011');
    expect(await h.dp.link('host', 'wx-000011')).toMatchObject({ kind: 'vxlan', master: bridge?.index, up: true });
    await h.reconciler.settle();
    expect(await h.dp.fdbOf('wx-000011')).toEqual(['02:00:00:00:01:b2 198.18.0.12']);
    expect(await h.dp.neighOf('wx-000011')).toEqual(['100.64.1.66 02:00:00:00:01:b2']);
    expect(callsSince(h.dp, from, 'listLinks')).toEqual([]);
  });

  test('a full pass while an attach is creating a device leaves it alone', async () => {
    const h = await started();
    await h.reconciler.reconcile();
    // hold the attach inside the veth creation, after the device exists
    const host = h.dp.host();
    const addVeth = host.addVeth.bind(host);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    host.addVeth = async (spec) => {
      await gate;
      return addVeth(spec);
    };
    const attach = h.endpoints.attach({ network: 'red', containerId: 'r', netns: await h.netns() });
    while (!(await h.dp.link('host', 'wx-000011'))) await new Promise((r) => setTimeout(r, 1));
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', 'wx-000011')).toBeDefined();
    release();
    await attach;
    host.addVeth = addVeth;
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', 'wx-000011')).toBeDefined();
  });

  test('restart adopts the device and its entries without churn', async () => {
    const before = await started();
    await before.endpoints.attach({ network: 'blue', containerId: 'a', netns: await before.netns() });
    await before.reconciler.reconcile();
    await before.reconciler.stop();
    const fdb = await before.dp.fdbOf('wx-000010');
    const vx = await before.dp.link('host', 'wx-000010');

    const h = track(before.restart());
    await h.underlay.init();
    const from = h.dp.calls.length;
    await h.reconciler.reconcile();
    expect(h.network.lastPass?.actions).toEqual([]);
    const changes: FakeOp[] = ['addVxlan', 'addBridge', 'removeLink', 'fdbAppend', 'fdbDel', 'neighReplace', 'neighDel', 'setLinkMac', 'setLinkMaster', 'setLinkAlias'];
    expect(callsSince(h.dp, from, ...changes)).toEqual([]);
    expect(await h.dp.link('host', 'wx-000010')).toEqual(vx);
    expect(await h.dp.fdbOf('wx-000010')).toEqual(fdb);

    // and the next attach on that network adopts the device rather than replacing it
    await h.endpoints.attach({ network: 'blue', containerId: 'b', netns: await h.netns() });
    expect(callsSince(h.dp, from, 'addVxlan', 'removeLink')).toEqual([]);
  });

  test('a VTEP change replaces the devices and programs their entries again', async () => {
    const h = await started({ underlayAddress: null });
    await h.underlay.learn('127.0.0.1');
    await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await h.reconciler.reconcile();
    expect(await h.dp.fdbOf('wx-000010')).toHaveLength(4);
    // the host moves to another underlay interface
    const host = h.dp.host();
    const ul = await host.addBridge({ name: 'ul0', mtu: 1500, alias: '' });
    await host.addrAdd(ul.index, '198.18.0.11', 24);
    await h.underlay.learn('::ffff:198.18.0.11');
    await h.reconciler.reconcile();
    const vx = await h.dp.link('host', 'wx-000010');
    expect(vx?.alias).toBe(vxlanAlias('blue', vxlanSpec(blue, { address: '198.18.0.11', index: ul.index })));
    expect(h.dp.calls.filter((c) => c.op === 'addVxlan').at(-1)?.args[0]).toMatchObject({ local: '198.18.0.11', dev: ul.index });
    expect(await h.dp.fdbOf('wx-000010')).toHaveLength(4);
    expect(h.store.getMeta('underlayAddress')).toBe('198.18.0.11');
  });

  test('without a VTEP address attaches still work; the device comes once the address is known', async () => {
    const h = await started({ underlayAddress: null });
    const ep = await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', ep.hostIfname)).toBeDefined();
    expect(await h.dp.link('host', 'wx-000010')).toBeUndefined();
    await h.underlay.learn('127.0.0.1');
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', 'wx-000010')).toMatchObject({ up: true });
    expect(await h.dp.fdbOf('wx-000010')).toHaveLength(4);
  });

  test('a device the kernel refuses does not fail the attach; the network is reported not ready here', async () => {
    const h = track(makeHarness({ plan: overlayPlan(), underlayAddress: '198.18.0.11' }));
    const host = h.dp.host();
    const ul = await host.addBridge({ name: 'ul0', mtu: 1450, alias: '' }); // cannot carry 1450 + 50
    await host.addrAdd(ul.index, '198.18.0.11', 24);
    await h.underlay.init();
    h.reconciler.start();
    const ep = await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    expect(ep.existing).toBe(false);
    await h.reconciler.reconcile();
    expect(await h.dp.link('host', 'wx-000010')).toBeUndefined();
    expect(h.uplink.ofType('status').at(-1)?.networks.blue).toMatchObject({ ready: false, message: expect.stringContaining('EINVAL') });
  });

  test('an underlay that cannot carry the network MTU is logged once, as an error', async () => {
    const h = track(makeHarness({ plan: overlayPlan(), underlayAddress: '198.18.0.11' }));
    const host = h.dp.host();
    const ul = await host.addBridge({ name: 'ul0', mtu: 1480, alias: '' });
    await host.addrAdd(ul.index, '198.18.0.11', 24);
    await h.underlay.init();
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const reconciler = new ReconcileLoop(h.config, log, h.plan, h.store, h.uplink, [new NetworkReconciler(log, host, h.store, h.plan, h.bridges, h.overlay, h.underlay, h.endpoints)]);
    await h.endpoints.attach({ network: 'blue', containerId: 'a', netns: await h.netns() });
    await reconciler.reconcile();
    await reconciler.reconcile();
    const mtu = lines.filter((l) => l.msg.includes('needs an underlay MTU'));
    expect(mtu).toEqual([expect.objectContaining({ level: 50, msg: expect.stringContaining('network MTU 1450 needs an underlay MTU of 1500; this host\'s is 1480') })]);
  });

  test('neigh_suppress is probed once where the kernel lacks it, and set on every device where it has it', async () => {
    const without = await started();
    await without.endpoints.attach({ network: 'blue', containerId: 'a', netns: await without.netns() });
    await without.endpoints.attach({ network: 'red', containerId: 'b', netns: await without.netns() });
    expect(without.dp.calls.filter((c) => c.op === 'setBridgePortNeighSuppress')).toHaveLength(1);

    const withIt = await started({ dp: new TestKernel({ bridgePortNeighSuppress: true }) });
    await withIt.endpoints.attach({ network: 'blue', containerId: 'a', netns: await withIt.netns() });
    await withIt.endpoints.attach({ network: 'red', containerId: 'b', netns: await withIt.netns() });
    expect(withIt.dp.calls.filter((c) => c.op === 'setBridgePortNeighSuppress')).toHaveLength(2);
  });
});
