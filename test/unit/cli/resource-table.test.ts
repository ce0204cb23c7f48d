import type { Endpoint, Host, Network, Router } from '../../../model/kinds.js';
import { matchesLabels, renderResourceTable } from '../../../cli/resource-table.js';
import { formatAge, renderTable } from '../../../cli/table.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');

const net = (name: string, over: Partial<Network> = {}): Network => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Network',
  metadata: { name, creationTimestamp: '2026-01-10T11:00:00Z', labels: { env: 'dev' } },
  spec: { subnet: '10.10.0.0/24' },
  ...over,
});

describe('tables', () => {
  it('pads columns with three spaces and trims the last one', () => {
    expect(renderTable(['NAME', 'X'], [['a', '1'], ['longer', '22']])).toBe('NAME     X\na        1\nlonger   22\n');
  });

  it.each([
    ['2026-01-10T11:59:15Z', '45s'],
    ['2026-01-10T11:58:00Z', '2m'],
    ['2026-01-10T10:00:00Z', '2h'],
    ['2026-01-07T12:00:00Z', '3d'],
    ['2023-01-01T00:00:00Z', '3y'],
    ['not a date', '<unknown>'],
  ])('age of %s is %s', (ts, age) => {
    expect(formatAge(ts, NOW)).toBe(age);
  });

  it('routers: networks, way out, counts of routes, forwards and floating IPs, readiness; addresses and floating IPs when wide', () => {
    const r = (name: string, spec: Router['spec'], status?: Router['status']): Router => ({ apiVersion: 'weft.dev/v1', kind: 'Router', metadata: { name, creationTimestamp: '2026-01-10T11:00:00Z' }, spec, ...(status ? { status } : {}) });
    const edge = r('edge', { host: 'h3', interfaces: [{ network: 'blue' }, { network: 'red' }], external: {}, portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: 'web1.eth0' } }] }, { ready: true, interfaces: [{ network: 'blue', ip: '10.1.0.254', mac: '0a:77:00:00:00:01' }] });
    const inner = r('inner', { host: 'h1', interfaces: [{ network: 'app' }], routes: [{ to: '192.0.2.0/24', via: '10.3.0.9' }] });
    const seg = r('seg', { host: 'h2', interfaces: [{ network: 'db' }], external: { mode: 'interface', interface: 'eth1', address: '203.0.113.10/24', gateway: '203.0.113.1' }, floatingIPs: [{ address: '203.0.113.20', endpoint: 'db1' }] });
    expect(renderResourceTable('Router', [edge, inner, seg], false, NOW)).toBe(
      [
        'NAME    HOST   NETWORKS   EXTERNAL                         ROUTES   FORWARDS   FLOATING   READY       AGE',
        'edge    h3     blue,red   host                             0        1          0          True        60m',
        'inner   h1     app        <none>                           1        0          0          <unknown>   60m',
        'seg     h2     db         interface:203.0.113.10/24@eth1   0        0          1          <unknown>   60m',
        '',
      ].join('\n'),
    );
    expect(renderResourceTable('Router', [edge], true, NOW)).toContain('blue:10.1.0.254');
    expect(renderResourceTable('Router', [seg], true, NOW)).toContain('203.0.113.20=db1');
  });

  it('networks: status values win over spec, missing ones show <none>', () => {
    const a = net('blue', { status: { gateway: '10.10.0.1', vni: 4097, mtu: 1450, endpoints: 3 } });
    const b = net('red', { spec: { subnet: '10.20.0.0/16' } });
    expect(renderResourceTable('Network', [a, b], false, NOW)).toBe(
      [
        'NAME   SUBNET         GATEWAY     VNI      MTU      ENDPOINTS   AGE',
        'blue   10.10.0.0/24   10.10.0.1   4097     1450     3           60m',
        'red    10.20.0.0/16   <none>      <none>   <none>   0           60m',
        '',
      ].join('\n'),
    );
  });

  it('networks -o wide adds subnet6, bridge, ready hosts and labels', () => {
    const a = net('blue', { status: { bridge: 'wb-001001', hosts: { h1: { ready: true, revision: 3 }, h2: { ready: false, revision: 2 } } } });
    const out = renderResourceTable('Network', [a], true, NOW);
    expect(out.split('\n')[0]).toBe('NAME   SUBNET         GATEWAY   VNI      MTU      ENDPOINTS   AGE   SUBNET6   BRIDGE      HOSTS   LABELS');
    expect(out.split('\n')[1]).toMatch(/wb-001001\s+1\/2\s+env=dev$/);
  });

  it('endpoints show network, host, addresses, MAC and container', () => {
    const ep: Endpoint = {
      apiVersion: 'weft.dev/v1',
      kind: 'Endpoint',
      metadata: { name: 'c1.eth0' },
      spec: { network: 'blue', host: 'h1', containerId: 'c1', ifname: 'eth0' },
      status: { ip: '10.10.0.5', mac: '02:00:00:00:00:05' },
    };
    const dual: Endpoint = { ...ep, metadata: { name: 'c2.eth0' }, spec: { ...ep.spec, containerId: 'c2' }, status: { ip: '10.10.0.6', ip6: 'fd00:10::6', mac: '02:00:00:00:00:06' } };
    expect(renderResourceTable('Endpoint', [ep, dual], false, NOW)).toBe(
      'NAME      NETWORK   HOST   IP          IP6          MAC                 CONTAINER\n' +
        'c1.eth0   blue      h1     10.10.0.5   <none>       02:00:00:00:00:05   c1\n' +
        'c2.eth0   blue      h1     10.10.0.6   fd00:10::6   02:00:00:00:00:06   c2\n',
    );
  });

  it('hosts show state, address, applied revision and heartbeat age', () => {
    const h: Host = {
      apiVersion: 'weft.dev/v1',
      kind: 'Host',
      metadata: { name: 'h1' },
      spec: { address: '198.18.0.11' },
      status: { state: 'Ready', appliedRevision: 12, lastHeartbeat: '2026-01-10T11:59:57Z' },
    };
    const never: Host = { apiVersion: 'weft.dev/v1', kind: 'Host', metadata: { name: 'h2' }, spec: {} };
    expect(renderResourceTable('Host', [h, never], false, NOW)).toBe(
      [
        'NAME   STATE     ADDRESS       REVISION   LAST-HEARTBEAT',
        'h1     Ready     198.18.0.11   12         3s ago',
        'h2     Unknown   <none>        <none>     <never>',
        '',
      ].join('\n'),
    );
  });

  it('label selectors match when every pair matches', () => {
    const a = net('blue');
    expect(matchesLabels(a, {})).toBe(true);
    expect(matchesLabels(a, { env: 'dev' })).toBe(true);
    expect(matchesLabels(a, { env: 'prod' })).toBe(false);
    expect(matchesLabels(a, { env: 'dev', team: 'x' })).toBe(false);
  });
});
