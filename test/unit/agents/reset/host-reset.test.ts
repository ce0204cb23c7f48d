// `weft reset`'s agent side on the fake kernel: what it takes for weft's
// (marks only), whose namespaces it takes for this host's (proofs only),
// the order it removes things in, and the workloads it reports attached.
import { FakeKernel } from '../../../../agents/datapath/fake-kernel.js';
import { HostReset, type HostNftTables } from '../../../../agents/reset/host-reset.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import type { HostPlan } from '../../../../model/agent-protocol.js';
import { bridgeAlias, endpointAlias } from '../../../../model/kernel-names.js';
import { vnfAlias, vnfNetnsName } from '../../../../model/vnf-names.js';

class FakeTables implements HostNftTables {
  constructor(public tables: Array<{ family: string; name: string }>) {}
  async listTables() {
    return this.tables;
  }
  async deleteTable(name: string, family: string) {
    this.tables = this.tables.filter((t) => !(t.name === name && t.family === family));
  }
}

const FW = { kind: 'Firewall', name: 'fw' };

async function world() {
  const kernel = new FakeKernel();
  const host = kernel.host();
  const bridge = await host.addBridge({ name: 'wb-000010', mtu: 1450, alias: bridgeAlias('blue') });
  await host.addBridge({ name: 'br0', mtu: 1500, alias: 'the user\'s' });
  const lookalike = await host.addBridge({ name: 'wb-000099', mtu: 1500, alias: 'not weft' });
  await host.setLinkAlias(lookalike.index, 'someone else');
  const fwNs = await kernel.createNamedNetns(vnfNetnsName('h1', FW));
  await kernel.createNamedNetns(vnfNetnsName('h1', { kind: 'Firewall', name: 'unproven' }));
  await kernel.createNamedNetns(vnfNetnsName('h2', FW));
  const fwPort = await host.addVeth({ name: 'wf-00000001', mtu: 1450, master: bridge.index, up: true, peer: { name: 'n-blue', netns: fwNs, up: true } });
  await host.setLinkAlias(fwPort.index, vnfAlias(FW, 'blue'));
  const run = await kernel.createNamedNetns('wr-0000aaaa');
  await kernel.createNamedNetns('wr-0000bbbb'); // another host's weft run
  const cni = await kernel.createNamedNetns('cni-1');
  const ports: EndpointRecord[] = [];
  for (const [i, netns] of [run, cni].entries()) {
    const name = `c${i}.eth0`;
    const veth = await host.addVeth({ name: `wv-0000000${i}`, mtu: 1450, master: bridge.index, up: true, peer: { name: 'eth0', netns, up: true } });
    await host.setLinkAlias(veth.index, endpointAlias(name));
    const netnsId = await kernel.netnsId(netns);
    ports.push({ name, network: 'blue', containerId: `c${i}`, ifname: 'eth0', ip: `10.0.0.${i + 2}`, mac: '02:00:00:00:00:01', hostIfname: veth.name, netns, netnsId, labels: {}, state: 'attached', prefixLength: 24, gateway: '10.0.0.1', mtu: 1450 } as EndpointRecord);
  }
  const nft = new FakeTables([
    { family: 'inet', name: 'weft-isolation' },
    { family: 'bridge', name: 'weft-guard' },
    { family: 'inet', name: 'filter' },
    { family: 'ip', name: 'weft-isolation' }, // not one weft makes
  ]);
  const reset = new HostReset({ host, namespaces: kernel, nft, hostName: 'h1', stateDir: '/nonexistent/weft-test-state', records: ports, plan: undefined });
  return { kernel, host, reset, nft };
}

