import type { LinkInfo } from '../../../../agents/datapath/port.js';
import { diffHost, renderHost, type HostAction } from '../../../../agents/reconcile/host-diff.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import { bridgeAlias, endpointAlias, gatewayMac } from '../../../../model/kernel-names.js';
import { planNetwork, testPlan } from '../support/harness.js';

const blue = planNetwork('blue', 0x10);

function rec(name: string, hostIfname: string, state: EndpointRecord['state'] = 'attached', network = 'blue'): EndpointRecord {
  return {
    name, network, containerId: name, ifname: 'eth0', ip: '100.64.0.5', mac: '02:00:00:00:00:05', hostIfname, netns: '/run/netns/x',
    labels: {}, state, prefixLength: 24, gateway: '100.64.0.1', mtu: 1450,
  };
}

const bridge = (over: Partial<LinkInfo> = {}): LinkInfo => ({
  index: 10, name: 'wb-000010', kind: 'bridge', alias: bridgeAlias('blue'), up: true, mtu: 1450, mac: gatewayMac(0x10), ...over,
});
const veth = (name: string, over: Partial<LinkInfo> = {}): LinkInfo => ({
  index: 20, name, kind: 'veth', alias: endpointAlias('a'), master: 10, up: true, mtu: 1450, mac: '02:00:00:00:20:00', ...over,
});
const gwAddrs = new Map([[10, [{ index: 10, address: '100.64.0.1', prefixLength: 24, family: 4 as const }]]]);

function diff(opts: { plan?: ReturnType<typeof testPlan> | undefined; records?: EndpointRecord[]; links?: LinkInfo[]; busy?: string[]; addrs?: typeof gwAddrs }): HostAction[] {
  const plan = 'plan' in opts ? opts.plan : testPlan();
  return diffHost(renderHost(plan, opts.records ?? []), {
    links: opts.links ?? [],
    bridgeAddrs: opts.addrs ?? gwAddrs,
    busy: new Set(opts.busy ?? []),
  });
}
const ops = (a: HostAction[]) => a.map((x) => x.op);

describe('renderHost', () => {
  test('wants bridges only for networks with attached endpoints', () => {
    const plan = testPlan({ networks: [blue, planNetwork('red', 0x11)] });
    expect(renderHost(plan, [rec('a', 'wv-a')]).bridges.map((n) => n.name)).toEqual(['blue']);
    expect(renderHost(plan, [rec('a', 'wv-a', 'deleting')]).bridges).toEqual([]);
    expect(renderHost(undefined, [rec('a', 'wv-a')]).networks).toBeUndefined();
  });
});

