// SpoofGuard's bookkeeping against a recording PortGuard: the first write
// replaces the table, later ones send only what changed, for the ports (with
// their IPv6 addresses) and for the policed and no-ip6 interface sets.
import { SpoofGuard } from '../../../../agents/firewall/spoof-guard.js';
import type { GuardedPort, IfnameChange, PortGuard, SpoofReason } from '../../../../agents/datapath/policy-table-port.js';
import type { EndpointRecord } from '../../../../agents/state/endpoint-store.js';
import { makeHarness, silentLogger, type Harness } from '../support/harness.js';

type Call =
  | { op: 'replace'; ports: readonly GuardedPort[]; policed: readonly string[]; noIp6: readonly string[] }
  | { op: 'update'; add: readonly GuardedPort[]; remove: readonly GuardedPort[]; policed?: IfnameChange; noIp6?: IfnameChange };

class RecordingGuard implements PortGuard {
  readonly calls: Call[] = [];
  async replace(ports: readonly GuardedPort[], policed: readonly string[], noIp6: readonly string[]): Promise<void> {
    this.calls.push({ op: 'replace', ports, policed, noIp6 });
  }
  async update(add: readonly GuardedPort[], remove: readonly GuardedPort[], policed?: IfnameChange, noIp6?: IfnameChange): Promise<void> {
    this.calls.push({ op: 'update', add, remove, ...(policed ? { policed } : {}), ...(noIp6 ? { noIp6 } : {}) });
  }
  async spoofDrops(): Promise<Record<SpoofReason, number>> {
    return { ip: 0, mac: 0, arp: 0, ip6: 0, other: 0 };
  }
}

const rec = (name: string, ip: string, over: Partial<EndpointRecord> = {}): EndpointRecord => ({
  name, network: 'blue', containerId: name, ifname: 'eth0', ip, mac: '02:00:00:00:00:05', hostIfname: `wv-${name}`,
  netns: '/run/netns/x', labels: {}, state: 'attached', prefixLength: 24, gateway: '100.64.0.1', mtu: 1450, origin: '', ...over,
});

describe('SpoofGuard', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('a recorded dual-stack endpoint is a port with its IPv6 address; an IPv4-only one without', async () => {
    h = makeHarness();
    h.store.put(rec('d', '100.64.0.5', { ip6: 'fd00:10::5', prefixLength6: 64, gateway6: 'fd00:10::1' }));
    h.store.put(rec('v', '100.64.0.6', { mac: '02:00:00:00:00:06' }));
    const port = new RecordingGuard();
    await new SpoofGuard(silentLogger, h.store, port).sync([], []);
    expect(port.calls).toEqual([
      {
        op: 'replace',
        ports: [
          { ifname: 'wv-d', mac: '02:00:00:00:00:05', ip: '100.64.0.5', ip6: 'fd00:10::5' },
          { ifname: 'wv-v', mac: '02:00:00:00:00:06', ip: '100.64.0.6' },
        ],
        policed: [],
        noIp6: [],
      },
    ]);
  });

  test('after the first write, only changes: a port that gains a policy joins no-ip6, and leaves it when the policy goes', async () => {
    h = makeHarness();
    h.store.put(rec('d', '100.64.0.5', { ip6: 'fd00:10::5', prefixLength6: 64, gateway6: 'fd00:10::1' }));
    const port = new RecordingGuard();
    const guard = new SpoofGuard(silentLogger, h.store, port);
    await guard.sync([], []);
    await guard.sync([], []);
    expect(port.calls).toHaveLength(1); // nothing changed
    await guard.sync([], ['wv-d']);
    await guard.sync([], []);
    expect(port.calls.slice(1)).toEqual([
      { op: 'update', add: [], remove: [], policed: { add: [], remove: [] }, noIp6: { add: ['wv-d'], remove: [] } },
      { op: 'update', add: [], remove: [], policed: { add: [], remove: [] }, noIp6: { add: [], remove: ['wv-d'] } },
    ]);
  });

  test('an admitted dual-stack port goes in with its IPv6 address before its record exists', async () => {
    h = makeHarness();
    const port = new RecordingGuard();
    const guard = new SpoofGuard(silentLogger, h.store, port);
    await guard.sync([], []);
    const p: GuardedPort = { ifname: 'wv-n', mac: '02:00:00:00:00:07', ip: '100.64.0.7', ip6: 'fd00:10::7' };
    await guard.admit(p);
    expect(port.calls[1]).toEqual({ op: 'update', add: [p], remove: [] });
    await guard.unpin(p, true);
    expect(port.calls[2]).toEqual({ op: 'update', add: [], remove: [p] });
  });
});
