// Router documents: the schema, the semantic checks, and the refusals of
// what is not supported yet (each names its field and says what works).
import { kindFromName } from '../../../model/kinds.js';
import { parseIssues } from './support/parse-issues.js';

const base = { host: 'h1', interfaces: [{ network: 'blue' }, { network: 'red' }] };
const out = { ...base, external: { mode: 'host' } };

const issues = (spec: Record<string, unknown>) => parseIssues('Router', spec);

const fwd = (port: number, protocol = 'tcp') => ({ protocol, port, to: { endpoint: 'web1', port: 80 } });

describe('Router validation', () => {
  test.each([
    ['no interface', { ...base, interfaces: [] }, '/spec/interfaces', 'at least 1'],
    ['nine interfaces', { ...base, interfaces: Array.from({ length: 9 }, (_, i) => ({ network: `n${i}` })) }, '/spec/interfaces', 'at most 8'],
    ['an interface on a network twice', { ...base, interfaces: [{ network: 'blue' }, { network: 'blue' }] }, '/spec/interfaces/1/network', 'listed twice (also /spec/interfaces/0)'],
    ['an IPv6 interface address', { ...base, interfaces: [{ network: 'blue', ip: 'fd00::1' }] }, '/spec/interfaces/0/ip', 'IPv6 on router interfaces is not supported yet'],
    ['an interface address that is no address', { ...base, interfaces: [{ network: 'blue', ip: 'ten' }] }, '/spec/interfaces/0/ip', 'not an IPv4 address'],
    ['external mode interface', { ...base, external: { mode: 'interface' } }, '/spec/external/mode', 'not supported yet; use mode: host'],
    ['an unknown external mode', { ...base, external: { mode: 'bridge' } }, '/spec/external/mode', 'host, interface'],
    ['external.interface in mode host', { ...base, external: { interface: 'eth1' } }, '/spec/external/interface', 'belongs to mode: interface, which is not supported yet'],
    ['external.address', { ...base, external: { address: '203.0.113.10/24' } }, '/spec/external/address', 'not supported yet'],
    ['external.gateway', { ...base, external: { gateway: '203.0.113.1' } }, '/spec/external/gateway', 'not supported yet'],
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
    ['a floating IP in mode host', { ...out, floatingIPs: [{ address: '203.0.113.20', endpoint: 'web1' }] }, '/spec/floatingIPs', 'not supported yet; use portForwards in mode host'],
  ])('%s', (_what, spec, path, message) => {
    expect(issues(spec)).toContainEqual({ path, message: expect.stringContaining(message) });
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
