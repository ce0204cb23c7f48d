// Dual-stack endpoints in the 3-host lab: a network with subnet6 gives each
// endpoint an IPv6 address (at its IPv4 address's offset), a default route
// via gateway6 held by every host's bridge, and IPv6 reaches across hosts
// from the first packet (the VXLAN proxy answers neighbour solicitations
// from controller-programmed entries). The guard lets a port send IPv6 only
// from its own addresses and drops router advertisements and neighbour
// advertisements for others, and no IPv6 at all where a policy applies;
// networks stay isolated for IPv6 too, and an IPv4-only network is
// unchanged. All addresses are ULA / shared space inside the lab.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { AttachResult } from '../../../model/agent-rpc.js';
import type { Endpoint, Network } from '../../../model/kinds.js';
import type { ResourceList } from '../../../model/rest.js';
import { Lab, labPrefix, type Workload } from '../../lab/index.js';

jest.setTimeout(300_000);

const prefix = labPrefix('ds');
const dir = mkdtempSync(join(tmpdir(), prefix));
const lab = new Lab({ dir });

const DUAL = { name: 'dual', subnet: '100.64.40.0/24', subnet6: 'fd00:40::/64' };
const V4 = { name: 'plain', subnet: '100.64.41.0/24' };

interface Placed {
  w: Workload;
  r: AttachResult;
}
const at: Record<string, Placed> = {};

async function place(host: string, name: string, network: string): Promise<Placed> {
  const w = await lab.workload(host, name);
  const r = await lab.attach(host, { network, containerId: `${host}-${name}`, netns: w.path, labels: { role: name } });
  return (at[name] = { w, r });
}

type Json = Record<string, unknown>;
async function json<T = Json[]>(from: string | Workload, args: string[]): Promise<T> {
  const r = await lab.exec(from, args);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout === '' ? '[]' : r.stdout) as T;
}

async function guardDrops(host: string): Promise<Record<string, number>> {
  const doc = await json<{ nftables: { counter?: { name: string; packets: number } }[] }>(host, ['nft', '-j', 'list', 'counters', 'table', 'bridge', 'weft-guard']);
  return Object.fromEntries(doc.nftables.flatMap((o) => (o.counter ? [[o.counter.name, o.counter.packets]] : [])));
}

/** ICMPv6 from a workload through a raw socket (the kernel fills in the checksum): python3, test-owned. */
async function sendIcmp6(w: Workload, dst: string, message: number[]): Promise<void> {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)',
    's.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)',
    's.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)',
    `s.sendto(bytes(${JSON.stringify(message)}), ('${dst}', 0, 0, socket.if_nametoindex('eth0')))`,
  ].join('\n');
  const r = await lab.exec(w, ['python3', '-c', script]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

const ip6Bytes = (ip6: string): number[] => {
  const [head = '', tail = ''] = ip6.split('::');
  const parts = (s: string) => (s === '' ? [] : s.split(':'));
  const h = parts(head);
  const t = parts(tail);
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
};

beforeAll(async () => {
  await lab.up({ hosts: 3, prefix, networks: [V4] });
  const net: Network = { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: DUAL.name }, spec: { subnet: DUAL.subnet, subnet6: DUAL.subnet6 } };
  await lab.api('POST', '/api/v1/networks', net);
  await place('h1', 'a', DUAL.name);
  await place('h2', 'b', DUAL.name);
  await place('h2', 'p', V4.name);
  await place('h2', 'q', V4.name);
});

