import { diffSnapshots, snapshotOf } from '../../../../controller/watch/watch-diff.js';
import type { Network } from '../../../../model/kinds.js';

const net = (name: string, spec: Network['spec'], extra: Partial<Network> = {}): Network => ({ apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec, ...extra });

describe('diffSnapshots', () => {
  test('added and modified in the new order, then deleted as they last were', () => {
    const before = snapshotOf([net('a', { subnet: '10.1.0.0/24' }), net('b', { subnet: '10.2.0.0/24' }), net('c', { subnet: '10.3.0.0/24' })]);
    const after = snapshotOf([net('d', { subnet: '10.4.0.0/24' }), net('a', { subnet: '10.1.0.0/24', mtu: 1400 }), net('c', { subnet: '10.3.0.0/24' })]);
    expect(diffSnapshots(before, after).map((c) => `${c.type} ${c.object.metadata.name}`)).toEqual(['added d', 'modified a', 'deleted b']);
  });

  test('a status-only change is a modification', () => {
    const before = snapshotOf([net('a', { subnet: '10.1.0.0/24' }, { status: { endpoints: 0 } })]);
    const after = snapshotOf([net('a', { subnet: '10.1.0.0/24' }, { status: { endpoints: 1 } })]);
    expect(diffSnapshots(before, after).map((c) => c.type)).toEqual(['modified']);
  });

  test('undefined fields are no change; the same view built again is no change', () => {
    const before = snapshotOf([{ ...net('a', { subnet: '10.1.0.0/24', mtu: 1400 }), metadata: { name: 'a', labels: undefined } } as Network]);
    const after = snapshotOf([net('a', { subnet: '10.1.0.0/24', mtu: 1400 })]);
    expect(diffSnapshots(before, after)).toEqual([]);
  });

  test('keys in another order read differently: at worst a needless modified, never a missed change', () => {
    const before = snapshotOf([{ spec: { mtu: 1400, subnet: '10.1.0.0/24' }, metadata: { name: 'a' }, kind: 'Network', apiVersion: 'weft.dev/v1' } as Network]);
    const after = snapshotOf([net('a', { subnet: '10.1.0.0/24', mtu: 1400 })]);
    expect(diffSnapshots(before, after).map((c) => c.type)).toEqual(['modified']);
  });
});
