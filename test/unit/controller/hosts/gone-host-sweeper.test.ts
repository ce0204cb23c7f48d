import { GoneHostSweeper } from '../../../../controller/hosts/gone-host-sweeper.js';
import { LiveHosts } from '../../../../controller/hosts/live-hosts.js';
import type { EndpointReport } from '../../../../model/agent-protocol.js';
import { harness, network } from '../support/harness.js';

const rep = (name: string, ip: string): EndpointReport => ({
  name, network: 'n', containerId: name.split('.')[0] as string, ifname: 'eth0', ip, mac: '02:00:00:00:00:01', hostIfname: 'wv-1', netns: '/x', labels: {},
});

describe('GoneHostSweeper', () => {
  const T0 = 1_000_000;
  function setup() {
    const h = harness({ heartbeatTimeoutMs: 100, hostGoneAfterMs: 1_000, blockReclaimGraceMs: 5_000, startedAt: T0 });
    h.resources.createNetwork(network('n', { subnet: '10.0.0.0/24' }));
    h.handler.hello({ type: 'hello', host: 'h1', agentVersion: 't', appliedRevision: 0, endpoints: [rep('c1.eth0', '10.0.0.5')] }, T0);
    h.live.connected('h1', T0, 0);
    const sweeper = new GoneHostSweeper(h.store, h.live, h.config, h.logger);
    return { ...h, sweeper };
  }
  const records = (h: ReturnType<typeof setup>) => h.store.read((r) => r.listEndpointRecords().map((e) => e.metadata.name));

  test('a connected host, even a silent one, keeps its endpoints', () => {
    const h = setup();
    expect(h.sweeper.sweep(T0 + 10_000).size).toBe(0);
    expect(records(h)).toEqual(['c1.eth0']);
  });

  test('a disconnected host is NotReady within the grace period and keeps its endpoints; after it, they are withdrawn', () => {
    const h = setup();
    h.handler.requestStatic('h1', 'n', '10.0.0.200', 'c1');
    h.live.disconnected('h1', T0 + 100);
    const rev = h.store.revision();
    expect(h.sweeper.sweep(T0 + 1_099).size).toBe(0);
    expect(h.store.revision()).toBe(rev); // nothing to do: no write, no revision
    expect(records(h)).toEqual(['c1.eth0']);

    expect(h.sweeper.sweep(T0 + 1_100)).toEqual(new Map([['h1', ['c1.eth0']]]));
    expect(records(h)).toEqual([]);
    expect(h.store.revision()).toBe(rev + 1);
    // Blocks and the host's statics stay: the addresses are not anyone else's until the blocks are reclaimed.
    expect(h.store.read((r) => r.listBlocks({ host: 'h1' }).length)).toBe(1);
    expect(h.store.read((r) => r.getReservation('n', '10.0.0.200'))).toMatchObject({ owner: 'c1', host: 'h1' });
    expect(h.sweeper.sweep(T0 + 2_000).size).toBe(0);
  });

  test('after a controller restart the grace period counts from the start, not the last heartbeat on record', () => {
    const h = setup();
    const fresh = new GoneHostSweeper(h.store, new LiveHosts(), { ...h.config, startedAt: T0 + 50_000 }, h.logger);
    expect(fresh.sweep(T0 + 50_500).size).toBe(0);
    expect(fresh.sweep(T0 + 51_000).get('h1')).toEqual(['c1.eth0']);
  });
});
