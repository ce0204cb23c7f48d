// Multi-host virtual networks over the VXLAN overlay, in the lab: 3 hosts,
// 2 networks, 2 workloads per network per host. Real packets only; the
// controller programs every forwarding and neighbour entry (no flooding).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { AttachResult } from '../../model/agent-rpc.js';
import { Lab, labPrefix, type Workload } from '../lab/index.js';

jest.setTimeout(300_000);

const prefix = labPrefix('o');
const dir = mkdtempSync(join(tmpdir(), prefix));
// A killed agent's connection drops at once (NotReady); Gone follows after the grace period.
const lab = new Lab({ dir, controllerArgs: ['--host-grace', '4s'] });
const HOSTS = ['h1', 'h2', 'h3'];
const NETWORKS = [
  { name: 'blue', subnet: '100.64.10.0/24' },
  { name: 'red', subnet: '100.64.20.0/24' },
];

interface Placed {
  w: Workload;
  network: string;
  r: AttachResult;
}
const placed: Placed[] = [];

// Test-owned nft counters in a host namespace, looking inside the VXLAN
// encapsulation: UDP header (8 bytes), VXLAN header (8: VNI at bits 32-55),
// then the inner Ethernet header, whose EtherType sits 28 bytes into the
// UDP datagram, and the inner IPv4 header right after it.
type Kind = 'arp' | 'icmp' | 'vni';

async function vxlanCounters(host: string): Promise<Record<string, number>> {
  const r = await lab.exec(host, ['nft', '-j', 'list', 'table', 'inet', `${prefix}count`]);
  const doc = JSON.parse(r.stdout) as { nftables: { rule?: { chain: string; comment?: string; expr: { counter?: { packets: number } }[] } }[] };
  const out: Record<string, number> = {};
  for (const x of doc.nftables) {
    if (!x.rule?.comment) continue;
    out[`${x.rule.chain}:${x.rule.comment}`] = x.rule.expr.find((e) => e.counter)?.counter?.packets ?? 0;
  }
  return out;
}

