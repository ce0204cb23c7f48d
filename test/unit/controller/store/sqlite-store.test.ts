import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import type { Host } from '../../../../model/kinds.js';
import { network } from '../support/harness.js';

describe('SqliteStore', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = new SqliteStore(':memory:');
  });
  afterEach(() => store.close());

  test('every changing transaction takes the next revision, shared by all its writes', () => {
    expect(store.revision()).toBe(0);
    const [a, b] = store.write((tx) => [tx.putResource(network('a', { subnet: '10.0.0.0/24' })), tx.putResource(network('b', { subnet: '10.1.0.0/24' }))]);
    expect(store.revision()).toBe(1);
    expect(a?.resource.metadata.resourceVersion).toBe('1');
    expect(b?.resource.metadata.resourceVersion).toBe('1');
    store.write((tx) => tx.addBlock({ network: 'a', cidr: '10.0.0.0/26', host: 'h1' }));
    expect(store.revision()).toBe(2);
  });

  test('revisions never go backwards over many writes', () => {
    let last = store.revision();
    for (let i = 0; i < 50; i++) {
      store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24', mtu: 1300 + i })));
      const now = store.revision();
      expect(now).toBeGreaterThan(last);
      last = now;
    }
  });

  test('writing an identical resource changes nothing and does not bump the revision', () => {
    store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' }, { x: 'y' })));
    const rev = store.revision();
    const out = store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' }, { x: 'y' })));
    expect(out.action).toBe('unchanged');
    expect(store.revision()).toBe(rev);
  });

  test('uid and creationTimestamp are set once; generation moves only with the spec', () => {
    const first = store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' }))).resource;
    expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.metadata.generation).toBe(1);
    const labelled = store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' }, { team: 'x' }))).resource;
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.metadata.uid).toBe(first.metadata.uid);
    expect(labelled.metadata.creationTimestamp).toBe(first.metadata.creationTimestamp);
    const changed = store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24', mtu: 1400 }, { team: 'x' }))).resource;
    expect(changed.metadata.generation).toBe(2);
    expect(Number(changed.metadata.resourceVersion)).toBeGreaterThan(Number(labelled.metadata.resourceVersion));
  });

  test('a transaction that throws stores nothing and keeps the revision', () => {
    store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' })));
    expect(() =>
      store.write((tx) => {
        tx.putResource(network('b', { subnet: '10.1.0.0/24' }));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.revision()).toBe(1);
    expect(store.read((r) => r.getResource('Network', 'b'))).toBeUndefined();
  });

  test('simulate returns the result and rolls everything back', () => {
    const out = store.simulate((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' })).action);
    expect(out).toBe('created');
    expect(store.revision()).toBe(0);
    expect(store.read((r) => r.listResources('Network'))).toEqual([]);
  });

  test('commit listeners hear changing commits only', () => {
    const heard: number[] = [];
    const off = store.onCommit((rev) => heard.push(rev));
    store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' })));
    store.write((tx) => tx.putResource(network('a', { subnet: '10.0.0.0/24' })));
    store.write((tx) => tx.getResource('Network', 'a'));
    off();
    store.write((tx) => tx.deleteResource('Network', 'a'));
    expect(heard).toEqual([1]);
  });

  test('nested writes are refused', () => {
    expect(() => store.write(() => store.write(() => 1))).toThrow(/inside a write/);
  });

  test('reservations and endpoint records keep addresses unique per network', () => {
    store.write((tx) => tx.putReservation({ network: 'a', ip: '10.0.0.5', owner: 'c1', host: 'h1', source: 'agent' }));
    expect(store.read((r) => r.getReservation('a', '10.0.0.5'))).toEqual({ network: 'a', ip: '10.0.0.5', owner: 'c1', host: 'h1', source: 'agent' });
    const ep = (name: string, ip: string) => ({
      apiVersion: 'weft.dev/v1' as const,
      kind: 'Endpoint' as const,
      metadata: { name },
      spec: { network: 'a', host: 'h1', containerId: name, ifname: 'eth0', ip },
    });
    store.write((tx) => tx.putEndpointRecord(ep('x', '10.0.0.9')));
    expect(() => store.write((tx) => tx.putEndpointRecord(ep('y', '10.0.0.9')))).toThrow(/UNIQUE/);
    expect(store.read((r) => r.findEndpointRecordByIp('a', '10.0.0.9'))?.metadata.name).toBe('x');
  });

  test('counting endpoint records agrees with listing them, for every filter', () => {
    const ep = (name: string, network: string, host: string, ip: string) => ({
      apiVersion: 'weft.dev/v1' as const,
      kind: 'Endpoint' as const,
      metadata: { name },
      spec: { network, host, containerId: name, ifname: 'eth0', ip },
    });
    store.write((tx) => {
      tx.putEndpointRecord(ep('a1', 'a', 'h1', '10.0.0.1'));
      tx.putEndpointRecord(ep('a2', 'a', 'h2', '10.0.0.2'));
      tx.putEndpointRecord(ep('b1', 'b', 'h1', '10.0.1.1'));
    });
    const filters = [{}, { host: 'h1' }, { host: 'h2' }, { host: 'h3' }, { network: 'a' }, { network: 'b', host: 'h1' }, { network: 'b', host: 'h2' }];
    const counts = store.read((r) => filters.map((f) => r.countEndpointRecords(f)));
    expect(counts).toEqual([3, 2, 1, 0, 2, 1, 0]);
    expect(counts).toEqual(store.read((r) => filters.map((f) => r.listEndpointRecords(f).length)));
  });

  test('all state survives closing and reopening the database file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-store-'));
    try {
      const path = join(dir, 'weft.db');
      const s1 = new SqliteStore(path);
      s1.write((tx) => {
        tx.putResource(network('a', { subnet: '10.0.0.0/24' }));
        tx.setVni('a', 4096);
        tx.addBlock({ network: 'a', cidr: '10.0.0.64/26', host: 'h1' });
        tx.putReservation({ network: 'a', ip: '10.0.0.70', owner: 'c1', host: 'h1', source: 'agent' });
        const host: Host = { apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h1' }, spec: {}, status: { underlayMtu: 9000 } };
        tx.putResource(host);
      });
      const rev = s1.revision();
      s1.close();
      const s2 = new SqliteStore(path);
      expect(s2.revision()).toBe(rev);
      s2.read((r) => {
        expect(r.getResource('Network', 'a')?.spec.subnet).toBe('10.0.0.0/24');
        expect(r.getVni('a')).toBe(4096);
        expect(r.listBlocks()).toEqual([{ network: 'a', cidr: '10.0.0.64/26', host: 'h1' }]);
        expect(r.listReservations()).toHaveLength(1);
        expect(r.getResource('Host', 'h1')?.status?.underlayMtu).toBe(9000);
      });
      s2.write((tx) => tx.deleteBlock('a', '10.0.0.64/26'));
      expect(s2.revision()).toBe(rev + 1);
      s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
