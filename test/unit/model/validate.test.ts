import { checkNetworkOverlap, checkShape, parseResource } from '../../../model/validate.js';
import { WeftError } from '../../../model/errors.js';
import type { Network } from '../../../model/kinds.js';

function net(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name }, spec, ...extra };
}

function issuesOf(doc: unknown): { path: string; message: string }[] {
  try {
    parseResource(doc);
    return [];
  } catch (e) {
    if (!(e instanceof WeftError)) throw e;
    return e.details;
  }
}

describe('parseResource accepts valid documents', () => {
  test.each([
    ['minimal network', net('blue', { subnet: '10.10.0.0/24' })],
    ['network with gateway, mtu, vni, v6', net('red-2', { subnet: '100.64.0.0/16', gateway: '100.64.0.254', mtu: 1450, vni: 42, subnet6: 'fd00:1::/64', gateway6: 'fd00:1::1' })],
    ['endpoint', { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'web-1.eth0', labels: { app: 'web' } }, spec: { network: 'blue', host: 'h1', containerId: 'web-1', ifname: 'eth0', ip: '10.10.0.9', mac: '02:00:00:00:00:01' } }],
    ['host', { apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h1' }, spec: { address: '198.18.0.11' } }],
  ])('%s', (_name, doc) => {
    expect(issuesOf(doc)).toEqual([]);
  });
});

describe('parseResource rejects invalid documents at the right field', () => {
  test.each([
    ['not an object', 'hello', '', /must be an object/],
    ['missing apiVersion', { kind: 'Network', metadata: { name: 'a' }, spec: { subnet: '10.0.0.0/24' } }, '/apiVersion', /missing/],
    ['wrong apiVersion', net('a', { subnet: '10.0.0.0/24' }, { apiVersion: 'v2' }), '/apiVersion', /unsupported apiVersion/],
    ['unknown kind with suggestion', { apiVersion: 'weft.dev/v1', kind: 'Netwrok', metadata: { name: 'a' }, spec: {} }, '/kind', /did you mean "Network"/],
    ['name with uppercase', net('Blue', { subnet: '10.0.0.0/24' }), '/metadata/name', /invalid format/],
    ['name too long', net('a'.repeat(64), { subnet: '10.0.0.0/24' }), '/metadata/name', /at most 63/],
    ['name with underscore', net('a_b', { subnet: '10.0.0.0/24' }), '/metadata/name', /invalid format/],
    ['missing subnet', net('a', {}), '/spec/subnet', /required field "subnet"/],
    ['unknown spec field, misspelled', net('a', { subnet: '10.0.0.0/24', gatway: '10.0.0.1' }), '/spec/gatway', /did you mean "gateway"/],
    ['subnet wrong type', net('a', { subnet: 24 }), '/spec/subnet', /must be string, got number/],
    ['subnet garbage', net('a', { subnet: '10.0.0/24' }), '/spec/subnet', /not a valid IPv4 network/],
    ['subnet with host bits', net('a', { subnet: '10.0.0.1/24' }), '/spec/subnet', /host bits are set; the network address is 10\.0\.0\.0\/24/],
    ['subnet /31', net('a', { subnet: '10.0.0.0/31' }), '/spec/subnet', /\/31 is not allowed/],
    ['subnet /32', net('a', { subnet: '10.0.0.1/32' }), '/spec/subnet', /\/32 is not allowed/],
    ['ipv6 in subnet', net('a', { subnet: 'fd00::/64' }), '/spec/subnet', /subnet6/],
    ['gateway outside subnet', net('a', { subnet: '10.0.0.0/24', gateway: '10.0.1.1' }), '/spec/gateway', /not a usable address/],
    ['gateway is the broadcast', net('a', { subnet: '10.0.0.0/24', gateway: '10.0.0.255' }), '/spec/gateway', /not a usable address/],
    ['gateway not an address', net('a', { subnet: '10.0.0.0/24', gateway: 'router' }), '/spec/gateway', /not an IPv4 address/],
    ['mtu too small', net('a', { subnet: '10.0.0.0/24', mtu: 500 }), '/spec/mtu', />= 1280/],
    ['mtu too large', net('a', { subnet: '10.0.0.0/24', mtu: 65000 }), '/spec/mtu', /<= 9000/],
    ['mtu not integer', net('a', { subnet: '10.0.0.0/24', mtu: 1400.5 }), '/spec/mtu', /integer/],
    ['vni out of range', net('a', { subnet: '10.0.0.0/24', vni: 16777216 }), '/spec/vni', /<= 16777215/],
    ['subnet6 with host bits', net('a', { subnet: '10.0.0.0/24', subnet6: 'fd00::1/64' }), '/spec/subnet6', /host bits/],
    ['gateway6 without subnet6', net('a', { subnet: '10.0.0.0/24', gateway6: 'fd00::1' }), '/spec/gateway6', /needs subnet6/],
    ['subnet6 smaller than subnet', net('a', { subnet: '10.0.0.0/16', subnet6: 'fd00::/120' }), '/spec/subnet6', /subnet6 \/120 has fewer addresses than subnet \/16: each endpoint's IPv6 address sits at its IPv4 address's offset/],
    ['unknown top-level field', net('a', { subnet: '10.0.0.0/24' }, { extra: 1 }), '/extra', /unknown field/],
    ['bad label value', net('a', { subnet: '10.0.0.0/24' }, { metadata: { name: 'a', labels: { app: 'has space' } } }), '/metadata/labels/app', /invalid format/],
    ['ifname too long', { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'x' }, spec: { network: 'n', host: 'h', containerId: 'c', ifname: 'a-very-long-ifname' } }, '/spec/ifname', /invalid format/],
    ['endpoint multicast mac', { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'x' }, spec: { network: 'n', host: 'h', containerId: 'c', ifname: 'eth0', mac: '01:00:5e:00:00:01' } }, '/spec/mac', /multicast/],
    ['endpoint ip not ipv4', { apiVersion: 'weft.dev/v1', kind: 'Endpoint', metadata: { name: 'x' }, spec: { network: 'n', host: 'h', containerId: 'c', ifname: 'eth0', ip: '10.0.0.300' } }, '/spec/ip', /not an IPv4 address/],
  ])('%s', (_name, doc, path, message) => {
    const issues = issuesOf(doc);
    const hit = issues.find((i) => i.path === path);
    expect(hit).toBeDefined();
    expect(hit?.message).toMatch(message);
  });
});

test('every problem in one document is reported at once', () => {
  const issues = issuesOf(net('Bad_Name', { subnet: 'nope', mtu: 1, colour: 'red' }));
  expect(issues.map((i) => i.path).sort()).toEqual(['/metadata/name', '/spec/colour', '/spec/mtu']);
  // the subnet is checked semantically only once the shape is right
  expect(checkShape(net('ok', { subnet: 'nope' })).issues).toEqual([]);
});

test('overlapping networks are refused, the same name is not an overlap', () => {
  const a = net('a', { subnet: '10.0.0.0/16' }) as Network;
  const b = net('b', { subnet: '10.0.5.0/24' }) as Network;
  const c = net('c', { subnet: '10.1.0.0/24' }) as Network;
  expect(checkNetworkOverlap(b, [a, c])[0]?.message).toMatch(/overlaps network "a" \(10\.0\.0\.0\/16\)/);
  expect(checkNetworkOverlap(c, [a, b])).toEqual([]);
  expect(checkNetworkOverlap(a, [a])).toEqual([]);
});