async function installVxlanCounters(host: string, vni: number): Promise<void> {
  const t = `${prefix}count`;
  const lines = [`add table inet ${t}`];
  for (const [chain, hook] of [['out', 'output'], ['in', 'input']] as const) {
    lines.push(`add chain inet ${t} ${chain} { type filter hook ${hook} priority 0; }`);
    const rule = (match: string, kind: Kind) => lines.push(`add rule inet ${t} ${chain} udp dport 4789 ${match} counter comment "${kind}"`);
    rule('@th,224,16 0x0806', 'arp');
    // inner IPv4 (EtherType 0x0800) carrying ICMP: protocol byte 39 bytes in
    rule('@th,224,16 0x0800 @th,312,8 1', 'icmp');
    rule(`@th,96,24 ${vni}`, 'vni');
  }
  const r = await lab.exec(host, ['nft', '-f', '-'], { input: lines.join('\n') });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

beforeAll(async () => {
  await lab.up({ hosts: 3, prefix, networks: NETWORKS });
  for (const host of HOSTS) {
    for (const net of NETWORKS) {
      for (const i of [1, 2]) {
        const w = await lab.workload(host, `${net.name}${i}`);
        const r = await lab.attach(host, { network: net.name, containerId: `${host}-${net.name}${i}`, netns: w.path });
        placed.push({ w, network: net.name, r });
      }
    }
  }
});

afterAll(async () => {
  await lab.down({ prefix }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('full ping matrix: same network reachable across hosts, different networks not', async () => {
  const rows: string[] = [];
  let mismatches = 0;
  await Promise.all(
    placed.map(async (src) => {
      for (const dst of placed) {
        if (dst === src) continue;
        const expected = dst.network === src.network;
        const ok = await lab.ping(src.w, dst.r.ip, expected ? 2 : 1);
        if (ok !== expected) mismatches++;
        rows.push(`${src.w.netns} -> ${dst.w.netns} (${dst.r.ip}): expected ${expected ? 'reach' : 'blocked'}, got ${ok ? 'reach' : 'blocked'}${ok === expected ? '' : '  <-- MISMATCH'}`);
      }
    }),
  );
  if (mismatches > 0) console.log(rows.sort().join('\n'));
  expect(mismatches).toBe(0);
  expect(rows).toHaveLength(placed.length * (placed.length - 1));
});

test('TCP across hosts, 1 MB with the derived MTU (no fragmentation black hole)', async () => {
  const server = placed.find((p) => p.w.host === 'h1' && p.network === 'blue')!;
  const client = placed.find((p) => p.w.host === 'h3' && p.network === 'blue')!;
  expect(server.r.mtu).toBe(1450); // underlay 1500 - 50
  const serverScript =
    "let n=0;const s=require('net').createServer(c=>{c.on('data',d=>n+=d.length);c.on('end',()=>{c.end(String(n));s.close()})}).listen(7001,()=>console.log('up'))";
  const srv = lab.exec(server.w, [process.execPath, '-e', serverScript], { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  const clientScript = `const c=require('net').connect(7001,'${server.r.ip}',()=>{c.end(Buffer.alloc(1048576,7))});let b='';c.on('data',d=>b+=d);c.on('end',()=>console.log('got '+b))`;
  const cli = await lab.exec(client.w, [process.execPath, '-e', clientScript], { timeoutMs: 30_000 });
  expect(cli.stdout.trim()).toBe('got 1048576');
  expect((await srv).code).toBe(0);
});

test('no flooding: the first ping between fresh endpoints crosses the underlay without any ARP; a host without the network gets nothing', async () => {
  await lab.createNetwork('green', '100.64.30.0/24');
  const a = await lab.workload('h1', 'green1');
  const b = await lab.workload('h2', 'green1');
  // IPv4 only in these two: IPv6 router solicitations and MLD reports are
  // multicast, rightly flooded to the network's VTEPs, and would blur the count
  for (const w of [a, b]) expect((await lab.exec(w, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])).code).toBe(0);
  const ra = await lab.attach('h1', { network: 'green', containerId: 'h1-green1', netns: a.path });
  const rb = await lab.attach('h2', { network: 'green', containerId: 'h2-green1', netns: b.path });
  const green = await lab.api<{ status?: { vni?: number } }>('GET', '/api/v1/networks/green');
  const vni = green.status?.vni as number;
  for (const h of HOSTS) await installVxlanCounters(h, vni);
  // let the controller program both sides (convergence is measured by the bench)
  await new Promise((r) => setTimeout(r, 500));
  const before = { h1: await vxlanCounters('h1'), h2: await vxlanCounters('h2'), h3: await vxlanCounters('h3') };
  // the workloads' ARP caches are empty: their ARP requests must be answered
  // on their own host by the VXLAN proxy, from controller-programmed entries
  expect(await lab.ping(a, rb.ip, 2)).toBe(true);
  const after = { h1: await vxlanCounters('h1'), h2: await vxlanCounters('h2'), h3: await vxlanCounters('h3') };
  const delta = (h: 'h1' | 'h2' | 'h3', k: string) => (after[h][k] ?? 0) - (before[h][k] ?? 0);
  expect(delta('h1', 'out:arp')).toBe(0); // no ARP crossed the underlay
  expect(delta('h2', 'in:arp')).toBe(0);
  expect(delta('h2', 'out:arp')).toBe(0);
  expect(delta('h1', 'out:icmp')).toBe(1); // the echo request
  expect(delta('h2', 'out:icmp')).toBe(1); // the echo reply
  expect(after.h3['in:vni']).toBe(0); // h3 does not carry green: it never got a packet of it
  expect(ra.network).toBe('green');
});

test('kill -9 one agent: others keep forwarding; after the grace period its endpoints leave the others; restart converges', async () => {
  const onH2 = placed.filter((p) => p.w.host === 'h2');
  const h1blue = placed.find((p) => p.w.host === 'h1' && p.network === 'blue')!;
  const h3blue = placed.find((p) => p.w.host === 'h3' && p.network === 'blue')!;
  const h2blue = onH2.find((p) => p.network === 'blue')!;
  const beforeKill = (await lab.agent('h2', 'list', {})).endpoints.map((e) => e.containerId).sort();
  expect(beforeKill).toEqual(expect.arrayContaining(onH2.map((p) => p.r.containerId)));
  await lab.killAgent('h2');
  // the data plane keeps running everywhere, h2's workloads included
  expect(await lab.ping(h1blue.w, h3blue.r.ip)).toBe(true);
  expect(await lab.ping(h1blue.w, h2blue.r.ip)).toBe(true);
  // after heartbeat timeout + grace, h2's endpoints are withdrawn from h1's FDB/neighbour table
  // the VXLAN device's own entries (NTF_SELF, with a remote dst) — not the
  // bridge's learned ones, which point at the VXLAN port and age out
  const vtepEntries = async (host: string, mac: string) =>
    (JSON.parse((await lab.exec(host, ['bridge', '-j', 'fdb', 'show'])).stdout) as { mac: string; dst?: string }[]).filter((e) => e.mac === mac && e.dst !== undefined);
  const fdbHas = async (host: string, mac: string) => (await vtepEntries(host, mac)).length > 0;
  const deadline = Date.now() + 20_000;
  while ((await fdbHas('h1', h2blue.r.mac)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(await fdbHas('h1', h2blue.r.mac)).toBe(false);
  expect(await lab.ping(h1blue.w, h3blue.r.ip)).toBe(true);
  // restart: it rejoins, its endpoints come back everywhere, exactly once
  await lab.startAgent('h2');
  const back = Date.now() + 20_000;
  while (!(await fdbHas('h1', h2blue.r.mac)) && Date.now() < back) await new Promise((r) => setTimeout(r, 200));
  expect(await lab.ping(h1blue.w, h2blue.r.ip)).toBe(true);
  const list = await lab.agent('h2', 'list', {});
  expect(list.endpoints.map((e) => e.containerId).sort()).toEqual(beforeKill);
  expect(await vtepEntries('h1', h2blue.r.mac)).toHaveLength(1);
});

test('controller down: traffic keeps flowing and a local attach still works; back up, both sides converge', async () => {
  const h1red = placed.find((p) => p.w.host === 'h1' && p.network === 'red')!;
  const h3red = placed.find((p) => p.w.host === 'h3' && p.network === 'red')!;
  await lab.stopController();
  expect(await lab.ping(h1red.w, h3red.r.ip)).toBe(true);
  const w = await lab.workload('h1', 'late');
  const r = await lab.attach('h1', { network: 'red', containerId: 'h1-late', netns: w.path });
  expect(await lab.ping(w, h1red.r.ip)).toBe(true); // same host works at once
  await lab.startController();
  // the controller learns the new endpoint from the agent's hello and tells h3
  const deadline = Date.now() + 20_000;
  while (!(await lab.ping(h3red.w, r.ip, 1)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
  expect(await lab.ping(h3red.w, r.ip)).toBe(true);
  const eps = await lab.api<{ items: { status?: { ip?: string } }[] }>('GET', '/api/v1/endpoints?network=red');
  expect(eps.items.filter((e) => e.status?.ip === r.ip)).toHaveLength(1);
});
