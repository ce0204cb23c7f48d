import type { FdbEntry, LinkInfo, NeighEntry } from '../../../../agents/datapath/port.js';
import { diffHost, renderHost } from '../../../../agents/reconcile/host-diff.js';
import {
  ZERO_MAC, diffOverlay, diffOverlayEntries, renderOverlay, renderOverlayEntries, vxlanAlias, vxlanAliasNetwork, vxlanSpec,
  type OverlayAction, type OverlayEntries, type Vtep,
} from '../../../../agents/reconcile/overlay-diff.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import type { HostPlan, PlanRemoteEndpoint } from '../../../../model/agent-protocol.js';
import { bridgeAlias, endpointAlias, gatewayMac } from '../../../../model/kernel-names.js';
import { planNetwork, testPlan } from '../support/harness.js';

const blue = planNetwork('blue', 0x10);
const red = planNetwork('red', 0x11, '100.64.1.0/24', '100.64.1.1');
const vtep: Vtep = { address: '198.18.0.11', index: 2, mtu: 1500 };

const remote = (name: string, ip: string, mac: string, vtepAddr: string, network = 'blue'): PlanRemoteEndpoint => ({
  name, network, ip, mac, host: `h-${vtepAddr}`, vtep: vtepAddr,
});

const plan = (over: Partial<HostPlan> = {}): HostPlan =>
  testPlan({
    networks: [blue, red],
    flood: [
      { network: 'blue', host: 'h2', vtep: '198.18.0.12' },
      { network: 'blue', host: 'h3', vtep: '198.18.0.13' },
      { network: 'red', host: 'h2', vtep: '198.18.0.12' },
    ],
    remoteEndpoints: [
      remote('b2', '100.64.0.66', '02:00:00:00:00:b2', '198.18.0.12'),
      remote('b3', '100.64.0.130', '02:00:00:00:00:B3', '198.18.0.13'),
      remote('r2', '100.64.1.66', '02:00:00:00:01:b2', '198.18.0.12', 'red'),
    ],
    ...over,
  });

const fdb = (mac: string, dst: string, permanent = true, index = 50): FdbEntry => ({ index, mac, dst, permanent });
const neigh = (ip: string, mac: string, permanent = true, index = 50): NeighEntry => ({ index, ip, mac, permanent });

const bridgeLink = (over: Partial<LinkInfo> = {}): LinkInfo => ({
  index: 10, name: 'wb-000010', kind: 'bridge', alias: bridgeAlias('blue'), up: true, mtu: 1450, mac: gatewayMac(0x10), ...over,
});
const vxlanLink = (over: Partial<LinkInfo> = {}): LinkInfo => ({
  index: 50, name: 'wx-000010', kind: 'vxlan', alias: vxlanAlias('blue', vxlanSpec(blue, vtep)), master: 10, up: true, mtu: 1450, mac: '02:aa:00:00:00:01', ...over,
});

/** The entries blue wants in plan(): two flood VTEPs, two remote endpoints. */
const blueEntries = {
  fdb: [fdb(ZERO_MAC, '198.18.0.12'), fdb(ZERO_MAC, '198.18.0.13'), fdb('02:00:00:00:00:b2', '198.18.0.12'), fdb('02:00:00:00:00:b3', '198.18.0.13')],
  neigh: [neigh('100.64.0.66', '02:00:00:00:00:b2'), neigh('100.64.0.130', '02:00:00:00:00:b3')],
};

function diff(opts: { plan?: HostPlan; carried?: string[]; vtep?: Vtep | undefined; links?: LinkInfo[]; fdb?: FdbEntry[]; neigh?: NeighEntry[] } = {}): OverlayAction[] {
  const desired = renderOverlay(opts.plan ?? plan(), opts.carried ?? ['blue'], 'vtep' in opts ? opts.vtep : vtep);
  return diffOverlay(desired, {
    links: opts.links ?? [bridgeLink(), vxlanLink()],
    fdb: new Map([[50, opts.fdb ?? blueEntries.fdb]]),
    neigh: new Map([[50, opts.neigh ?? blueEntries.neigh]]),
  });
}
const ops = (a: { op: string }[]) => a.map((x) => x.op);

