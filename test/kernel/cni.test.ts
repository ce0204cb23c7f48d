import { jest } from '@jest/globals';
// The CNI plugin driven exactly as a runtime drives it: `weft install-cni`
// puts the compiled shim in a plugin dir, and every call is an exec with
// CNI_* variables and the config on stdin. Each command in each spec version
// (0.4.0, 1.0.0, 1.1.0), results checked field by field against the spec and
// against the kernel (`ip -j`), the error cases with their codes, and chains
// with the reference tuning, bandwidth and portmap plugins (run inside the
// lab's host namespace, as a runtime on that host would).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { callAgent } from '../../runtime/agent-client.js';
import { execPlugin, ConflistRunner, type CniCall, type CniOutcome } from '../support/cni-exec.js';
import { execIn, ipJson, netnsAdd, netnsDel, SingleHostLab, waitFor } from '../support/test-lab.js';

jest.setTimeout(300_000);

const VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
const REFERENCE_PLUGINS = '/usr/lib/cni';
const lab = new SingleHostLab('n');
let seq = 0;
const workloads: string[] = [];
let binDir = '';
let confDir = '';
let plugin = '';

async function workload(): Promise<{ name: string; path: string }> {
  const name = `${lab.prefix}w${seq++}`;
  workloads.push(name);
  return { name, path: await netnsAdd(name) };
}

function conf(cniVersion: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion, name: 'cnia', type: 'weft', network: 'cnia', agentSocket: lab.socket, ...extra };
}

function cni(call: CniCall, config: unknown): Promise<CniOutcome> {
  return execPlugin(plugin, call, config);
}

const add = (w: { path: string }, containerId: string, cniVersion = '1.0.0', extra: Record<string, unknown> = {}, more: Partial<CniCall> = {}) =>
  cni({ command: 'ADD', containerId, netns: w.path, ifname: 'eth0', ...more }, conf(cniVersion, extra));

const del = (w: { path: string } | undefined, containerId: string, cniVersion = '1.0.0', ifname = 'eth0') =>
  cni({ command: 'DEL', containerId, ifname, ...(w ? { netns: w.path } : {}) }, conf(cniVersion));

/** The CNI error object of a failed call, after checking it is one. */
function cniError(o: CniOutcome): { cniVersion: string; code: number; msg: string; details?: string } {
  expect(o.code).toBe(1);
  expect(o.json).toBeDefined();
  const e = o.json as { cniVersion: string; code: number; msg: string; details?: string };
  expect(typeof e.code).toBe('number');
  expect(typeof e.msg).toBe('string');
  return e;
}

async function hostVeths(): Promise<string[]> {
  return (await lab.hostLinks()).map((l) => l.ifname).filter((n) => n.startsWith('wv-'));
}

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('cnia', '198.18.40.0/24');
  await lab.createNetwork('cnib', '198.18.41.0/24');
  binDir = join(lab.dir, 'cni-bin');
  confDir = join(lab.dir, 'cni-conf');
  plugin = join(binDir, 'weft');
  const r = await lab.cli(['install-cni', '--bin-dir', binDir]);
  if (r.code !== 0) throw new Error(`install-cni failed: ${r.stderr}`);
});

afterEach(async () => {
  for (const name of workloads.splice(0)) await netnsDel(name);
});

afterAll(async () => {
  await lab.stop();
});