describe('diffHost', () => {
  test('in sync: nothing to do', () => {
    expect(diff({ records: [rec('a', 'wv-a')], links: [bridge(), veth('wv-a')] })).toEqual([]);
  });

  test('a missing bridge of a network with endpoints is ensured', () => {
    expect(diff({ records: [rec('a', 'wv-a')], links: [veth('wv-a', { master: undefined })] })).toEqual([
      { op: 'ensureBridge', network: blue, reason: 'missing' },
      { op: 'repairVeth', endpoint: 'a', network: 'blue', link: { index: 20, name: 'wv-a' }, masterBridge: 'wb-000010' },
    ]);
  });

  test.each<[string, Partial<LinkInfo>, typeof gwAddrs | undefined, string]>([
    ['wrong mtu', { mtu: 1500 }, undefined, 'mtu 1500 -> 1450'],
    ['down', { up: false }, undefined, 'down'],
    ['alias missing', { alias: undefined }, undefined, 'alias'],
    ['a MAC that is not the anycast gateway MAC', { mac: '02:00:00:00:10:00' }, undefined, 'gateway mac'],
    ['no gateway address', {}, new Map(), 'gateway address'],
    ['a stale extra address', {}, new Map([[10, [...(gwAddrs.get(10) ?? []), { index: 10, address: '100.64.9.1', prefixLength: 24, family: 4 as const }]]]), 'stale address'],
  ])('a bridge with %s is ensured again', (_what, over, addrs, reason) => {
    const actions = diff({ records: [rec('a', 'wv-a')], links: [bridge(over), veth('wv-a')], ...(addrs ? { addrs } : {}) });
    expect(actions).toEqual([{ op: 'ensureBridge', network: blue, reason }]);
  });

  test('weft veths without a record are removed; foreign links are left alone', () => {
    const actions = diff({
      links: [
        bridge(),
        veth('wv-orphan1', { index: 21 }),
        veth('wv-orphan2', { index: 22, alias: undefined }), // crash between create and set-alias
        veth('wv-foreign', { index: 23, alias: 'someone else' }),
        veth('eth0', { index: 24, alias: undefined }),
        { index: 25, name: 'wv-notveth', kind: 'bridge', up: true, mtu: 1500, mac: '' },
      ],
    });
    expect(actions).toEqual([
      { op: 'removeOrphanVeth', link: { index: 21, name: 'wv-orphan1' } },
      { op: 'removeOrphanVeth', link: { index: 22, name: 'wv-orphan2' } },
    ]);
  });

  test('links and records an attach or detach is working on are not touched', () => {
    expect(diff({ records: [rec('b', 'wv-b')], links: [bridge(), veth('wv-a')], busy: ['wv-a', 'wv-b'] })).toEqual([]);
  });

  test('an adopted veth gets its alias and master back', () => {
    expect(diff({ records: [rec('a', 'wv-a')], links: [bridge(), veth('wv-a', { alias: undefined, master: 99 })] })).toEqual([
      { op: 'repairVeth', endpoint: 'a', network: 'blue', link: { index: 20, name: 'wv-a' }, alias: endpointAlias('a'), masterBridge: 'wb-000010' },
    ]);
  });

  test('a deleting record is finished; an attached record whose link is gone is dropped', () => {
    const actions = diff({ records: [rec('a', 'wv-a', 'deleting'), rec('b', 'wv-b')], links: [bridge(), veth('wv-a')] });
    expect(actions).toEqual([
      { op: 'finishDelete', endpoint: 'a', network: 'blue' },
      { op: 'dropRecord', endpoint: 'b', network: 'blue' },
    ]);
  });

  test('a weft bridge of a network gone from the plan is removed once it has no ports', () => {
    const old = bridge({ index: 30, name: 'wb-0000ff', alias: bridgeAlias('old') });
    expect(diff({ links: [old] })).toEqual([{ op: 'removeBridge', network: 'old', link: { index: 30, name: 'wb-0000ff' } }]);
    const port: LinkInfo = { index: 31, name: 'tap0', kind: 'tun', up: true, mtu: 1500, mac: '', master: 30 };
    expect(diff({ links: [old, port] })).toEqual([]);
    // ports this same pass removes do not count
    const orphan = veth('wv-x', { index: 32, master: 30, alias: endpointAlias('x') });
    expect(ops(diff({ links: [old, orphan] }))).toEqual(['removeOrphanVeth', 'removeBridge']);
  });

  test('the current bridge of a plan network stays, even without endpoints; foreign bridges are left alone', () => {
    expect(diff({ links: [bridge()] })).toEqual([]);
    expect(diff({ links: [bridge({ index: 40, name: 'wb-custom', alias: 'not weft' })] })).toEqual([]);
    expect(diff({ links: [bridge({ index: 41, name: 'br0', alias: bridgeAlias('old') })] })).toEqual([]);
  });

  test('without a plan nothing plan-dependent happens, but orphans and records are still handled', () => {
    const old = bridge({ index: 30, name: 'wb-0000ff', alias: bridgeAlias('old') });
    const actions = diff({ plan: undefined, records: [rec('b', 'wv-b')], links: [old, veth('wv-orphan', { index: 21 })] });
    expect(ops(actions)).toEqual(['removeOrphanVeth', 'dropRecord']);
  });

  test('actions come in apply order: creates and repairs, then deletes, bridges last', () => {
    const actions = diff({
      records: [rec('a', 'wv-a', 'deleting'), rec('b', 'wv-b'), rec('c', 'wv-c')],
      links: [bridge({ index: 30, name: 'wb-0000ff', alias: bridgeAlias('old') }), veth('wv-a'), veth('wv-orphan', { index: 21 }), veth('wv-c', { index: 22, alias: undefined })],
    });
    expect(ops(actions)).toEqual(['ensureBridge', 'repairVeth', 'removeOrphanVeth', 'finishDelete', 'dropRecord', 'removeBridge']);
  });
});