describe('vxlanSpec and its alias', () => {
  test('VNI, VTEP address, 4789, learning off, proxy on, network MTU, underlay device', () => {
    expect(vxlanSpec(blue, vtep)).toEqual({ name: 'wx-000010', vni: 0x10, local: '198.18.0.11', port: 4789, mtu: 1450, dev: 2, learning: false, proxy: true });
    expect(vxlanSpec(blue, { address: '198.18.0.11' })).not.toHaveProperty('dev');
  });

  test('the alias names the network and stamps what a link listing cannot show', () => {
    const alias = vxlanAlias('blue', vxlanSpec(blue, vtep));
    expect(alias).toBe('weft:net:blue vxlan vni=16 local=198.18.0.11 port=4789 dev=2');
    expect(vxlanAliasNetwork(alias)).toBe('blue');
    expect(vxlanAliasNetwork(bridgeAlias('blue'))).toBe('blue');
    expect(vxlanAliasNetwork('someone else')).toBeUndefined();
    expect(vxlanAliasNetwork(endpointAlias('x'))).toBeUndefined();
  });
});

describe('renderOverlayEntries', () => {
  test('flood entries become all-zero FDB entries; remote endpoints an FDB entry and a neighbour each', () => {
    expect(renderOverlayEntries(plan(), 'blue')).toEqual<OverlayEntries>({
      fdb: [
        { mac: ZERO_MAC, dst: '198.18.0.12' },
        { mac: ZERO_MAC, dst: '198.18.0.13' },
        { mac: '02:00:00:00:00:b2', dst: '198.18.0.12' },
        { mac: '02:00:00:00:00:b3', dst: '198.18.0.13' }, // MACs are compared lower-case
      ],
      neigh: [{ ip: '100.64.0.66', mac: '02:00:00:00:00:b2' }, { ip: '100.64.0.130', mac: '02:00:00:00:00:b3' }],
    });
    expect(renderOverlayEntries(plan(), 'red')).toEqual({ fdb: [{ mac: ZERO_MAC, dst: '198.18.0.12' }, { mac: '02:00:00:00:01:b2', dst: '198.18.0.12' }], neigh: [{ ip: '100.64.1.66', mac: '02:00:00:00:01:b2' }] });
  });

  test('entries towards our own VTEP (a loop) and duplicates are dropped; the first by name wins a clash', () => {
    const p = plan({
      flood: [{ network: 'blue', host: 'h1', vtep: '198.18.0.11' }, { network: 'blue', host: 'h2', vtep: '198.18.0.12' }, { network: 'blue', host: 'h2', vtep: '198.18.0.12' }],
      remoteEndpoints: [
        remote('z', '100.64.0.70', '02:00:00:00:00:01', '198.18.0.13'),
        remote('a', '100.64.0.70', '02:00:00:00:00:01', '198.18.0.12'),
        remote('self', '100.64.0.2', '02:00:00:00:00:02', '198.18.0.11'),
      ],
    });
    expect(renderOverlayEntries(p, 'blue', '198.18.0.11')).toEqual({
      fdb: [{ mac: ZERO_MAC, dst: '198.18.0.12' }, { mac: '02:00:00:00:00:01', dst: '198.18.0.12' }],
      neigh: [{ ip: '100.64.0.70', mac: '02:00:00:00:00:01' }],
    });
  });

  test('a dual-stack remote endpoint gets an IPv6 neighbour entry too, to the same MAC (the driver answers neighbour solicitations from it)', () => {
    const p = plan({ flood: [], remoteEndpoints: [{ ...remote('d', '100.64.0.70', '02:00:00:00:00:01', '198.18.0.12'), ip6: 'fd00:10::46' }] });
    expect(renderOverlayEntries(p, 'blue', '198.18.0.11')).toEqual({
      fdb: [{ mac: '02:00:00:00:00:01', dst: '198.18.0.12' }],
      neigh: [{ ip: '100.64.0.70', mac: '02:00:00:00:00:01' }, { ip: 'fd00:10::46', mac: '02:00:00:00:00:01' }],
    });
    // and it goes once the endpoint no longer has it
    const want = renderOverlayEntries(plan({ flood: [], remoteEndpoints: [remote('d', '100.64.0.70', '02:00:00:00:00:01', '198.18.0.12')] }), 'blue', '198.18.0.11');
    const have = {
      fdb: [{ index: 7, mac: '02:00:00:00:00:01', dst: '198.18.0.12', permanent: true }],
      neigh: [{ index: 7, ip: '100.64.0.70', mac: '02:00:00:00:00:01', permanent: true }, { index: 7, ip: 'fd00:10::46', mac: '02:00:00:00:00:01', permanent: true }],
    };
    expect(diffOverlayEntries('blue', 'wx-000010', want, have)).toEqual([{ op: 'neighDel', network: 'blue', vxlan: 'wx-000010', ip: 'fd00:10::46' }]);
  });
});