describe('HostReset', () => {
  test('takes only what carries weft\'s marks, and only this host\'s provable namespaces, in removal order', async () => {
    const { reset } = await world();
    const plan = await reset.plan({ state: false });
    expect(plan.items.map((i) => `${i.kind} ${i.name}`)).toEqual([
      `netns ${vnfNetnsName('h1', FW)}`,
      'link wv-00000000',
      'link wv-00000001',
      'link wf-00000001',
      'link wb-000010',
      'nft table inet weft-isolation',
      'nft table bridge weft-guard',
      'netns wr-0000aaaa',
    ]);
    expect(plan.attached).toEqual([
      { endpoint: 'c0.eth0', hostIfname: 'wv-00000000', netns: '/run/netns/wr-0000aaaa' },
      { endpoint: 'c1.eth0', hostIfname: 'wv-00000001', netns: '/run/netns/cni-1' },
    ]);
  });

  test('a VNF namespace this host\'s cached plan names counts as this host\'s even without a port', async () => {
    const { kernel, host, nft } = await world();
    const unproven = vnfNetnsName('h1', { kind: 'Firewall', name: 'unproven' });
    const plan = { host: 'h1', vnfs: [{ netns: unproven }] } as unknown as HostPlan;
    const reset = new HostReset({ host, namespaces: kernel, nft, hostName: 'h1', stateDir: '/nonexistent/weft-test-state', records: [], plan });
    expect((await reset.plan({ state: false })).items.filter((i) => i.kind === 'netns').map((i) => i.name)).toEqual([vnfNetnsName('h1', FW), unproven]);
  });

  test('a weft run namespace whose path names another namespace now is not taken', async () => {
    const { kernel, host, nft } = await world();
    const path = '/run/netns/wr-0000aaaa';
    const record = { name: 'c0.eth0', hostIfname: 'wv-00000000', netns: path, netnsId: await kernel.netnsId(path) } as EndpointRecord;
    await kernel.deleteNamedNetns('wr-0000aaaa');
    await kernel.createNamedNetns('wr-0000aaaa');
    const reset = new HostReset({ host, namespaces: kernel, nft, hostName: 'h1', stateDir: '/nonexistent/weft-test-state', records: [record], plan: undefined });
    expect((await reset.plan({ state: false })).items.map((i) => i.name)).not.toContain('wr-0000aaaa');
  });

  test('removing the items leaves nothing of weft\'s and everything else', async () => {
    const { kernel, host, reset, nft } = await world();
    for (const item of (await reset.plan({ state: false })).items) await item.remove();
    expect((await host.listLinks()).map((l) => l.name).sort()).toEqual(['br0', 'lo', 'wb-000099']);
    expect(await kernel.listNamedNetns()).toEqual(['cni-1', vnfNetnsName('h1', { kind: 'Firewall', name: 'unproven' }), vnfNetnsName('h2', FW), 'wr-0000bbbb'].sort());
    expect(nft.tables).toEqual([{ family: 'inet', name: 'filter' }, { family: 'ip', name: 'weft-isolation' }]);
    expect((await reset.plan({ state: false })).items).toEqual([]);
  });

  test("a router's external macvlan goes with its namespace; the host interface it sat on stays", async () => {
    const { kernel, host, nft } = await world();
    const RT = { kind: 'Router', name: 'edge' };
    const rtNs = await kernel.createNamedNetns(vnfNetnsName('h1', RT));
    const bridge = await host.getLink('wb-000010');
    const port = await host.addVeth({ name: 'wf-00000002', mtu: 1450, master: bridge?.index ?? 0, up: true, peer: { name: 'n-blue', netns: rtNs, up: true } });
    await host.setLinkAlias(port.index, vnfAlias(RT, 'blue'));
    const segment = await kernel.createNamedNetns('segment');
    const eth1 = await host.addVeth({ name: 'eth1', mtu: 1500, up: true, peer: { name: 'eth0', netns: segment, up: true } });
    await host.addMacvlan({ name: 'external', parent: eth1.index, netns: rtNs });
    const reset = new HostReset({ host, namespaces: kernel, nft, hostName: 'h1', stateDir: '/nonexistent/weft-test-state', records: [], plan: undefined });
    const items = (await reset.plan({ state: false })).items;
    expect(items.map((i) => `${i.kind} ${i.name}`)).toContain(`netns ${vnfNetnsName('h1', RT)}`);
    expect(items.map((i) => i.name)).not.toContain('eth1');
    for (const item of items) await item.remove();
    expect(await kernel.listNamedNetns()).not.toContain(vnfNetnsName('h1', RT));
    expect(await host.getLink('eth1')).toMatchObject({ kind: 'veth', up: true });
    const seg = await kernel.at(segment);
    expect((await seg.listLinks()).map((l) => l.name).sort()).toEqual(['eth0', 'lo']);
    seg.close();
  });
});
