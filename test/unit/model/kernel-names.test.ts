import { bridgeName, endpointAlias, endpointName, hostVethName, IFNAME_MAX, parseOwnerAlias } from '../../../model/kernel-names.js';
import { DNS_SUBDOMAIN_PATTERN } from '../../../model/meta.js';

test('kernel names are deterministic and fit IFNAMSIZ', () => {
  expect(bridgeName(0x12a)).toBe('wb-00012a');
  expect(bridgeName(0xffffff).length).toBeLessThanOrEqual(IFNAME_MAX);
  const v = hostVethName('0123456789abcdef'.repeat(4), 'eth0');
  expect(v).toMatch(/^wv-[0-9a-f]{8}$/);
  expect(hostVethName('0123456789abcdef'.repeat(4), 'eth0')).toBe(v);
  expect(hostVethName('0123456789abcdef'.repeat(4), 'eth1')).not.toBe(v);
});

test('owner alias round-trips', () => {
  expect(parseOwnerAlias(endpointAlias('web.eth0'))).toEqual({ type: 'ep', name: 'web.eth0' });
  expect(parseOwnerAlias('something else')).toBeUndefined();
  expect(parseOwnerAlias(undefined)).toBeUndefined();
});

test.each([
  ['web-1', 'eth0'],
  ['0123456789abcdef'.repeat(4), 'eth0'],
  ['My_Container', 'net1'],
  ['--weird--', 'Eth_0'],
])('endpoint name for %s/%s is a DNS subdomain', (cid, ifn) => {
  const name = endpointName(cid, ifn);
  expect(name).toMatch(new RegExp(DNS_SUBDOMAIN_PATTERN));
  expect(name.length).toBeLessThanOrEqual(253);
});

test('sanitised endpoint names stay distinct', () => {
  expect(endpointName('A', 'eth0')).not.toBe(endpointName('a', 'eth0'));
});