describe('diffOverlayEntries', () => {
  const want = renderOverlayEntries(plan(), 'blue');
  const run = (have: { fdb?: FdbEntry[]; neigh?: NeighEntry[] }) =>
    diffOverlayEntries('blue', 'wx-000010', want, { fdb: have.fdb ?? blueEntries.fdb, neigh: have.neigh ?? blueEntries.neigh });
  const base = { network: 'blue', vxlan: 'wx-000010' };

  test('in sync: nothing to do', () => expect(run({})).toEqual([]));

  test.each<[string, { fdb?: FdbEntry[]; neigh?: NeighEntry[] }, OverlayAction[]]>([
    ['an empty device gets everything', { fdb: [], neigh: [] }, [
      ...blueEntries.fdb.map((e) => ({ op: 'fdbAdd' as const, ...base, mac: e.mac, dst: e.dst, evict: [] })),
      ...blueEntries.neigh.map((e) => ({ op: 'neighReplace' as const, ...base, ip: e.ip, mac: e.mac })),
    ]],
    ['a missing flood VTEP is added beside the other one', { fdb: blueEntries.fdb.filter((e) => e.dst !== '198.18.0.13' || e.mac !== ZERO_MAC) }, [
      { op: 'fdbAdd', ...base, mac: ZERO_MAC, dst: '198.18.0.13', evict: [] },
    ]],
    ['a withdrawn flood VTEP is deleted', { fdb: [...blueEntries.fdb, fdb(ZERO_MAC, '198.18.0.14')] }, [
      { op: 'fdbDel', ...base, mac: ZERO_MAC, dst: '198.18.0.14' },
    ]],
    ['a MAC that moved to another VTEP leaves the old one first', { fdb: [...blueEntries.fdb.slice(0, 3), fdb('02:00:00:00:00:b3', '198.18.0.12')] }, [
      { op: 'fdbAdd', ...base, mac: '02:00:00:00:00:b3', dst: '198.18.0.13', evict: ['198.18.0.12'] },
    ]],
    ['a learnt (not permanent) entry is made permanent', { fdb: [...blueEntries.fdb.slice(0, 3), fdb('02:00:00:00:00:b3', '198.18.0.13', false)] }, [
      { op: 'fdbAdd', ...base, mac: '02:00:00:00:00:b3', dst: '198.18.0.13', evict: ['198.18.0.13'] },
    ]],
    ['a withdrawn remote endpoint loses its FDB entry and neighbour', {
      fdb: [...blueEntries.fdb, fdb('02:00:00:00:00:99', '198.18.0.12')], neigh: [...blueEntries.neigh, neigh('100.64.0.99', '02:00:00:00:00:99')],
    }, [
      { op: 'neighDel', ...base, ip: '100.64.0.99' },
      { op: 'fdbDel', ...base, mac: '02:00:00:00:00:99', dst: '198.18.0.12' },
    ].sort((a, b) => (a.op < b.op ? -1 : 1)) as OverlayAction[]],
    ['a neighbour with a stale MAC is replaced', { neigh: [neigh('100.64.0.66', '02:00:00:00:00:ff'), blueEntries.neigh[1]!] }, [
      { op: 'neighReplace', ...base, ip: '100.64.0.66', mac: '02:00:00:00:00:b2' },
    ]],
    ['a neighbour that is not permanent is replaced', { neigh: [neigh('100.64.0.66', '02:00:00:00:00:b2', false), blueEntries.neigh[1]!] }, [
      { op: 'neighReplace', ...base, ip: '100.64.0.66', mac: '02:00:00:00:00:b2' },
    ]],
    ['upper-case MACs from the kernel still match', { fdb: blueEntries.fdb.map((e) => ({ ...e, mac: e.mac.toUpperCase() })), neigh: blueEntries.neigh.map((e) => ({ ...e, mac: e.mac.toUpperCase() })) }, []],
  ])('%s', (_what, have, expected) => {
    expect(run(have).sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0))).toEqual([...expected].sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0)));
  });
});

