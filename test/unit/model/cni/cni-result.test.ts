import { parseCniRequest } from '../../../../model/cni/cni-request.js';
import { cniResultJson, expectedAttachment, renderAddResult, renderVersionedResult, versionResult } from '../../../../model/cni/cni-result.js';
import { CNI_VERSIONS, type CniAttachment, type CniRequest, type CniResult, type CniVersion } from '../../../../model/cni/cni-types.js';

const attachment: CniAttachment = {
  bridge: { name: 'wb-00002a', mac: '02:77:66:00:00:2a' },
  hostIfname: 'wv-1a2b3c4d',
  hostMac: '9e:3c:11:22:33:44',
  ifname: 'eth0',
  mac: '02:42:0a:01:00:05',
  mtu: 1450,
  netns: '/run/netns/c1',
  address: '10.1.0.5/24',
  gateway: '10.1.0.1',
};

function request(cniVersion: CniVersion, extra: Partial<CniRequest> = {}): CniRequest {
  return { command: 'ADD', cniVersion, configName: 'blue', network: 'blue', containerId: 'c1', netns: '/run/netns/c1', ifname: 'eth0', labels: {}, ...extra };
}

/** Paths of every undefined value in a JSON-like tree. */
function undefinedPaths(v: unknown, path = ''): string[] {
  if (v === undefined) return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => undefinedPaths(x, `${path}[${i}]`));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => undefinedPaths(x, `${path}.${k}`));
  return [];
}

/** The spec's bridge example result (section "Add example"), as parseCniRequest normalises it. */
const bridgePrev = (cniVersion: CniVersion): CniResult => ({
  cniVersion,
  interfaces: [
    { name: 'cni0', mac: '00:11:22:33:44:55' },
    { name: 'veth3243', mac: '55:44:33:22:11:11' },
    { name: 'eth0', mac: '99:88:77:66:55:44', sandbox: '/var/run/netns/blue' },
  ],
  ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: { nameservers: ['10.1.0.1'] },
});

