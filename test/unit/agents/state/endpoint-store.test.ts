import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeHarness, testPlan, type Harness } from '../support/harness.js';
import { toReport, type EndpointRecord } from '../../../../agents/state/endpoint-store.js';

const rec = (name: string, over: Partial<EndpointRecord> = {}): EndpointRecord => ({
  name, network: 'blue', containerId: name, ifname: 'eth0', ip: '100.64.0.5', mac: '02:00:00:00:00:05', hostIfname: `wv-${name}`,
  netns: '/run/netns/x', labels: { app: 'web' }, state: 'attached', prefixLength: 24, gateway: '100.64.0.1', mtu: 1450, origin: '', ...over,
});

describe('EndpointStore', () => {
  let h: Harness;
  afterEach(() => h.cleanup());

  test('keeps records, states, plan and blocks across a restart', () => {
    h = makeHarness();
    h.store.put(rec('a'));
    h.store.put(rec('b', { ip: '100.64.0.6', containerId: 'a', ifname: 'eth1' }));
    h.store.setState('b', 'deleting');
    h.store.savePlan(testPlan({ revision: 4, blocks: [{ network: 'blue', cidr: '100.64.0.64/26' }] }));
    const again = h.restart();
    h = again;
    expect(h.store.get('a')).toEqual(rec('a'));
    expect(h.store.byContainer('a').map((r) => [r.name, r.state])).toEqual([['a', 'attached'], ['b', 'deleting']]);
    expect(h.store.byHostIfname('wv-b')?.name).toBe('b');
    expect(h.store.list({ state: 'attached' }).map((r) => r.name)).toEqual(['a']);
    expect(h.store.countAttached()).toBe(1);
    expect([h.store.ownerOf('blue', '100.64.0.5'), h.store.ownerOf('blue', '100.64.0.6'), h.store.ownerOf('blue', '100.64.0.7')]).toEqual(['a', 'b', undefined]);
    expect(h.store.loadPlan()?.revision).toBe(4);
    expect(h.store.blocks()).toEqual([{ network: 'blue', cidr: '100.64.0.64/26' }]);
    expect(h.plan.current()?.revision).toBe(4);
    expect(h.plan.source()).toBe('cache');
    h.store.remove('a');
    expect(h.store.get('a')).toBeUndefined();
  });

  test('opens a state file written before records kept their namespace identity and where to check it', () => {
    h = makeHarness();
    h.store.put(rec('a', { netnsId: '4:4026532288', netnsCheckAt: '/proc/42/root/run/netns/a' }));
    const db = new Database(join(h.dir, 'agent.db'));
    db.exec('ALTER TABLE endpoints DROP COLUMN netns_id');
    db.exec('ALTER TABLE endpoints DROP COLUMN netns_check_at');
    db.close();
    h = h.restart();
    expect(h.store.get('a')).toEqual(rec('a'));
    h.store.put(rec('b', { ip: '100.64.0.6', netnsId: '4:4026532289', netnsCheckAt: '/proc/43/root/run/netns/b' }));
    expect(h.store.get('b')).toMatchObject({ netnsId: '4:4026532289', netnsCheckAt: '/proc/43/root/run/netns/b' });
  });

  test('keeps the IPv6 side of a dual-stack endpoint, in its record and its report', () => {
    h = makeHarness();
    const dual = rec('d', { ip6: 'fd00:10::5', prefixLength6: 64, gateway6: 'fd00:10::1' });
    h.store.put(dual);
    h.store.put(rec('v4', { ip: '100.64.0.6' }));
    h = h.restart();
    expect(h.store.get('d')).toEqual(dual);
    expect(h.store.get('v4')).toEqual(rec('v4', { ip: '100.64.0.6' }));
    expect(h.store.get('v4')?.ip6).toBeUndefined();
    expect(toReport(h.store.get('d') as EndpointRecord).ip6).toBe('fd00:10::5');
    expect('ip6' in toReport(h.store.get('v4') as EndpointRecord)).toBe(false);
  });

  test('opens a state file written before records kept IPv6 addresses: its records are IPv4-only, new ones keep theirs', () => {
    h = makeHarness();
    h.store.put(rec('a'));
    const db = new Database(join(h.dir, 'agent.db'));
    for (const column of ['ip6', 'prefix_length6', 'gateway6']) db.exec(`ALTER TABLE endpoints DROP COLUMN ${column}`);
    db.close();
    h = h.restart();
    expect(h.store.get('a')).toEqual(rec('a'));
    h.store.put(rec('b', { ip: '100.64.0.6', ip6: 'fd00:10::6', prefixLength6: 64, gateway6: 'fd00:10::1' }));
    expect(h.store.get('b')).toMatchObject({ ip6: 'fd00:10::6', prefixLength6: 64, gateway6: 'fd00:10::1' });
  });

  test('one record per container interface and per host veth', () => {
    h = makeHarness();
    h.store.put(rec('a'));
    expect(() => h.store.put(rec('other', { containerId: 'a' }))).toThrow();
    expect(() => h.store.put(rec('other2', { hostIfname: 'wv-a', containerId: 'z' }))).toThrow();
  });

  test('keeps who made each record (CNI GC collects only its own)', () => {
    h = makeHarness();
    h.store.put(rec('a', { origin: 'cni:blue' }));
    h.store.put(rec('b', { ip: '100.64.0.6' }));
    expect(h.store.get('a')?.origin).toBe('cni:blue');
    expect(h.store.get('b')?.origin).toBe('');
  });

  test('a saved plan is written behind: on flushPlan (or a read of this store), and the latest of several only', () => {
    h = makeHarness({ plan: null });
    const onDisk = () => {
      const db = new Database(join(h.dir, 'agent.db'), { readonly: true });
      try {
        return (db.prepare('SELECT revision FROM plan WHERE id = 1').get() as { revision: number } | undefined)?.revision;
      } finally {
        db.close();
      }
    };
    h.store.savePlan(testPlan({ revision: 3 }));
    h.store.savePlan(testPlan({ revision: 4 }));
    expect(onDisk()).toBeUndefined();
    h.store.flushPlan();
    expect(onDisk()).toBe(4);
    h.store.savePlan(testPlan({ revision: 5, blocks: [{ network: 'blue', cidr: '100.64.0.64/26' }] }));
    expect(h.store.blocks()).toEqual([{ network: 'blue', cidr: '100.64.0.64/26' }]);
    expect(onDisk()).toBe(5);
    h.store.savePlan(testPlan({ revision: 6 }));
    h.store.close();
    expect(onDisk()).toBe(6);
  });
});
