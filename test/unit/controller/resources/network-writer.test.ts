// writeNetwork: subnet6 and gateway6 of a network stay as they are while
// endpoints are attached (their IPv6 addresses and routes derive from them).
import { Ipam } from '../../../../controller/ipam/ipam.js';
import { writeNetwork } from '../../../../controller/resources/network-writer.js';
import { SqliteStore } from '../../../../controller/store/sqlite-store.js';
import type { Endpoint, Network } from '../../../../model/kinds.js';
import { caught } from '../support/caught.js';
import { network } from '../support/harness.js';

describe('writeNetwork and dual-stack', () => {
  let store: SqliteStore;
  const ipam = new Ipam();
  const write = (net: Network, mode: 'create' | 'update' = 'update') => store.write((tx) => writeNetwork(tx, ipam, net, mode));
  const attach = (name: string) =>
    store.write((tx) => {
      const rec: Endpoint = { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name }, spec: { network: 'n', host: 'h1', containerId: name, ifname: 'eth0', ip: '10.0.0.9' } };
      tx.putEndpointRecord(rec);
    });

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    write(network('n', { subnet: '10.0.0.0/24' }), 'create');
  });
  afterEach(() => store.close());

  test('subnet6 may be added, changed and dropped while no endpoint is attached', () => {
    expect(write(network('n', { subnet: '10.0.0.0/24', subnet6: 'fd00:1::/64' })).resource.spec.subnet6).toBe('fd00:1::/64');
    expect(write(network('n', { subnet: '10.0.0.0/24', subnet6: 'fd00:2::/64', gateway6: 'fd00:2::fe' })).resource.spec.gateway6).toBe('fd00:2::fe');
    expect(write(network('n', { subnet: '10.0.0.0/24' })).resource.spec.subnet6).toBeUndefined();
  });

  test.each([
    ['adding subnet6', { subnet6: 'fd00:1::/64' }, {}, '/spec/subnet6'],
    ['changing subnet6', { subnet6: 'fd00:2::/64' }, { subnet6: 'fd00:1::/64' }, '/spec/subnet6'],
    ['dropping subnet6', {}, { subnet6: 'fd00:1::/64' }, '/spec/subnet6'],
    ['changing gateway6', { subnet6: 'fd00:1::/64', gateway6: 'fd00:1::fe' }, { subnet6: 'fd00:1::/64' }, '/spec/gateway6'],
  ])('%s with an endpoint attached is a Conflict naming it, and changes nothing', (_what, next, before, field) => {
    write(network('n', { subnet: '10.0.0.0/24', ...before }));
    attach('web1');
    const e = caught(() => write(network('n', { subnet: '10.0.0.0/24', ...next })));
    expect(e.code).toBe('Conflict');
    expect(e.message).toBe('cannot change subnet6 or gateway6 of network "n" while endpoints are attached: "web1"; detach them first');
    expect(e.field).toBe(field);
    expect(store.read((r) => r.getResource('Network', 'n'))?.spec).toEqual({ subnet: '10.0.0.0/24', ...before });
  });
});
