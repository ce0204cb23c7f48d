import { bridgeName, endpointAlias, endpointMac, endpointName, hostVethName, IFNAME_MAX, parseOwnerAlias } from '../../../model/kernel-names.js';
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

test("an endpoint's MAC follows its address: locally administered, unicast, the same for the same address", () => {
  expect(endpointMac('10.30.0.2')).toBe('0a:58:0a:1e:00:02');
  expect(endpointMac('100.64.255.254')).toBe('0a:58:64:40:ff:fe');
  const first = parseInt(endpointMac('192.0.2.9').slice(0, 2), 16);
  expect(first & 0x02).toBe(0x02);
  expect(first & 0x01).toBe(0);
  expect(endpointMac('10.30.0.2')).not.toBe(endpointMac('10.30.0.3'));
});