describe('diffOverlay', () => {
  test('in sync: nothing to do', () => expect(diff()).toEqual([]));

  test('a carried network without a device gets one, and every entry on it', () => {
    const actions = diff({ links: [bridgeLink()] });
    expect(actions[0]).toEqual({ op: 'ensureVxlan', network: blue, reason: 'missing' });
    expect(ops(actions.slice(1))).toEqual(['fdbAdd', 'fdbAdd', 'fdbAdd', 'fdbAdd', 'neighReplace', 'neighReplace']);
  });

  test.each<[string, Partial<LinkInfo>, string]>([
    ['made for another VTEP', { alias: vxlanAlias('blue', vxlanSpec(blue, { ...vtep, address: '198.18.0.99' })) }, 'spec'],
    ['half-made (no alias)', { alias: undefined }, 'spec'],
    ['a wrong MTU', { mtu: 1500 }, 'mtu 1500 -> 1450'],
    ['no master', { master: undefined }, 'master'],
    ['down', { up: false }, 'down'],
    ['owned by another network', { alias: vxlanAlias('red', vxlanSpec(blue, vtep)) }, 'owner'],
    ['not a vxlan', { kind: 'bridge' }, 'wx-000010 is not a vxlan'],
  ])('a device %s is ensured again', (_what, over, reason) => {
    const actions = diff({ links: [bridgeLink(), vxlanLink(over)] });
    expect(actions[0]).toEqual({ op: 'ensureVxlan', network: blue, reason });
    // A replaced device starts empty: its entries are all programmed again.
    // A foreign one is refused by the ensure: nothing goes on it.
    const entries = actions.slice(1).length;
    if (reason === 'spec') expect(entries).toBe(6);
    else expect(entries).toBe(0);
  });

  test('without a VTEP address a missing device waits, an existing one is adopted as it is', () => {
    expect(diff({ vtep: undefined, links: [bridgeLink()] })).toEqual([]);
    expect(diff({ vtep: undefined, links: [bridgeLink(), vxlanLink({ alias: 'weft:net:blue vxlan vni=16 local=10.9.9.9 port=4789 dev=7' })] })).toEqual([]);
    expect(ops(diff({ vtep: undefined, links: [bridgeLink(), vxlanLink()], fdb: [] }))).toEqual(['fdbAdd', 'fdbAdd', 'fdbAdd', 'fdbAdd']);
  });

  test('the device of a network no longer carried, or gone from the plan, is removed; foreign ones stay', () => {
    const redVx = vxlanLink({ index: 51, name: 'wx-000011', alias: vxlanAlias('red', vxlanSpec(red, vtep)), master: 11 });
    const oldVx = vxlanLink({ index: 52, name: 'wx-0000ff', alias: 'weft:net:old vxlan vni=255 local=198.18.0.11 port=4789 dev=2', master: undefined });
    const halfVx = vxlanLink({ index: 53, name: 'wx-000011', alias: undefined });
    const foreign = vxlanLink({ index: 54, name: 'wx-custom', alias: 'not weft' });
    const other = vxlanLink({ index: 55, name: 'vxlan0', alias: bridgeAlias('blue') });
    expect(diff({ links: [bridgeLink(), vxlanLink(), redVx, oldVx, foreign, other] })).toEqual([
      { op: 'removeVxlan', network: 'red', link: { index: 51, name: 'wx-000011' } },
      { op: 'removeVxlan', network: 'old', link: { index: 52, name: 'wx-0000ff' } },
    ]);
    expect(diff({ links: [bridgeLink(), vxlanLink(), halfVx] })).toEqual([{ op: 'removeVxlan', network: 'red', link: { index: 53, name: 'wx-000011' } }]);
    expect(diff({ carried: [], links: [bridgeLink(), vxlanLink()] })).toEqual([{ op: 'removeVxlan', network: 'blue', link: { index: 50, name: 'wx-000010' } }]);
  });
});