describe('renderAddResult, field by field per version (SPEC.md section 5)', () => {
  const golden: Record<CniVersion, CniResult> = {
    '0.4.0': {
      cniVersion: '0.4.0',
      interfaces: [
        { name: 'wb-00002a', mac: '02:77:66:00:00:2a' },
        { name: 'wv-1a2b3c4d', mac: '9e:3c:11:22:33:44' },
        { name: 'eth0', mac: '02:42:0a:01:00:05', sandbox: '/run/netns/c1' },
      ],
      ips: [{ version: '4', address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
      dns: {},
    },
    '1.0.0': {
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'wb-00002a', mac: '02:77:66:00:00:2a' },
        { name: 'wv-1a2b3c4d', mac: '9e:3c:11:22:33:44' },
        { name: 'eth0', mac: '02:42:0a:01:00:05', sandbox: '/run/netns/c1' },
      ],
      ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
      dns: {},
    },
    '1.1.0': {
      cniVersion: '1.1.0',
      interfaces: [
        { name: 'wb-00002a', mac: '02:77:66:00:00:2a', mtu: 1450 },
        { name: 'wv-1a2b3c4d', mac: '9e:3c:11:22:33:44', mtu: 1450 },
        { name: 'eth0', mac: '02:42:0a:01:00:05', mtu: 1450, sandbox: '/run/netns/c1' },
      ],
      ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
      dns: {},
    },
  };

  test.each(CNI_VERSIONS)('%s', (v) => {
    const result = renderAddResult(request(v), attachment);
    expect(result).toEqual(golden[v]);
    expect(undefinedPaths(result)).toEqual([]);
  });

  test('a dual-stack attachment lists the IPv6 address after the IPv4 one, on the same interface, and a ::/0 route via gateway6', () => {
    const dual = { ...attachment, address6: 'fd00:1::5/64', gateway6: 'fd00:1::1' };
    const r = renderAddResult(request('1.0.0'), dual);
    expect(r.ips).toEqual([
      { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 },
      { address: 'fd00:1::5/64', gateway: 'fd00:1::1', interface: 2 },
    ]);
    expect(r.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.1.0.1' },
      { dst: '::/0', gw: 'fd00:1::1' },
    ]);
    expect(renderAddResult(request('0.4.0'), dual).ips?.map((ip) => ip.version)).toEqual(['4', '6']);
    expect(expectedAttachment({ ...request('1.0.0', { command: 'CHECK' }), prevResult: r })?.addresses).toEqual(['10.1.0.5/24', 'fd00:1::5/64']);
  });

  test('0.4.0: every ips entry carries version "4"', () => {
    expect(renderAddResult(request('0.4.0'), attachment).ips?.map((ip) => ip.version)).toEqual(['4']);
  });

  test.each<CniVersion>(['1.0.0', '1.1.0'])('%s: ips entries carry no version', (v) => {
    expect(Object.keys(renderAddResult(request(v), attachment).ips?.[0] ?? {})).toEqual(['address', 'gateway', 'interface']);
  });

  test.each<[CniVersion, boolean]>([
    ['0.4.0', false],
    ['1.0.0', false],
    ['1.1.0', true],
  ])('%s: interfaces carry mtu: %s', (v, hasMtu) => {
    for (const i of renderAddResult(request(v), attachment).interfaces ?? []) expect('mtu' in i).toBe(hasMtu);
  });

  test('the JSON text has the spec\'s key order and no undefined', () => {
    expect(cniResultJson(renderAddResult(request('1.1.0'), attachment))).toBe(
      '{"cniVersion":"1.1.0","interfaces":[{"name":"wb-00002a","mac":"02:77:66:00:00:2a","mtu":1450},' +
        '{"name":"wv-1a2b3c4d","mac":"9e:3c:11:22:33:44","mtu":1450},{"name":"eth0","mac":"02:42:0a:01:00:05","mtu":1450,"sandbox":"/run/netns/c1"}],' +
        '"ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":2}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{}}',
    );
  });

  test('the result\'s cniVersion is the request\'s', () => {
    for (const v of CNI_VERSIONS) expect(renderAddResult(request(v), attachment).cniVersion).toBe(v);
  });

  test('dns comes from the configuration', () => {
    const dns = { nameservers: ['10.1.0.1'], domain: 'example.com', search: ['svc.example.com'], options: ['ndots:5'] };
    expect(renderAddResult(request('1.0.0', { dns }), attachment).dns).toEqual(dns);
  });

  test('the routes the agent made replace the default route', () => {
    const routes = [{ dst: '10.2.0.0/16', gw: '10.1.0.254' }];
    expect(renderAddResult(request('1.0.0'), { ...attachment, routes }).routes).toEqual(routes);
    expect(renderAddResult(request('1.0.0'), { ...attachment, routes: [] }).routes).toEqual([]);
  });
});

