// Router documents: the schema, the semantic checks, and the refusals of
// what is not supported (each names its field and says what works).
import { kindFromName } from '../../../model/kinds.js';
import { parseIssues } from './support/parse-issues.js';

const base = { host: 'h1', interfaces: [{ network: 'blue' }, { network: 'red' }] };
const out = { ...base, external: { mode: 'host' } };
const seg = { ...base, external: { mode: 'interface', interface: 'eth1', address: '203.0.113.10/24', gateway: '203.0.113.1' } };
const withExternal = (external: Record<string, unknown>) => ({ ...base, external: { ...seg.external, ...external } });
const fip = (address: string, endpoint = 'web1') => ({ address, endpoint });

const issues = (spec: Record<string, unknown>) => parseIssues('Router', spec);

const fwd = (port: number, protocol = 'tcp') => ({ protocol, port, to: { endpoint: 'web1', port: 80 } });

describe('Router validation', () => {
  test.each([
    ['no interface', { ...base, interfaces: [] }, '/spec/interfaces', 'at least 1'],
    ['nine interfaces', { ...base, interfaces: Array.from({ length: 9 }, (_, i) => ({ network: `n${i}` })) }, '/spec/interfaces', 'at most 8'],
    ['an interface on a network twice', { ...base, interfaces: [{ network: 'blue' }, { network: 'blue' }] }, '/spec/interfaces/1/network', 'listed twice (also /spec/interfaces/0)'],
    ['an IPv6 interface address', { ...base, interfaces: [{ network: 'blue', ip: 'fd00::1' }] }, '/spec/interfaces/0/ip', 'IPv6 on router interfaces is not supported yet'],
    ['an interface address that is no address', { ...base, interfaces: [{ network: 'blue', ip: 'ten' }] }, '/spec/interfaces/0/ip', 'not an IPv4 address'],
    ['mode interface without interface, address and gateway', { ...base, external: { mode: 'interface' } }, '/spec/external', 'mode interface needs external.interface, external.address, external.gateway'],
    ['mode interface without gateway', withExternal({ gateway: undefined }), '/spec/external', 'mode interface needs external.gateway:'],
    ['an external interface name past 15 bytes', withExternal({ interface: 'eth1-is-too-long' }), '/spec/external/interface', 'has an invalid format'],
    ['an external interface named like a weft bridge', withExternal({ interface: 'wb-00000a' }), '/spec/external/interface', '"wb-00000a" is named like weft\'s own links (a bridge)'],
    ['an external address without a prefix length', withExternal({ address: '203.0.113.10' }), '/spec/external/address', 'not an IPv4 address with a prefix length'],
    ['an external address that is a network address', withExternal({ address: '203.0.113.0/24' }), '/spec/external/address', 'is the network address of 203.0.113.0/24'],
    ['an external /32', withExternal({ address: '203.0.113.10/32' }), '/spec/external/address', '/32 leaves no room'],
    ['a gateway outside the external subnet', withExternal({ gateway: '198.51.100.1' }), '/spec/external/gateway', 'gateway 198.51.100.1 is not a host address of the external subnet 203.0.113.0/24'],
    ['a gateway that is the router\'s own address', withExternal({ gateway: '203.0.113.10' }), '/spec/external/gateway', 'is the router\'s own address'],
    ['a gateway that is not an address', withExternal({ gateway: 'gw' }), '/spec/external/gateway', 'not an IPv4 address'],
    ['an unknown external mode', { ...base, external: { mode: 'bridge' } }, '/spec/external/mode', 'host, interface'],
    ['external.interface in mode host', { ...base, external: { interface: 'eth1' } }, '/spec/external/interface', 'belongs to mode: interface; remove it, or set mode: interface'],
    ['external.address in mode host', { ...base, external: { address: '203.0.113.10/24' } }, '/spec/external/address', 'belongs to mode: interface'],
    ['external.gateway in mode host', { ...base, external: { gateway: '203.0.113.1' } }, '/spec/external/gateway', 'belongs to mode: interface'],
    ['snat: false in mode host', { ...base, external: { mode: 'host', snat: false } }, '/spec/external/snat', 'snat: false is not supported in mode host'],
    ['a misspelled external field', { ...base, external: { snatt: true } }, '/spec/external/snatt', 'unknown field'],
    ['a route to host bits', { ...base, routes: [{ to: '192.0.2.1/24', via: '10.0.0.254' }] }, '/spec/routes/0/to', 'host bits'],
    ['an IPv6 route', { ...base, routes: [{ to: '2001:db8::/32', via: '10.0.0.254' }] }, '/spec/routes/0/to', 'IPv6 routes are not supported yet'],
    ['a default route', { ...base, routes: [{ to: '0.0.0.0/0', via: '10.0.0.254' }] }, '/spec/routes/0/to', 'give the router external'],
    ['a destination routed twice', { ...base, routes: [{ to: '192.0.2.0/24', via: '10.0.0.254' }, { to: '192.0.2.0/24', via: '10.0.0.253' }] }, '/spec/routes/1/to', 'routed twice (also /spec/routes/0)'],
    ['an IPv6 next hop', { ...base, routes: [{ to: '192.0.2.0/24', via: 'fd00::1' }] }, '/spec/routes/0/via', 'IPv6 next hops are not supported yet'],
    ['a route without via', { ...base, routes: [{ to: '192.0.2.0/24' }] }, '/spec/routes/0/via', 'required field "via" is missing'],
    ['port forwards without external', { ...base, portForwards: [fwd(8080)] }, '/spec/portForwards', 'add external: {mode: host}'],
    ['a port taken twice', { ...out, portForwards: [fwd(8080), fwd(8080)] }, '/spec/portForwards/1/port', 'tcp/8080 is published twice (also /spec/portForwards/0)'],
    ['port 0', { ...out, portForwards: [fwd(0)] }, '/spec/portForwards/0/port', '>= 1'],
    ['an sctp port forward', { ...out, portForwards: [fwd(8080, 'sctp')] }, '/spec/portForwards/0/protocol', 'tcp, udp'],
    ['a floating IP in mode host', { ...out, floatingIPs: [fip('203.0.113.20')] }, '/spec/floatingIPs', 'only external mode: interface has (this router has mode host)'],
    ['a floating IP without external', { ...base, floatingIPs: [fip('203.0.113.20')] }, '/spec/floatingIPs', '(this router has no external)'],
    ['a floating IP outside the external subnet', { ...seg, floatingIPs: [fip('198.51.100.20')] }, '/spec/floatingIPs/0/address', 'floating IP 198.51.100.20 is outside the external subnet 203.0.113.0/24'],
    ['a floating IP that is the broadcast address', { ...seg, floatingIPs: [fip('203.0.113.255')] }, '/spec/floatingIPs/0/address', 'is the broadcast address of the external subnet'],
    ['a floating IP that is the router\'s address', { ...seg, floatingIPs: [fip('203.0.113.10')] }, '/spec/floatingIPs/0/address', 'is the router\'s own address (external.address)'],
    ['a floating IP that is the gateway', { ...seg, floatingIPs: [fip('203.0.113.1')] }, '/spec/floatingIPs/0/address', 'is the segment\'s gateway'],
    ['a floating IP used twice', { ...seg, floatingIPs: [fip('203.0.113.20'), fip('203.0.113.20', 'web2')] }, '/spec/floatingIPs/1/address', 'floating IP 203.0.113.20 is used twice (also /spec/floatingIPs/0)'],
    ['two floating IPs to one endpoint', { ...seg, floatingIPs: [fip('203.0.113.20'), fip('203.0.113.21')] }, '/spec/floatingIPs/1/endpoint', 'endpoint "web1" already has a floating IP (/spec/floatingIPs/0)'],
    ['a floating IP with a prefix length', { ...seg, floatingIPs: [fip('203.0.113.20/32')] }, '/spec/floatingIPs/0/address', 'write the address without a prefix length'],
    ['an IPv6 floating IP', { ...seg, floatingIPs: [fip('2001:db8::20')] }, '/spec/floatingIPs/0/address', 'IPv6 floating IPs are not supported yet'],
  ])('%s', (_what, spec, path, message) => {
    expect(issues(spec)).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  test('mode interface with snat false, port forwards and floating IPs passes', () => {
    expect(issues({ ...withExternal({ snat: false }), portForwards: [fwd(8080)], floatingIPs: [fip('203.0.113.20'), fip('203.0.113.21', 'web2')] })).toEqual([]);
  });

  test('the same port on tcp and udp is two forwards', () => {
    expect(issues({ ...out, portForwards: [fwd(53), fwd(53, 'udp')] })).toEqual([]);
  });

  test('a good router passes, and `rt` names the kind', () => {
    expect(issues({ ...out, external: { mode: 'host', snat: true }, routes: [{ to: '192.0.2.0/24', via: '10.20.0.254' }], portForwards: [fwd(8080)] })).toEqual([]);
    expect(issues({ host: 'h1', interfaces: [{ network: 'blue', ip: '10.0.0.254' }] })).toEqual([]);
    expect(kindFromName('rt')).toBe('Router');
    expect(kindFromName('routers')).toBe('Router');
  });
});
