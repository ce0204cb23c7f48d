import { canonicalIp6, endpointIp6, ip4Preimage, ip6Hex, linkLocalOf, prefixLength6, subnet6Holds, isDualStack } from '../../../model/dual-stack.js';

describe('endpointIp6: the IPv6 address at the IPv4 address\'s offset', () => {
  test.each([
    ['10.1.0.0/16', 'fd00:1::/64', '10.1.2.5', 'fd00:1::205'],
    ['10.1.0.0/16', 'fd00:1::/64', '10.1.0.1', 'fd00:1::1'],
    ['10.1.0.0/16', 'fd00:1::/64', '10.1.255.254', 'fd00:1::fffe'],
    ['100.64.40.0/24', 'fd00:40::/120', '100.64.40.77', 'fd00:40::4d'],
    ['10.0.0.0/8', 'fd00:0:0:7::/64', '10.255.255.254', 'fd00::7:0:0:ff:fffe'],
    ['10.20.0.0/24', '2001:db8:0:1::/64', '10.20.0.10', '2001:db8:0:1::a'],
  ])('%s, %s: %s -> %s', (subnet, subnet6, ip, want) => {
    expect(endpointIp6({ subnet, subnet6 }, ip)).toBe(want);
  });

  test('is the kernel\'s canonical text form, so records, plans and `ip` listings compare as strings', () => {
    expect(endpointIp6({ subnet: '10.0.0.0/24', subnet6: 'FD00:0000:0000:0001::/64' }, '10.0.0.16')).toBe('fd00:0:0:1::10');
    expect(canonicalIp6('FD00:0:0:1:0:0:0:10')).toBe('fd00:0:0:1::10');
  });
});

describe('ip4Preimage: which IPv4 address maps onto an IPv6 one', () => {
  const net = { subnet: '10.1.0.0/16', subnet6: 'fd00:1::/64' };
  test.each([
    ['fd00:1::1', '10.1.0.1'],
    ['fd00:1::205', '10.1.2.5'],
    ['fd00:1::ffff', '10.1.255.255'],
    ['fd00:1::1:0', undefined], // past the IPv4 subnet's size
    ['fd00:2::1', undefined], // before or outside subnet6
  ])('%s -> %s', (ip6, want) => {
    expect(ip4Preimage(net, ip6)).toBe(want);
  });

  test('inverts endpointIp6', () => {
    for (const ip of ['10.1.0.2', '10.1.17.3', '10.1.255.254']) expect(ip4Preimage(net, endpointIp6(net, ip))).toBe(ip);
  });
});

test.each([
  ['02:42:ac:11:00:02', 'fe80::42:acff:fe11:2'],
  ['00:16:3e:aa:bb:cc', 'fe80::216:3eff:feaa:bbcc'],
  ['0a:77:00:00:00:01', 'fe80::877:ff:fe00:1'],
])('linkLocalOf(%s) is the modified EUI-64 address %s', (mac, want) => {
  expect(linkLocalOf(mac)).toBe(want);
});

test('linkLocalOf refuses what is no MAC', () => {
  expect(() => linkLocalOf('02:42:ac:11:00')).toThrow(/not a MAC address/);
});

test.each([
  [24, 120, true],
  [24, 121, false],
  [16, 112, true],
  [16, 113, false],
  [8, 64, true],
])('an IPv4 /%i fits in an IPv6 /%i: %s', (len4, len6, fits) => {
  expect(subnet6Holds(len4, len6)).toBe(fits);
});

test('ip6Hex writes the 128 bits as one hex number', () => {
  expect(ip6Hex('fd00:1::b')).toBe('0xfd00000100000000000000000000000b');
  expect(ip6Hex('fe80::ff:fe00:b')).toBe('0xfe80000000000000000000fffe00000b');
});

test('prefixLength6', () => {
  expect(prefixLength6('fd00:1::/64')).toBe(64);
  expect(prefixLength6('fd00:1::/120')).toBe(120);
});

test('a network is dual-stack when it has a subnet6 that holds every address of its subnet', () => {
  expect(isDualStack({ subnet: '10.1.0.0/24', subnet6: 'fd00:1::/64' })).toBe(true);
  expect(isDualStack({ subnet: '10.1.0.0/24', subnet6: 'fd00:1::/120' })).toBe(true);
  expect(isDualStack({ subnet: '10.1.0.0/16', subnet6: 'fd00:1::/120' })).toBe(false);
  expect(isDualStack({ subnet: '10.1.0.0/24' })).toBe(false);
});