describe('renderAddResult chained after another plugin (prevResult)', () => {
  test.each(CNI_VERSIONS)('%s: weft\'s part is appended with shifted interface indexes; prevResult\'s dns stays', (v) => {
    const result = renderAddResult(request(v, { prevResult: bridgePrev(v) }), attachment);
    const prev = renderVersionedResult(v, bridgePrev(v));
    const mine = renderAddResult(request(v), attachment);
    expect(result.interfaces).toEqual([...(prev.interfaces ?? []), ...(mine.interfaces ?? [])]);
    expect(result.ips).toEqual([prev.ips?.[0], { ...mine.ips?.[0], interface: 5 }]);
    expect(result.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '0.0.0.0/0', gw: '10.1.0.1' }]);
    expect(result.dns).toEqual({ nameservers: ['10.1.0.1'] });
    expect(undefinedPaths(result)).toEqual([]);
  });

  test('the configuration\'s dns replaces prevResult\'s', () => {
    const result = renderAddResult(request('1.0.0', { prevResult: bridgePrev('1.0.0'), dns: { nameservers: ['10.9.0.1'] } }), attachment);
    expect(result.dns).toEqual({ nameservers: ['10.9.0.1'] });
  });

  test('a prevResult without dns, and none configured, gives {}', () => {
    const { dns: _, ...prev } = bridgePrev('1.0.0');
    expect(renderAddResult(request('1.0.0', { prevResult: prev }), attachment).dns).toEqual({});
  });

  test('a prevResult without interfaces (an IPAM-style result) keeps weft\'s indexes', () => {
    const prev: CniResult = { cniVersion: '1.0.0', ips: [{ address: '192.168.5.5/24' }] };
    const result = renderAddResult(request('1.0.0', { prevResult: prev }), attachment);
    expect(result.ips).toEqual([{ address: '192.168.5.5/24' }, { address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 2 }]);
    expect(result.interfaces).toHaveLength(3);
  });

  test('0.4.0: previous ips get their version, 4 or 6 by family', () => {
    const prev: CniResult = {
      cniVersion: '0.4.0',
      interfaces: [{ name: 'eth1', sandbox: '/run/netns/c1' }],
      ips: [
        { address: '192.168.5.5/24', interface: 0 },
        { address: 'fd00::5/64', interface: 0 },
      ],
    };
    const result = renderAddResult(request('0.4.0', { prevResult: prev }), attachment);
    expect(result.ips?.map((ip) => [ip.version, ip.interface])).toEqual([
      ['4', 0],
      ['6', 0],
      ['4', 3],
    ]);
  });

  test('the 1.1.0 fields of prevResult are written only at 1.1.0', () => {
    const prev: CniResult = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'tap0', mtu: 9000, socketPath: '/run/vhost-user.sock', pciID: '0000:04:00.5' }],
      routes: [{ dst: '10.2.0.0/16', gw: '10.1.0.254', mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0 }],
    };
    const v11 = renderAddResult(request('1.1.0', { prevResult: prev }), attachment);
    expect(v11.interfaces?.[0]).toEqual(prev.interfaces?.[0]);
    expect(v11.routes?.[0]).toEqual(prev.routes?.[0]);
    for (const v of ['0.4.0', '1.0.0'] as const) {
      const older = renderAddResult(request(v, { prevResult: { ...prev, cniVersion: v } }), attachment);
      expect(older.interfaces?.[0]).toEqual({ name: 'tap0' });
      expect(older.routes?.[0]).toEqual({ dst: '10.2.0.0/16', gw: '10.1.0.254' });
    }
  });

  test('does not change the request\'s prevResult', () => {
    const prevResult = bridgePrev('1.0.0');
    const copy = structuredClone(prevResult);
    renderAddResult(request('1.0.0', { prevResult }), attachment);
    expect(prevResult).toEqual(copy);
  });
});

describe('renderVersionedResult', () => {
  test('absent parts stay absent', () => {
    expect(renderVersionedResult('1.0.0', { cniVersion: '1.1.0' })).toEqual({ cniVersion: '1.0.0' });
    expect(renderVersionedResult('1.0.0', { cniVersion: '1.0.0', ips: [] })).toEqual({ cniVersion: '1.0.0', ips: [] });
  });

  test('drops a stale ips[].version at 1.x and sets it at 0.4.0', () => {
    const r: CniResult = { cniVersion: '1.0.0', ips: [{ version: '6', address: '10.1.0.5/24' }] };
    expect(renderVersionedResult('1.0.0', r).ips).toEqual([{ address: '10.1.0.5/24' }]);
    expect(renderVersionedResult('0.4.0', r).ips).toEqual([{ version: '4', address: '10.1.0.5/24' }]);
  });
});

