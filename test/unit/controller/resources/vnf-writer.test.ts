// The Firewall VNF at the controller: its addresses (IPAM reservations it
// owns), what the planner makes of it for its host and for the others, and
// the guards around it.
import type { PlanFirewallSpec } from '../../../../model/firewall-vnf.js';
import type { PlanVnf } from '../../../../model/vnf-protocol.js';
import { Ipam } from '../../../../controller/ipam/ipam.js';
import { assignVni } from '../../../../controller/ipam/vni-allocator.js';
import { diffPlans, planHost } from '../../../../controller/planner/host-planner.js';
import { readPlanInput } from '../../../../controller/planner/plan-input.js';
import { deleteNetwork } from '../../../../controller/resources/network-writer.js';
import { deleteVnf, writeVnf } from '../../../../controller/resources/vnf-writer.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import { caught } from '../support/caught.js';
import type { Firewall, FirewallSpec } from '../../../../model/firewall-vnf.js';
import type { EndpointReport } from '../../../../model/agent-protocol.js';
import { applyPlanDelta } from '../../../../model/plan-delta.js';
import { vnfMac } from '../../../../model/vnf-names.js';
import { recordFromReport } from '../../../../controller/hub/endpoint-record.js';
import { network } from '../support/harness.js';

const fw = (name: string, spec: FirewallSpec): Firewall => ({ apiVersion: 'weft.dev/v1', kind: 'Firewall', metadata: { name }, spec });
const EDGE = { kind: 'Firewall', name: 'edge' };

const SPEC: FirewallSpec = {
  host: 'h1',
  networks: [{ network: 'front' }, { network: 'back', ip: '10.2.0.200' }],
  rules: [
    { name: 'web', action: 'allow', from: [{ network: 'front' }], to: [{ network: 'back', selector: { app: 'web' } }], protocol: 'tcp', ports: ['@web'] },
    { action: 'allow', protocol: 'icmp' },
  ],
  portSets: { web: [80, '8000-8001'] },
};