describe('diffHost with the overlay', () => {
  const rec = (name: string, network = 'blue', state: EndpointRecord['state'] = 'attached'): EndpointRecord => ({
    name, network, containerId: name, ifname: 'eth0', ip: '100.64.0.5', mac: '02:00:00:00:00:05', hostIfname: `wv-${name}`, netns: '/run/netns/x',
    labels: {}, state, prefixLength: 24, gateway: '100.64.0.1', mtu: 1450,
  });
  const veth = (name: string, index: number, master = 10): LinkInfo => ({
    index, name: `wv-${name}`, kind: 'veth', alias: endpointAlias(name), master, up: true, mtu: 1450, mac: '02:00:00:00:20:00',
  });
  const gw = new Map([[10, [{ index: 10, address: '100.64.0.1', prefixLength: 24, family: 4 as const }]]]);
  const run = (records: EndpointRecord[], links: LinkInfo[], busyNetworks: string[] = [], p = plan()) =>
    diffHost(renderHost(p, records, { busyNetworks: new Set(busyNetworks), vtep }), {
      links, bridgeAddrs: gw, busy: new Set(), fdb: new Map([[50, blueEntries.fdb]]), neigh: new Map([[50, blueEntries.neigh]]),
    });

  test('ordered: bridge, vxlan, veths, fdb, neigh; then deletes in reverse, bridges last', () => {
    const oldBridge = bridgeLink({ index: 30, name: 'wb-0000ff', alias: bridgeAlias('old'), mac: gatewayMac(0xff) });
    const oldVx = vxlanLink({ index: 31, name: 'wx-0000ff', alias: 'weft:net:old vxlan vni=255 local=198.18.0.11 port=4789 dev=2', master: 30 });
    const actions = run([rec('a'), rec('gone', 'blue', 'deleting')], [veth('a', 20, 99), veth('gone', 21), oldBridge, oldVx]);
    expect(ops(actions)).toEqual([
      'ensureBridge', 'ensureVxlan', 'repairVeth', 'fdbAdd', 'fdbAdd', 'fdbAdd', 'fdbAdd', 'neighReplace', 'neighReplace', 'finishDelete', 'removeVxlan', 'removeBridge',
    ]);
  });

  test('a network with an attach in progress is carried before its first record', () => {
    expect(ops(run([], [bridgeLink()], ['blue']))).toContain('ensureVxlan');
    expect(run([], [bridgeLink(), vxlanLink()], ['blue'])).toEqual([]);
    expect(ops(run([], [bridgeLink(), vxlanLink()]))).toEqual(['removeVxlan']);
  });

  test('a bridge whose only port is a device this pass removes goes with it', () => {
    const p = plan({ networks: [red] });
    const actions = run([], [bridgeLink(), vxlanLink()], [], p);
    expect(actions).toEqual([
      { op: 'removeVxlan', network: 'blue', link: { index: 50, name: 'wx-000010' } },
      { op: 'removeBridge', network: 'blue', link: { index: 10, name: 'wb-000010' } },
    ]);
  });

  test('without an overlay input nothing about VXLAN is decided', () => {
    expect(diffHost(renderHost(plan(), [rec('a')]), { links: [bridgeLink(), veth('a', 20)], bridgeAddrs: gw, busy: new Set() })).toEqual([]);
  });
});