describe('expectedAttachment (CHECK)', () => {
  const checkReq = (extra: Partial<CniRequest> = {}) =>
    request('1.1.0', { command: 'CHECK', netns: '/var/run/netns/blue', ifname: 'eth0', prevResult: bridgePrev('1.1.0'), ...extra });

  test('the spec\'s CHECK example: the interface in the sandbox, its addresses and all routes', () => {
    expect(expectedAttachment(checkReq())).toEqual({ mac: '99:88:77:66:55:44', addresses: ['10.1.0.5/16'], routes: [{ dst: '0.0.0.0/0' }] });
  });

  test.each<[string, Partial<CniRequest>]>([
    ['no prevResult', { prevResult: undefined }],
    ['prevResult without interfaces', { prevResult: { cniVersion: '1.1.0', ips: [{ address: '10.1.0.5/16' }] } }],
    ['another sandbox', { netns: '/var/run/netns/red' }],
    ['another interface name', { ifname: 'net1' }],
    ['the host side only (no sandbox)', { ifname: 'veth3243' }],
  ])('undefined with %s', (_name, extra) => {
    expect(expectedAttachment(checkReq(extra))).toBeUndefined();
  });

  test('only the addresses on that interface; no mac when prevResult has none', () => {
    const prevResult: CniResult = {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', sandbox: '/run/netns/c1' }, { name: 'wb-00002a' }, { name: 'net1', sandbox: '/run/netns/c1' }],
      ips: [
        { address: '10.1.0.5/24', interface: 0 },
        { address: '10.9.0.5/24', interface: 2 },
        { address: '10.1.0.6/24', interface: 0 },
        { address: '10.7.0.5/24' },
      ],
    };
    const out = expectedAttachment(checkReq({ netns: '/run/netns/c1', ifname: 'net1', prevResult }));
    expect(out).toEqual({ addresses: ['10.9.0.5/24'], routes: [] });
    expect(out && 'mac' in out).toBe(false);
  });

  test('when a name repeats in the sandbox, the last one (weft\'s, appended) counts', () => {
    const prevResult: CniResult = {
      cniVersion: '1.1.0',
      interfaces: [
        { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/c1' },
        { name: 'eth0', mac: '02:00:00:00:00:02', sandbox: '/run/netns/c1' },
      ],
      ips: [
        { address: '10.1.0.5/24', interface: 0 },
        { address: '10.1.0.6/24', interface: 1 },
      ],
    };
    expect(expectedAttachment(checkReq({ netns: '/run/netns/c1', prevResult }))).toEqual({ mac: '02:00:00:00:00:02', addresses: ['10.1.0.6/24'], routes: [] });
  });

  test.each(CNI_VERSIONS)('round trip at %s: ADD result -> CHECK request prevResult -> what ADD made', (v) => {
    const added = renderAddResult(request(v), attachment);
    const env = { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0' };
    const req = parseCniRequest(env, JSON.stringify({ cniVersion: v, name: 'blue', type: 'weft', prevResult: JSON.parse(cniResultJson(added)) }));
    expect(expectedAttachment(req)).toEqual({ mac: attachment.mac, addresses: [attachment.address], routes: [{ dst: '0.0.0.0/0', gw: attachment.gateway }] });
    // and rendering the normalised prevResult again gives the ADD result back
    expect(renderVersionedResult(v, req.prevResult as CniResult)).toEqual(added);
  });
});

describe('versionResult', () => {
  test.each<[string | undefined, string]>([
    [undefined, '1.1.0'],
    ['1.0.0', '1.0.0'],
    ['0.4.0', '0.4.0'],
    ['0.3.1', '0.3.1'],
    ['2.0.0', '2.0.0'],
    ['latest', '1.1.0'],
    ['1.0', '1.1.0'],
    ['', '1.1.0'],
  ])('input %p answers cniVersion %p', (input, cniVersion) => {
    expect(versionResult(input)).toEqual({ cniVersion, supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });

  test('is the spec\'s VERSION object', () => {
    expect(cniResultJson(versionResult('1.1.0'))).toBe('{"cniVersion":"1.1.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]}');
  });

  test('returns a fresh list each time', () => {
    versionResult().supportedVersions.push('9.9.9');
    expect(versionResult().supportedVersions).toEqual([...CNI_VERSIONS]);
  });
});

describe('cniResultJson', () => {
  test('leaves undefined fields out', () => {
    const r = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: undefined }], dns: undefined } as unknown as CniResult;
    expect(cniResultJson(r)).toBe('{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}]}');
  });
});