describe('weft install-cni', () => {
  test('installs the shim as BIN_DIR/weft and writes a conflist; a second run changes nothing', async () => {
    const fresh = join(lab.dir, 'fresh-bin');
    const args = ['install-cni', '--bin-dir', fresh, '--conf-dir', confDir, '--network', 'cnia', '--socket', lab.socket, '--chain', 'portmap,tuning'];
    const r = await lab.cli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`installed ${join(fresh, 'weft')}`);
    expect(r.stdout).toContain(`wrote ${join(confDir, 'weft-cnia.conflist')}`);
    expect(statSync(join(fresh, 'weft')).mode & 0o777).toBe(0o755);
    const conflist = JSON.parse(readFileSync(join(confDir, 'weft-cnia.conflist'), 'utf8')) as Record<string, unknown>;
    expect(conflist).toEqual({
      cniVersion: '1.0.0',
      name: 'cnia',
      plugins: [
        { type: 'weft', network: 'cnia', capabilities: { ips: true, mac: true }, agentSocket: lab.socket },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        { type: 'tuning' },
      ],
    });
    const again = await lab.cli(args);
    expect(again.stdout).toContain(`unchanged ${join(fresh, 'weft')}`);
    expect(again.stdout).toContain(`unchanged ${join(confDir, 'weft-cnia.conflist')}`);
  });

  test.each([
    [['--conf-dir', '/tmp/x'], '--conf-dir and --network go together'],
    [['--chain', 'portmap,flannel'], 'unknown plugin flannel'],
    [['--cni-version', '0.3.1'], 'weft speaks CNI 0.4.0, 1.0.0, 1.1.0'],
    [['--socket', 'relative.sock'], 'must be an absolute path'],
    [['--network', 'Not_A_Label', '--conf-dir', '/tmp/x'], '--network must be a DNS label'],
  ])('refuses %j with a usage error', async (args, message) => {
    const r = await lab.cli(['install-cni', '--bin-dir', join(lab.dir, 'unused'), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe.each(VERSIONS)('CNI %s', (version) => {
  test('ADD returns the spec result, matching the kernel; CHECK passes; DEL removes it and is idempotent', async () => {
    const w = await workload();
    const id = `add-${version.replace(/\./g, '')}`;
    const r = await add(w, id, version);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = r.json as {
      cniVersion: string;
      interfaces: { name: string; mac: string; mtu?: number; sandbox?: string }[];
      ips: { version?: string; address: string; gateway: string; interface: number }[];
      routes: { dst: string; gw?: string }[];
      dns: Record<string, unknown>;
    };
    expect(res.cniVersion).toBe(version);
    expect(Object.keys(res).sort()).toEqual(['cniVersion', 'dns', 'interfaces', 'ips', 'routes']);
    expect(res.interfaces).toHaveLength(3);
    const [bridge, hostVeth, container] = res.interfaces as [typeof res.interfaces[0], typeof res.interfaces[0], typeof res.interfaces[0]];

    // the bridge and the host veth, as the kernel has them
    const hostLinks = await ipJson<{ ifname: string; address: string; mtu: number; master?: string }[]>('-n', lab.hostNs, 'link', 'show');
    const kBridge = hostLinks.find((l) => l.ifname === bridge.name);
    const kHostVeth = hostLinks.find((l) => l.ifname === hostVeth.name);
    expect(bridge.name).toMatch(/^wb-/);
    expect(bridge.mac).toBe(kBridge?.address);
    expect(bridge.sandbox).toBeUndefined();
    expect(hostVeth.name).toMatch(/^wv-/);
    expect(hostVeth.mac).toBe(kHostVeth?.address);
    expect(kHostVeth?.master).toBe(bridge.name);
    expect(hostVeth.sandbox).toBeUndefined();

    // the container interface
    const [kIf] = await ipJson<{ ifname: string; address: string; mtu: number }[]>('-n', w.name, 'link', 'show', 'eth0');
    expect(container.name).toBe('eth0');
    expect(container.mac).toBe(kIf?.address);
    expect(container.sandbox).toBe(w.path);
    if (version === '1.1.0') {
      expect(container.mtu).toBe(kIf?.mtu);
      expect(hostVeth.mtu).toBe(kHostVeth?.mtu);
    } else {
      for (const i of res.interfaces) expect(i.mtu).toBeUndefined();
    }

    // ips, routes, dns
    const [addr] = await ipJson<{ addr_info: { local: string; prefixlen: number; family: string }[] }[]>('-n', w.name, 'addr', 'show', 'eth0');
    const kAddr = addr?.addr_info.find((a) => a.family === 'inet');
    expect(res.ips).toEqual([
      { ...(version === '0.4.0' ? { version: '4' } : {}), address: `${kAddr?.local}/${kAddr?.prefixlen}`, gateway: '198.18.40.1', interface: 2 },
    ]);
    expect(res.routes).toEqual([{ dst: '0.0.0.0/0', gw: '198.18.40.1' }]);
    const [kRoute] = await ipJson<{ gateway?: string; dev: string }[]>('-n', w.name, 'route', 'show', 'default');
    expect(kRoute).toMatchObject({ gateway: '198.18.40.1', dev: 'eth0' });
    expect(res.dns).toEqual({});

    // CHECK with the ADD result as prevResult
    const check = await cni({ command: 'CHECK', containerId: id, netns: w.path, ifname: 'eth0' }, conf(version, { prevResult: res }));
    expect(check).toMatchObject({ code: 0, stdout: '' });

    // DEL, twice
    const d1 = await del(w, id, version);
    expect(d1).toMatchObject({ code: 0, stdout: '' });
    await waitFor('host veth gone', async () => !(await hostVeths()).includes(hostVeth.name));
    expect(await ipJson('-n', w.name, 'link', 'show', 'type', 'veth')).toEqual([]);
    expect(await del(w, id, version)).toMatchObject({ code: 0, stdout: '' });
  });

  test('VERSION reports the versions weft speaks, echoing the request version', async () => {
    const r = await cni({ command: 'VERSION' }, { cniVersion: version });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: version, supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });
});

describe('a dual-stack network', () => {
  test('ADD lists both addresses and both default routes, as the kernel has them; CHECK passes; DEL removes it', async () => {
    await lab.api('POST', '/api/v1/networks', { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: 'cnid' }, spec: { subnet: '198.18.42.0/24', subnet6: 'fd00:42::/64' } });
    const w = await workload();
    const config = conf('1.1.0', { name: 'cnid', network: 'cnid' });
    const r = await cni({ command: 'ADD', containerId: 'dual', netns: w.path, ifname: 'eth0' }, config);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = r.json as { ips: { address: string; gateway: string; interface: number }[]; routes: { dst: string; gw?: string }[] };
    const [addr] = await ipJson<{ addr_info: { local: string; prefixlen: number; family: string; scope: string }[] }[]>('-n', w.name, 'addr', 'show', 'eth0');
    const k4 = addr?.addr_info.find((a) => a.family === 'inet');
    const k6 = addr?.addr_info.find((a) => a.family === 'inet6' && a.scope === 'global');
    const offset = Number(k4?.local.split('.')[3]);
    expect(k6?.local).toBe(`fd00:42::${offset.toString(16)}`);
    expect(res.ips).toEqual([
      { address: `${k4?.local}/24`, gateway: '198.18.42.1', interface: 2 },
      { address: `${k6?.local}/64`, gateway: 'fd00:42::1', interface: 2 },
    ]);
    expect(res.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '198.18.42.1' },
      { dst: '::/0', gw: 'fd00:42::1' },
    ]);
    const [kRoute6] = await ipJson<{ gateway?: string; dev: string }[]>('-n', w.name, '-6', 'route', 'show', 'default');
    expect(kRoute6).toMatchObject({ gateway: 'fd00:42::1', dev: 'eth0' });
    const check = await cni({ command: 'CHECK', containerId: 'dual', netns: w.path, ifname: 'eth0' }, { ...config, prevResult: res });
    expect(check).toMatchObject({ code: 0, stdout: '' });
    // the IPv6 address missing from prevResult is drift
    const partial = { ...res, ips: res.ips.slice(0, 1) };
    const drift = cniError(await cni({ command: 'CHECK', containerId: 'dual', netns: w.path, ifname: 'eth0' }, { ...config, prevResult: partial }));
    expect(drift.msg + (drift.details ?? '')).toContain(`${k6?.local}/64`);
    expect(await cni({ command: 'DEL', containerId: 'dual', netns: w.path, ifname: 'eth0' }, config)).toMatchObject({ code: 0, stdout: '' });
    await waitFor('attachment gone', async () => (await callAgent(lab.socket, 'list', {})).endpoints.every((e) => e.containerId !== 'dual'));
  });
});

describe('CHECK reports drift', () => {
  test.each([
    ['a removed address', (ns: string) => execIn(ns, ['ip', 'addr', 'flush', 'dev', 'eth0']), 'lacks address'],
    ['a removed default route', (ns: string) => execIn(ns, ['ip', 'route', 'del', 'default']), 'no default route'],
    ['an interface set down', (ns: string) => execIn(ns, ['ip', 'link', 'set', 'eth0', 'down']), 'is down'],
  ])('%s is code 103 naming it', async (_what, breakIt, words) => {
    const w = await workload();
    const id = `drift-${seq}`;
    const r = await add(w, id);
    expect(r.code).toBe(0);
    await breakIt(w.name);
    const check = await cni({ command: 'CHECK', containerId: id, netns: w.path, ifname: 'eth0' }, conf('1.0.0', { prevResult: r.json }));
    const e = cniError(check);
    expect(e.code).toBe(103);
    expect(`${e.msg} ${e.details ?? ''}`).toContain(words);
    expect((await del(w, id)).code).toBe(0);
  });

  test('a container whose namespace is gone is "unknown container" (3)', async () => {
    const w = await workload();
    const r = await add(w, 'check-gone');
    expect(r.code).toBe(0);
    await netnsDel(w.name);
    const e = cniError(await cni({ command: 'CHECK', containerId: 'check-gone', netns: w.path, ifname: 'eth0' }, conf('1.0.0', { prevResult: r.json })));
    expect(e.code).toBe(3);
    expect((await del(w, 'check-gone')).code).toBe(0);
  });

  test('stdin over 1 MiB is an I/O failure (5) from the shim', async () => {
    const w = await workload();
    const e = cniError(await add(w, 'too-big', '1.0.0', { args: { pad: 'x'.repeat(1100 * 1024) } }));
    expect(e.code).toBe(5);
  });

  test('a prevResult that names another address is drift', async () => {
    const w = await workload();
    const r = await add(w, 'drift-prev');
    const prev = JSON.parse(JSON.stringify(r.json)) as { ips: { address: string }[] };
    (prev.ips[0] as { address: string }).address = '198.18.40.254/24';
    const e = cniError(await cni({ command: 'CHECK', containerId: 'drift-prev', netns: w.path, ifname: 'eth0' }, conf('1.0.0', { prevResult: prev })));
    expect(e.code).toBe(103);
    expect((await del(w, 'drift-prev')).code).toBe(0);
  });
});

describe('DEL is idempotent', () => {
  test('an unknown container, a missing CNI_NETNS and an already deleted namespace all succeed', async () => {
    expect(await del(undefined, 'never-added')).toMatchObject({ code: 0, stdout: '' });
    const w = await workload();
    const r = await add(w, 'gone-ns');
    expect(r.code).toBe(0);
    const hostName = (r.json as { interfaces: { name: string }[] }).interfaces[1]?.name ?? '';
    await netnsDel(w.name); // the runtime removed the namespace first: the veth pair goes with it
    expect(await del(w, 'gone-ns')).toMatchObject({ code: 0, stdout: '' });
    expect(await del(undefined, 'gone-ns')).toMatchObject({ code: 0, stdout: '' });
    await waitFor('host veth gone', async () => !(await hostVeths()).includes(hostName));
    const list = await callAgent(lab.socket, 'list', {});
    expect(list.endpoints.filter((e) => e.containerId === 'gone-ns')).toEqual([]);
  });
});

describe('request options reach the endpoint', () => {
  test('CNI_ARGS IP= and MAC=, and a custom ifname', async () => {
    const w = await workload();
    const r = await add(w, 'args-1', '1.0.0', {}, { args: 'IgnoreUnknown=1;IP=198.18.40.77;MAC=02:00:00:00:40:77;K8S_POD_NAME=web', ifname: 'net1' });
    expect(r.code).toBe(0);
    const res = r.json as { interfaces: { name: string; mac: string }[]; ips: { address: string }[] };
    expect(res.ips[0]?.address).toBe('198.18.40.77/24');
    expect(res.interfaces[2]).toMatchObject({ name: 'net1', mac: '02:00:00:00:40:77' });
    const [k] = await ipJson<{ address: string }[]>('-n', w.name, 'link', 'show', 'net1');
    expect(k?.address).toBe('02:00:00:00:40:77');
    expect((await del(w, 'args-1', '1.0.0', 'net1')).code).toBe(0);
  });

  test('runtimeConfig ips and mac win over CNI_ARGS; labels from args reach the controller', async () => {
    const w = await workload();
    const r = await add(
      w,
      'rc-1',
      '1.0.0',
      {
        capabilities: { ips: true, mac: true },
        runtimeConfig: { ips: ['198.18.40.78/24'], mac: '02:00:00:00:40:78' },
        args: { labels: { app: 'web' }, cni: { labels: [{ key: 'tier', value: 'front' }] } },
      },
      { args: 'IP=198.18.40.79' },
    );
    expect(r.code).toBe(0);
    const res = r.json as { interfaces: { mac: string }[]; ips: { address: string }[] };
    expect(res.ips[0]?.address).toBe('198.18.40.78/24');
    expect(res.interfaces[2]?.mac).toBe('02:00:00:00:40:78');
    let seen = '';
    const labels = await waitFor('controller records the endpoint', async () => {
      const eps = await lab.api<{ items: { metadata: { labels?: Record<string, string> }; status?: { ip?: string } }[] }>('GET', '/api/v1/endpoints');
      seen = JSON.stringify(eps.items);
      return eps.items.find((e) => e.status?.ip === '198.18.40.78')?.metadata.labels;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}; controller has ${seen}; agent: ${lab.agent?.output() ?? ""}; controller: ${lab.controller?.output() ?? ""}`);
    });
    expect(labels).toEqual({ app: 'web', tier: 'front' });
    expect((await del(w, 'rc-1')).code).toBe(0);
  });
});

describe('STATUS and GC (1.1.0)', () => {
  test('STATUS succeeds for a known network, is 50 for an unknown one, and needs 1.1.0', async () => {
    expect(await cni({ command: 'STATUS' }, conf('1.1.0'))).toMatchObject({ code: 0, stdout: '' });
    const unknown = cniError(await cni({ command: 'STATUS' }, conf('1.1.0', { network: 'nosuch' })));
    expect(unknown.code).toBe(50);
    expect(unknown.msg).toContain('nosuch');
    expect(cniError(await cni({ command: 'STATUS' }, conf('1.0.0'))).code).toBe(1);
  });

  test('GC detaches only this config\'s attachments that are not listed as valid', async () => {
    const [a, b, c] = [await workload(), await workload(), await workload()];
    expect((await add(a, 'gc-keep', '1.1.0')).code).toBe(0);
    expect((await add(b, 'gc-stale', '1.1.0')).code).toBe(0);
    // attached by another front door (weft run's RPC) on the same network: not this runtime's
    await callAgent(lab.socket, 'attach', { network: 'cnia', containerId: 'gc-other', netns: c.path });
    const gc = await cni({ command: 'GC' }, conf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'gc-keep', ifname: 'eth0' }] }));
    expect(gc).toMatchObject({ code: 0, stdout: '' });
    await waitFor('stale attachment detached', async () => (await callAgent(lab.socket, 'list', { network: 'cnia' })).endpoints.every((e) => e.containerId !== 'gc-stale'));
    const ids = (await callAgent(lab.socket, 'list', { network: 'cnia' })).endpoints.map((e) => e.containerId);
    expect(ids).toEqual(expect.arrayContaining(['gc-keep', 'gc-other']));
    expect(await ipJson('-n', b.name, 'link', 'show', 'type', 'veth')).toEqual([]);
    expect((await del(a, 'gc-keep', '1.1.0')).code).toBe(0);
    await callAgent(lab.socket, 'detach', { containerId: 'gc-other' });
  });
});

describe('errors are CNI error objects with the well-known codes', () => {
  const ok = { command: 'ADD', containerId: 'err-1', ifname: 'eth0' };
  const cases: [string, Partial<CniCall> & { command?: string }, (v: string) => unknown, number, string][] = [
    ['no CNI_COMMAND', { command: '' }, (v) => conf(v), 4, 'CNI_COMMAND'],
    ['an unknown command', { command: 'FROB' }, (v) => conf(v), 4, 'CNI_COMMAND'],
    ['ADD without CNI_NETNS', { netns: undefined }, (v) => conf(v), 4, 'CNI_NETNS'],
    ['a malformed container ID', { containerId: '-bad id' }, (v) => conf(v), 4, 'CNI_CONTAINERID'],
    ['an interface name over 15 bytes', { ifname: 'eth0123456789abc' }, (v) => conf(v), 4, 'CNI_IFNAME'],
    ['a namespace that does not exist', { netns: '/run/netns/weft-test-no-such-ns' }, (v) => conf(v), 4, 'CNI_NETNS'],
    ['an unknown CNI_ARGS key', { args: 'FOO=bar' }, (v) => conf(v), 4, 'FOO'],
    ['stdin that is not JSON', {}, () => `{"cniVersion": "1.0.0", "agentSocket": ${JSON.stringify(lab.socket)}, nope`, 6, ''],
    ['an unsupported cniVersion', {}, () => conf('0.3.1'), 1, '0.3.1'],
    ['an unknown field', {}, (v) => conf(v, { colour: 'blue' }), 2, 'colour'],
    ['an ipam section (weft does its own IPAM)', {}, (v) => conf(v, { ipam: { type: 'host-local' } }), 2, 'ipam'],
    ['another plugin type', {}, (v) => conf(v, { type: 'bridge' }), 7, 'type'],
    ['an unknown weft network', {}, (v) => conf(v, { network: 'nosuch' }), 7, 'nosuch'],
    ['a multicast MAC', {}, (v) => conf(v, { runtimeConfig: { mac: '01:00:5e:00:00:01' } }), 7, 'mac'],
    ['an IPv6 address request', {}, (v) => conf(v, { runtimeConfig: { ips: ['fd00::5/64'] } }), 7, 'ips'],
  ];
  test.each(cases)('%s', async (_what, callOver, config, code, words) => {
    const w = await workload();
    const call = { ...ok, netns: w.path, ...callOver } as CniCall;
    if ('netns' in callOver && callOver.netns === undefined) delete call.netns;
    const version = '1.0.0';
    const e = cniError(await cni(call, config(version)));
    expect(e.code).toBe(code);
    expect(`${e.msg} ${e.details ?? ''}`).toContain(words);
    // nothing was made
    expect(await ipJson('-n', w.name, 'link', 'show', 'type', 'veth')).toEqual([]);
    expect((await callAgent(lab.socket, 'list', {})).endpoints.filter((x) => x.containerId === 'err-1')).toEqual([]);
  });

  test('an address that another container holds is 101, and nothing is left half-made', async () => {
    const [a, b] = [await workload(), await workload()];
    expect((await add(a, 'ip-a', '1.0.0', {}, { args: 'IP=198.18.40.90' })).code).toBe(0);
    const veths = await hostVeths();
    const e = cniError(await add(b, 'ip-b', '1.0.0', {}, { args: 'IP=198.18.40.90' }));
    expect(e.code).toBe(101);
    expect(e.details).toContain('198.18.40.90');
    expect(await hostVeths()).toEqual(veths);
    expect(await ipJson('-n', b.name, 'link', 'show', 'type', 'veth')).toEqual([]);
    expect((await del(a, 'ip-a')).code).toBe(0);
  });

  test('an interface name the container already has is 104', async () => {
    const w = await workload();
    expect((await execIn(w.name, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0'])).code).toBe(0);
    const e = cniError(await add(w, 'if-taken'));
    expect(e.code).toBe(104);
    expect(`${e.msg} ${e.details ?? ''}`).toContain('eth0');
  });

  test('the error cniVersion follows the request', async () => {
    for (const v of VERSIONS) expect(cniError(await cni({ command: 'FROB' }, conf(v))).cniVersion).toBe(v);
  });
});

describe('chained after weft: the reference tuning, bandwidth and portmap plugins', () => {
  test('each gets weft\'s result as prevResult, passes it on, and CHECK/DEL run over the chain', async () => {
    const w = await workload();
    const runner = new ConflistRunner(
      {
        cniVersion: '1.0.0',
        name: 'cnia',
        plugins: [
          { type: 'weft', network: 'cnia', agentSocket: lab.socket, capabilities: { ips: true, mac: true } },
          { type: 'tuning', sysctl: { 'net.core.somaxconn': '512' } },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
          { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        ],
      },
      [binDir, REFERENCE_PLUGINS],
      { inNetns: `/run/netns/${lab.hostNs}` },
    );
    const att = {
      containerId: 'chain-1',
      netns: w.path,
      ifname: 'eth0',
      capabilityArgs: {
        bandwidth: { ingressRate: 8_000_000, ingressBurst: 80_000, egressRate: 8_000_000, egressBurst: 80_000 },
        portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
      },
    };
    try {
      const r = await runner.add(att);
      expect(r.failed?.outcome.stdout ?? '').toBe('');
      expect(r.ok).toBe(true);
      const res = r.result as { interfaces: { name: string }[]; ips: { address: string; interface: number }[] };
      // weft's interfaces survive the chain (bandwidth adds its ifb device after them)
      expect(res.interfaces[2]?.name).toBe('eth0');
      expect(res.ips[0]?.interface).toBe(2);
      const hostVeth = res.interfaces[1]?.name ?? '';

      expect((await execIn(w.name, ['sysctl', '-n', 'net.core.somaxconn'])).stdout.trim()).toBe('512');
      const qdisc = await execIn(lab.hostNs, ['tc', 'qdisc', 'show', 'dev', hostVeth]);
      expect(qdisc.stdout).toContain('tbf');
      const rules = await execIn(lab.hostNs, ['iptables-save', '-t', 'nat']);
      expect(rules.stdout).toContain('--dport 18080');
      expect(rules.stdout).toContain(res.ips[0]?.address.split('/')[0] ?? 'missing');

      // portmap 1.1.1's CHECK looks for IPv6 rules of an IPv4-only container
      // and fails (containernetworking/plugins#819): check the rest of the chain.
      expect(await runner.check(att, ['portmap'])).toEqual({ ok: true });

      const d = await runner.del(att);
      expect(d).toEqual({ ok: true });
      expect((await execIn(lab.hostNs, ['iptables-save', '-t', 'nat'])).stdout).not.toContain('--dport 18080');
      await waitFor('host veth gone', async () => !(await hostVeths()).includes(hostVeth));
    } finally {
      await runner.del(att).catch(() => undefined);
      // portmap's chains and the bandwidth plugin's ifb device live in the lab's host namespace, which the lab removes
    }
  });
});