describe('Firewall VNF at the controller', () => {
  let store: SqliteStore;
  const ipam = new Ipam();
  const reservations = () => store.read((r) => r.listReservations().filter((x) => x.owner === 'firewall:edge'));

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    store.write((tx) => {
      for (const [name, subnet] of [['front', '10.1.0.0/24'], ['back', '10.2.0.0/24'], ['other', '10.3.0.0/24']] as const) {
        tx.putResource(network(name, { subnet }));
        assignVni(tx, name, undefined);
      }
      tx.addBlock({ network: 'front', cidr: '10.1.0.192/26', host: 'h2' });
      const rep: EndpointReport = { name: 'web-1', network: 'back', containerId: 'web-1', ifname: 'eth0', ip: '10.2.0.7', mac: '02:00:00:00:00:07', hostIfname: 'wv-1', netns: '/run/netns/x', labels: { app: 'web' } };
      tx.putEndpointRecord(recordFromReport('h2', rep));
    });
  });

  afterEach(() => store.close());

  test('gets the highest free address outside other hosts\' blocks, or the one it asks for, as reservations of its host', () => {
    store.write((tx) => writeVnf(tx, ipam, fw('edge', SPEC), 'create'));
    // 10.1.0.192/26 is h2's block: the firewall (on h1) gets the highest address below it
    expect(reservations().map((r) => [r.network, r.ip, r.host, r.source])).toEqual([
      ['back', '10.2.0.200', 'h1', 'declared'],
      ['front', '10.1.0.191', 'h1', 'declared'],
    ]);
  });

  test("an address in another host's block (asked for, or the last free one) is a loan: the VNF gets that interface once the block's owner confirms", () => {
    const asked = { ...SPEC, networks: [{ network: 'front', ip: '10.1.0.200' }, { network: 'back', ip: '10.2.0.200' }] };
    store.write((tx) => writeVnf(tx, ipam, fw('edge', asked), 'create'));
    expect(reservations().find((r) => r.network === 'front')).toMatchObject({ ip: '10.1.0.200', host: 'h1', pending: true });
    const ifaces = () => planHost(store.read(readPlanInput), 'h1').vnfs[0]?.interfaces.map((i) => `${i.network}:${i.ip}`);
    expect(ifaces()).toEqual(['back:10.2.0.200']);
    // h2, whose block it is, excludes it and is asked to confirm.
    expect(planHost(store.read(readPlanInput), 'h2').reservations).toContainEqual({ network: 'front', ip: '10.1.0.200', owner: 'firewall:edge', pending: true });
    expect(store.write((tx) => ipam.confirmLoan(tx, 'h2', 'front', '10.1.0.200'))).toBe(true);
    expect(ifaces()).toEqual(['front:10.1.0.200', 'back:10.2.0.200']);

    // With every address outside h2's block held, an automatic pick borrows from it.
    store.write((tx) => {
      tx.deleteBlock('front', '10.1.0.192/26');
      tx.addBlock({ network: 'front', cidr: '10.1.0.0/25', host: 'h3' });
      tx.addBlock({ network: 'front', cidr: '10.1.0.128/25', host: 'h2' });
    });
    store.write((tx) => writeVnf(tx, ipam, fw('inner', { ...SPEC, host: 'h1', networks: [{ network: 'front' }] }), 'create'));
    const inner = store.read((r) => r.listReservations().filter((x) => x.owner === 'firewall:inner'));
    expect(inner).toEqual([expect.objectContaining({ network: 'front', ip: '10.1.0.254', host: 'h1', pending: true })]);
  });

  test('keeps its addresses across edits, releases a network it stops guarding, and everything on delete', () => {
    store.write((tx) => writeVnf(tx, ipam, fw('edge', SPEC), 'create'));
    store.write((tx) => writeVnf(tx, ipam, fw('edge', { ...SPEC, networks: [{ network: 'front' }, { network: 'other' }], rules: [] }), 'apply'));
    expect(reservations().map((r) => `${r.network}:${r.ip}`)).toEqual(['front:10.1.0.191', 'other:10.3.0.254']);
    store.write((tx) => deleteVnf(tx, 'Firewall', 'edge'));
    expect(reservations()).toEqual([]);
  });

  test('refuses a network that does not exist, an address someone holds, and deleting a network it guards', () => {
    expect(caught(() => store.write((tx) => writeVnf(tx, ipam, fw('edge', { ...SPEC, networks: [{ network: 'front' }, { network: 'nope' }] }), 'create'))).code).toBe('Invalid');
    expect(caught(() => store.write((tx) => writeVnf(tx, ipam, fw('edge', { ...SPEC, networks: [{ network: 'front' }, { network: 'back', ip: '10.2.0.7' }] }), 'create'))).code).toBe('AddressInUse');
    store.write((tx) => writeVnf(tx, ipam, fw('edge', SPEC), 'create'));
    const e = caught(() => store.write((tx) => deleteNetwork(tx, 'front')));
    expect(e.code).toBe('Conflict');
    expect(e.message).toContain('is used by firewall "edge"');
  });

  test('spec.host\'s plan runs it; every plan routes through it; other hosts learn its MACs behind spec.host', () => {
    store.write((tx) => {
      writeVnf(tx, ipam, fw('edge', SPEC), 'create');
      tx.putResource({ apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h1' }, spec: {}, status: { address: '198.18.0.11' } });
    });
    const input = store.read(readPlanInput);
    const p1 = planHost(input, 'h1');
    const p2 = planHost(input, 'h2');
    expect(p1.vnfs).toHaveLength(1);
    expect(p2.vnfs).toEqual([]);
    const edge = p1.vnfs[0] as PlanVnf<PlanFirewallSpec> | undefined;
    expect(edge).toMatchObject({ kind: 'Firewall', name: 'edge', generation: 1, netns: 'wn.h1.firewall.edge', spec: { defaultAction: 'deny' } });
    expect(edge?.interfaces.map((i) => [i.network, i.ip, i.prefixLength, i.mac, i.ifname])).toEqual([
      ['front', '10.1.0.191', 24, vnfMac(EDGE, 'front'), 'n-front'],
      ['back', '10.2.0.200', 24, vnfMac(EDGE, 'back'), 'n-back'],
    ]);
    // a network-only peer is the subnet; a selector peer the matching endpoints; port sets resolved; unnamed rules by position
    expect(edge?.spec.rules).toEqual([
      { name: 'web', action: 'allow', from: [{ cidr: '10.1.0.0/24' }], to: [{ set: 'peer:back:app=web' }], protocol: 'tcp', ports: [[80, 80], [8000, 8001]] },
      { name: '1', action: 'allow', protocol: 'icmp' },
    ]);
    expect(edge?.spec.addressSets).toEqual([{ name: 'peer:back:app=web', addresses: ['10.2.0.7'] }]);
    const routes = [
      { network: 'back', dst: '10.1.0.0/24', via: '10.2.0.200', owner: 'Firewall/edge' },
      { network: 'front', dst: '10.2.0.0/24', via: '10.1.0.191', owner: 'Firewall/edge' },
    ];
    expect(p1.networkRoutes).toEqual(routes);
    expect(p2.networkRoutes).toEqual(routes);
    expect(p2.remoteEndpoints).toContainEqual({ name: 'firewall:edge/front', network: 'front', ip: '10.1.0.191', mac: vnfMac(EDGE, 'front'), host: 'h1', vtep: '198.18.0.11' });
    expect(p2.flood).toContainEqual({ network: 'back', host: 'h1', vtep: '198.18.0.11' });
  });

  test('deltas carry the firewall and its routes, and applying them gives the next plan (empty when there are none)', () => {
    const before = planHost(store.read(readPlanInput), 'h1');
    expect(before.vnfs).toEqual([]);
    expect(before.networkRoutes).toEqual([]);
    store.write((tx) => writeVnf(tx, ipam, fw('edge', SPEC), 'create'));
    const after = planHost(store.read(readPlanInput), 'h1');
    const delta = diffPlans(before, after);
    expect(delta.upsertVnfs.map((v) => `${v.kind}/${v.name}`)).toEqual(['Firewall/edge']);
    expect(delta.upsertNetworkRoutes).toHaveLength(2);
    expect(applyPlanDelta(before, delta, after.revision)).toEqual(after);
    store.write((tx) => deleteVnf(tx, 'Firewall', 'edge'));
    const gone = planHost(store.read(readPlanInput), 'h1');
    const back = diffPlans(after, gone);
    expect(back.removeVnfs).toEqual([{ kind: 'Firewall', name: 'edge' }]);
    expect(back.removeNetworkRoutes).toEqual([
      { network: 'back', dst: '10.1.0.0/24' },
      { network: 'front', dst: '10.2.0.0/24' },
    ]);
    expect(applyPlanDelta(after, back, gone.revision)).toEqual(gone);
  });
});