afterAll(async () => {
  await lab.down({ prefix }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('an endpoint of a dual-stack network gets the IPv6 address at its IPv4 offset, usable at once, and a default route via gateway6', async () => {
  const { w, r } = at.a!;
  const offset = Number(r.ip.split('.')[3]);
  expect(r.address6).toBe(`fd00:40::${offset.toString(16)}/64`);
  expect(r.gateway6).toBe('fd00:40::1');
  const addrs = await json<{ addr_info: { family: string; local: string; prefixlen: number; tentative?: boolean; dadfailed?: boolean }[] }[]>(w, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0']);
  const global = addrs[0]?.addr_info.find((a) => a.local === r.ip6);
  expect(global).toMatchObject({ prefixlen: 64 });
  expect(global?.tentative).toBeUndefined();
  const routes = await json<{ dst: string; gateway?: string; dev: string }[]>(w, ['ip', '-j', '-6', 'route', 'show', 'default']);
  expect(routes).toEqual([expect.objectContaining({ dst: 'default', gateway: 'fd00:40::1', dev: 'eth0' })]);
  // IPv4 exactly as on any network
  const routes4 = await json<{ dst: string; gateway?: string }[]>(w, ['ip', '-j', '-4', 'route', 'show', 'default']);
  expect(routes4).toEqual([expect.objectContaining({ dst: 'default', gateway: r.gateway })]);
});

test('every carrying host\'s bridge holds gateway6 (no DAD: the same address on each), and the workload reaches it', async () => {
  for (const p of [at.a!, at.b!]) {
    const bridge = (await json<{ ifname: string; master?: string }[]>(p.w.host, ['ip', '-j', 'link', 'show', p.r.hostIfname]))[0]?.master as string;
    const addrs = await json<{ addr_info: { local: string; prefixlen: number; dadfailed?: boolean }[] }[]>(p.w.host, ['ip', '-j', '-6', 'addr', 'show', 'dev', bridge]);
    expect(addrs[0]?.addr_info).toEqual(expect.arrayContaining([expect.objectContaining({ local: 'fd00:40::1', prefixlen: 64 })]));
    expect(addrs[0]?.addr_info.find((a) => a.local === 'fd00:40::1')?.dadfailed).toBeUndefined();
    expect(await lab.ping(p.w, 'fd00:40::1')).toBe(true);
  }
});

test('the controller records both addresses', async () => {
  const eps = await lab.api<ResourceList<Endpoint>>('GET', `/api/v1/endpoints?network=${DUAL.name}`);
  const byContainer = Object.fromEntries(eps.items.map((e) => [e.spec.containerId, e.status]));
  expect(byContainer['h1-a']).toMatchObject({ ip: at.a!.r.ip, ip6: at.a!.r.ip6 });
  expect(byContainer['h2-b']).toMatchObject({ ip: at.b!.r.ip, ip6: at.b!.r.ip6 });
  const plain = await lab.api<ResourceList<Endpoint>>('GET', `/api/v1/endpoints?network=${V4.name}`);
  for (const e of plain.items) expect(e.status?.ip6).toBeUndefined();
});

test('IPv6 across hosts from the first packet: each host has the other\'s IPv6 neighbour entry on its VXLAN device', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  for (const [host, remote] of [['h1', b], ['h2', a]] as const) {
    const neigh = await json<{ dst: string; lladdr?: string; dev: string; state: string[] }[]>(host, ['ip', '-j', '-6', 'neigh', 'show', 'nud', 'permanent']);
    expect(neigh).toEqual(expect.arrayContaining([expect.objectContaining({ dst: remote.r.ip6, lladdr: remote.r.mac })]));
  }
  // Test-owned counter on h1's underlay: neighbour solicitations inside VXLAN
  // (UDP 4789; inner EtherType at bit 224, inner IPv6 next header at bit 288,
  // the ICMPv6 type at bit 560 of the UDP datagram).
  const table = `${prefix}nd`;
  const rules = [
    `add table inet ${table}`,
    `add chain inet ${table} out { type filter hook output priority 0; }`,
    `add rule inet ${table} out udp dport 4789 @th,224,16 0x86dd @th,288,8 58 @th,560,8 135 counter`,
  ];
  expect((await lab.exec('h1', ['nft', '-f', '-'], { input: rules.join('\n') })).code).toBe(0);
  // the first echo, with empty neighbour caches in both workloads, is answered
  expect(await lab.ping(a.w, b.r.ip6 as string)).toBe(true);
  expect(await lab.ping(b.w, a.r.ip6 as string)).toBe(true);
  // and no solicitation crossed the underlay: h1's VXLAN proxy answered a's locally
  const listing = await json<{ nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }>('h1', ['nft', '-j', 'list', 'table', 'inet', table]);
  const solicitations = listing.nftables.flatMap((o) => o.rule?.expr.flatMap((e) => (e.counter ? [e.counter.packets] : [])) ?? []);
  expect(solicitations).toEqual([0]);
  expect((await lab.exec('h1', ['nft', 'delete', 'table', 'inet', table])).code).toBe(0);
});

test('IPv6 between two endpoints of one host, over the bridge (neighbour discovery between them allowed by the guard)', async () => {
  const e = await place('h1', 'e', DUAL.name);
  try {
    expect(await lab.ping(e.w, at.a!.r.ip6 as string)).toBe(true);
    expect(await lab.ping(at.a!.w, e.r.ip6 as string)).toBe(true);
  } finally {
    await lab.agent('h1', 'detach', { containerId: e.r.containerId });
    lab.removeWorkload(e.w);
    delete at.e;
  }
});

test('TCP over IPv6 across hosts: 1 MB echoed in full', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  const serverScript = "let n=0;const s=require('net').createServer(c=>{c.on('data',d=>n+=d.length);c.on('end',()=>{c.end(String(n));s.close()})}).listen(7006,'::',()=>console.log('up'))";
  const srv = lab.exec(b.w, [process.execPath, '-e', serverScript], { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  const clientScript = `const c=require('net').connect(7006,'${b.r.ip6 ?? ''}',()=>{c.end(Buffer.alloc(1048576,7))});let s='';c.on('data',d=>s+=d);c.on('end',()=>console.log('got '+s))`;
  const cli = await lab.exec(a.w, [process.execPath, '-e', clientScript], { timeoutMs: 30_000 });
  expect(cli.stdout.trim()).toBe('got 1048576');
  expect((await srv).code).toBe(0);
});

test('a spoofed IPv6 source is dropped at the port and counted', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  const spoofed = 'fd00:40::99';
  expect((await lab.exec(a.w, ['ip', '-6', 'addr', 'add', `${spoofed}/64`, 'dev', 'eth0', 'nodad'])).code).toBe(0);
  const before = (await guardDrops('h1')).ip6 ?? 0;
  const own = await lab.exec(a.w, ['ping', '-c', '1', '-W', '2', '-n', '-q', '-I', a.r.ip6 as string, b.r.ip6 as string]);
  expect(own.code).toBe(0); // from its own address it still reaches b
  const r = await lab.exec(a.w, ['ping', '-c', '1', '-W', '1', '-n', '-q', '-I', spoofed, b.r.ip6 as string]);
  expect(r.code).not.toBe(0);
  expect((await guardDrops('h1')).ip6).toBeGreaterThan(before);
  expect((await lab.exec(a.w, ['ip', '-6', 'addr', 'del', `${spoofed}/64`, 'dev', 'eth0'])).code).toBe(0);
});

test('a workload can neither advertise itself as a router nor answer neighbour discovery for another endpoint', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  const before = (await guardDrops('h1')).ip6 ?? 0;
  // Router advertisement (type 134): hop limit 64, router lifetime 1800 s, to all nodes.
  await sendIcmp6(a.w, 'ff02::1', [134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]);
  const afterRa = (await guardDrops('h1')).ip6 ?? 0;
  expect(afterRa).toBeGreaterThan(before);
  // Unsolicited, overriding neighbour advertisement (type 136) claiming b's IPv6 address.
  await sendIcmp6(a.w, 'ff02::1', [136, 0, 0, 0, 0x20, 0, 0, 0, ...ip6Bytes(b.r.ip6 as string)]);
  expect((await guardDrops('h1')).ip6 ?? 0).toBeGreaterThan(afterRa);
  // while one for its own address passes (the guard judges the target, not the message type)
  const beforeOwn = (await guardDrops('h1')).ip6 ?? 0;
  await sendIcmp6(a.w, 'ff02::1', [136, 0, 0, 0, 0x20, 0, 0, 0, ...ip6Bytes(a.r.ip6 as string)]);
  expect((await guardDrops('h1')).ip6 ?? 0).toBe(beforeOwn);
  // the host took no route from it
  expect(await json(a.w.host, ['ip', '-j', '-6', 'route', 'show', 'default'])).toEqual([]);
});

test('an endpoint a FirewallPolicy applies to gets no IPv6 either way (policies judge IPv4 only), and has it back once the policy goes', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  const policy = {
    apiVersion: 'weft.dev/v1',
    kind: 'FirewallPolicy',
    metadata: { name: 'dual-b' },
    spec: { appliesTo: { network: DUAL.name, selector: { role: 'b' } }, ingress: { rules: [{ action: 'allow', protocol: 'any' }] } },
  };
  await lab.api('POST', '/api/v1/firewallpolicies', policy);
  const noIp6 = async () => (await json<{ nftables: { set?: { name: string; elem?: string[] } }[] }>('h2', ['nft', '-j', 'list', 'set', 'bridge', 'weft-guard', 'no-ip6'])).nftables.find((o) => o.set)?.set?.elem ?? [];
  const deadline = Date.now() + 10_000;
  while (!(await noIp6()).includes(b.r.hostIfname) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(await noIp6()).toEqual([b.r.hostIfname]);
  expect(await lab.ping(a.w, b.r.ip6 as string, 1)).toBe(false);
  expect(await lab.ping(b.w, a.r.ip6 as string, 1)).toBe(false);
  expect(await lab.ping(a.w, b.r.ip)).toBe(true); // the policy allows IPv4
  await lab.api('DELETE', '/api/v1/firewallpolicies/dual-b');
  const back = Date.now() + 10_000;
  while ((await noIp6()).length > 0 && Date.now() < back) await new Promise((r) => setTimeout(r, 200));
  expect(await noIp6()).toEqual([]);
  expect(await lab.ping(a.w, b.r.ip6 as string)).toBe(true);
});

test('an IPv4-only network is unchanged: no IPv6 address, no IPv6 route, and its ports send no IPv6, not even link-local', async () => {
  const { p, q } = { p: at.p!, q: at.q! };
  expect(p.r.address6).toBeUndefined();
  const addrs = await json<{ addr_info: { local: string; scope: string }[] }[]>(p.w, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0']);
  expect((addrs[0]?.addr_info ?? []).filter((x) => x.scope !== 'link')).toEqual([]);
  expect(await json(p.w, ['ip', '-j', '-6', 'route', 'show', 'default'])).toEqual([]);
  expect(await lab.ping(p.w, q.r.ip)).toBe(true);
  const qLinkLocal = (await json<{ addr_info: { local: string; scope: string }[] }[]>(q.w, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0']))[0]?.addr_info.find((x) => x.scope === 'link')?.local;
  expect(qLinkLocal).toMatch(/^fe80:/);
  expect(await lab.ping(p.w, `${qLinkLocal ?? ''}%eth0`, 1)).toBe(false);
});

test('isolation holds for IPv6: with IPv6 forwarding on in the host, another dual-stack network there stays unreachable', async () => {
  const a = at.a!;
  const net: Network = { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: 'dual2' }, spec: { subnet: '100.64.42.0/24', subnet6: 'fd00:42::/64' } };
  await lab.api('POST', '/api/v1/networks', net);
  const c = await place('h1', 'c', 'dual2');
  const dropped = async () => {
    const doc = await json<{ nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }>('h1', ['nft', '-j', 'list', 'table', 'inet', 'weft-isolation']);
    return doc.nftables.reduce((n, o) => n + (o.rule?.expr.reduce((m, e) => m + (e.counter?.packets ?? 0), 0) ?? 0), 0);
  };
  expect((await lab.exec('h1', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1'])).code).toBe(0);
  try {
    const before = await dropped();
    expect(await lab.ping(a.w, c.r.ip6 as string, 1)).toBe(false);
    expect(await lab.ping(c.w, a.r.ip6 as string, 1)).toBe(false);
    expect(await dropped()).toBeGreaterThan(before);
  } finally {
    await lab.exec('h1', ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=0']);
    await lab.agent('h1', 'detach', { containerId: c.r.containerId });
    lab.removeWorkload(c.w);
    delete at.c;
  }
});

test('a namespace with IPv6 disabled cannot join a dual-stack network: a clear refusal, and nothing is left', async () => {
  const w = await lab.workload('h1', 'nov6');
  expect((await lab.exec(w, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])).code).toBe(0);
  const veths = async () => (await json<{ ifname: string }[]>('h1', ['ip', '-j', 'link', 'show'])).filter((l) => l.ifname.startsWith('wv-')).map((l) => l.ifname);
  const before = await veths();
  await expect(lab.attach('h1', { network: DUAL.name, containerId: 'h1-nov6', netns: w.path })).rejects.toThrow(
    `network "${DUAL.name}" is dual-stack, but IPv6 is disabled in namespace ${w.path}`,
  );
  expect(await veths()).toEqual(before);
  expect((await lab.agent('h1', 'list', {})).endpoints.map((e) => e.containerId)).not.toContain('h1-nov6');
  lab.removeWorkload(w);
});

test('an agent killed with SIGKILL and restarted adopts its dual-stack endpoint: IPv6 keeps working, one port chain, records unchanged', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  const before = (await lab.agent('h1', 'list', {})).endpoints;
  await lab.killAgent('h1');
  expect(await lab.ping(b.w, a.r.ip6 as string)).toBe(true); // the data plane runs on without its agent
  await lab.startAgent('h1');
  await lab.waitReady(['h1']);
  const after = (await lab.agent('h1', 'list', {})).endpoints;
  expect(after).toEqual(before);
  expect(after.find((e) => e.containerId === a.r.containerId)).toMatchObject({ ip6: a.r.ip6, address6: a.r.address6, gateway6: 'fd00:40::1' });
  const chains = (await json<{ nftables: { chain?: { name: string } }[] }>('h1', ['nft', '-j', 'list', 'table', 'bridge', 'weft-guard'])).nftables.flatMap((o) => (o.chain?.name.startsWith('p6-') ? [o.chain.name] : []));
  expect(chains).toEqual([`p6-${a.r.hostIfname}`]);
  expect(await lab.ping(a.w, b.r.ip6 as string)).toBe(true);
  expect(await lab.ping(b.w, a.r.ip6 as string)).toBe(true);
});

test('detaching removes the addresses\' entries from the other hosts, and each port\'s IPv6 chain from the guard', async () => {
  const { a, b } = { a: at.a!, b: at.b! };
  await lab.agent('h2', 'detach', { containerId: b.r.containerId });
  const deadline = Date.now() + 10_000;
  const has = async () => (await json<{ dst: string }[]>('h1', ['ip', '-j', '-6', 'neigh', 'show', 'nud', 'permanent'])).some((n) => n.dst === b.r.ip6);
  while ((await has()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(await has()).toBe(false);
  await lab.agent('h1', 'detach', { containerId: a.r.containerId });
  for (const name of ['p', 'q']) await lab.agent('h2', 'detach', { containerId: at[name]!.r.containerId });
  const portChains = async (host: string) =>
    (await json<{ nftables: { chain?: { name: string } }[] }>(host, ['nft', '-j', 'list', 'table', 'bridge', 'weft-guard'])).nftables.flatMap((o) => (o.chain?.name.startsWith('p6-') ? [o.chain.name] : []));
  const gone = Date.now() + 10_000;
  while ((await portChains('h1')).length + (await portChains('h2')).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
  expect(await portChains('h1')).toEqual([]);
  expect(await portChains('h2')).toEqual([]);
  for (const host of ['h1', 'h2']) expect((await json<{ ifname: string }[]>(host, ['ip', '-j', 'link', 'show'])).filter((l) => l.ifname.startsWith('wv-'))).toEqual([]);
  for (const name of ['a', 'b', 'p', 'q']) lab.removeWorkload(at[name]!.w);
});
