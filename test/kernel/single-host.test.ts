import { jest } from '@jest/globals';
// End to end on one host: controller + agent (child processes) with the
// agent's datapath in a private namespace, workloads in namespaces of their
// own. Assertions read the kernel back (`ip -j`), not the agent's word.
import { spawn } from 'node:child_process';
import { callAgent } from '../../runtime/agent-client.js';
import { WeftError } from '../../model/errors.js';
import { CLI, execIn, ipJson, netnsAdd, netnsDel, netnsList, ping, SingleHostLab, waitFor } from '../support/test-lab.js';

jest.setTimeout(300_000);


const lab = new SingleHostLab('s');
let seq = 0;
const workloads: string[] = [];

async function workload(): Promise<{ name: string; path: string }> {
  const name = `${lab.prefix}w${seq++}`;
  workloads.push(name);
  return { name, path: await netnsAdd(name) };
}

async function vethsInHost(): Promise<string[]> {
  return (await lab.hostLinks()).map((l) => l.ifname).filter((n) => n.startsWith('wv-'));
}

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('blue', '198.18.10.0/24');
  await lab.createNetwork('red', '198.18.20.0/24');
});

afterEach(async () => {
  for (const name of workloads.splice(0)) await netnsDel(name);
});

afterAll(async () => {
  await lab.stop();
});

test('two `weft run` workloads on one network ping each other and exchange TCP', async () => {
  // A: a TCP echo server, started by `weft run` with a fixed address
  const server = spawn(process.execPath, [
    CLI, 'run', '--network', 'blue', '--name', 'srv', '--ip', '198.18.10.50', '--socket', lab.socket, '--',
    process.execPath, '-e',
    "const s=require('net').createServer(c=>c.pipe(c)).listen(7000,()=>console.log('listening'));setTimeout(()=>s.close(),20000).unref()",
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let serverOut = '';
  server.stdout.on('data', (d: Buffer) => (serverOut += d.toString()));
  server.stderr.on('data', (d: Buffer) => (serverOut += d.toString()));
  try {
    await waitFor('server listening', async () => serverOut.includes('listening'), 20_000);
    // B: ping A, then send a line over TCP and expect it echoed
    const client = await lab.cli(['run', '--network', 'blue', '--name', 'cli', '--socket', lab.socket, '--',
      process.execPath, '-e',
      "const {execFileSync}=require('child_process');execFileSync('ping',['-c','1','-W','2','198.18.10.50']);" +
      "const c=require('net').connect(7000,'198.18.10.50',()=>c.write('hello weft\\n'));c.on('data',d=>{process.stdout.write('echo:'+d);c.end()})",
    ]);
    expect(client.stderr).toBe('');
    expect(client.stdout).toContain('echo:hello weft');
    expect(client.code).toBe(0);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  // both workloads detached and their namespaces gone
  await waitFor('veths removed', async () => (await vethsInHost()).length === 0);
  expect((await netnsList()).filter((n) => n.startsWith('wr-'))).toEqual([]);
});

test('workloads on different networks cannot reach each other, even where the host forwards IP', async () => {
  // With forwarding on, the host would route between the two bridges:
  // isolation must come from weft's own nftables rules.
  expect((await execIn(lab.hostNs, ['sysctl', '-w', 'net.ipv4.ip_forward=1'])).code).toBe(0);
  const a = await workload();
  const b = await workload();
  const ra = await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'iso-a', netns: a.path });
  const rb = await callAgent(lab.socket, 'attach', { network: 'red', containerId: 'iso-b', netns: b.path });
  const a2 = await workload();
  const ra2 = await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'iso-a2', netns: a2.path });
  try {
    expect(await ping(a.name, ra2.ip)).toBe(true); // the same network works
    expect(await ping(a.name, rb.ip)).toBe(false);
    expect(await ping(b.name, ra.ip)).toBe(false);
    // TCP too: a connect from red to blue fails
    const tcp = await execIn(b.name, [process.execPath, '-e', `require('net').connect({port:22,host:'${ra.ip}',timeout:1000}).on('connect',()=>process.exit(0)).on('error',()=>process.exit(3)).on('timeout',()=>process.exit(4))`]);
    expect(tcp.code).not.toBe(0);
    const table = await execIn(lab.hostNs, ['nft', '-j', 'list', 'table', 'inet', 'weft-isolation']);
    expect(table.stdout).toContain('"drop"');
  } finally {
    await execIn(lab.hostNs, ['sysctl', '-w', 'net.ipv4.ip_forward=0']);
    for (const id of ['iso-a', 'iso-b', 'iso-a2']) await callAgent(lab.socket, 'detach', { containerId: id });
  }
});

test('attach builds the veth, address and default route; detach removes them and frees the address', async () => {
  const w = await workload();
  const r = await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'rt-1', netns: w.path, labels: { app: 'web' } });
  expect(r.ifname).toBe('eth0');
  expect(r.gateway).toBe('198.18.10.1');
  const links = await ipJson<{ ifname: string; operstate: string; mtu: number; address: string }[]>('-n', w.name, 'link', 'show', 'eth0');
  expect(links[0]?.address).toBe(r.mac);
  const addrs = await ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>('-n', w.name, 'addr', 'show', 'eth0');
  expect(addrs[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain(r.address);
  const routes = await ipJson<{ dst: string; gateway?: string }[]>('-n', w.name, 'route', 'show', 'default');
  expect(routes[0]?.gateway).toBe('198.18.10.1');
  const host = (await lab.hostLinks()).find((l) => l.ifname === r.hostIfname);
  expect(host?.master).toMatch(/^wb-/);
  expect(host?.ifalias).toMatch(/^weft:ep:/);
  expect(await ping(w.name, '198.18.10.1')).toBe(true); // the gateway on the bridge answers

  await waitFor('controller records the endpoint', async () =>
    (await lab.api<{ items: { status?: { ip?: string } }[] }>('GET', '/api/v1/endpoints')).items.some((e) => e.status?.ip === r.ip));

  await callAgent(lab.socket, 'detach', { containerId: 'rt-1' });
  await waitFor('host veth gone', async () => !(await vethsInHost()).includes(r.hostIfname));
  expect(await ipJson('-n', w.name, 'link', 'show', 'type', 'veth')).toEqual([]);
  await waitFor('controller forgets the endpoint', async () =>
    !(await lab.api<{ items: { status?: { ip?: string } }[] }>('GET', '/api/v1/endpoints')).items.some((e) => e.status?.ip === r.ip));
  // the address is free again: a static request for it succeeds
  const w2 = await workload();
  const again = await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'rt-2', netns: w2.path, ip: r.ip });
  expect(again.ip).toBe(r.ip);
  await callAgent(lab.socket, 'detach', { containerId: 'rt-2' });
});

test('attach with a requested address that is taken fails cleanly', async () => {
  const a = await workload();
  const b = await workload();
  const first = await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'dup-a', netns: a.path, ip: '198.18.10.77' });
  const before = await vethsInHost();
  let error: unknown;
  try {
    await callAgent(lab.socket, 'attach', { network: 'blue', containerId: 'dup-b', netns: b.path, ip: '198.18.10.77' });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WeftError);
  expect((error as WeftError).code).toBe('AddressInUse');
  expect((error as WeftError).message).toContain('198.18.10.77');
  expect(await vethsInHost()).toEqual(before); // nothing half-made
  expect(await ipJson('-n', b.name, 'link', 'show', 'type', 'veth')).toEqual([]);
  expect(first.ip).toBe('198.18.10.77');
  await callAgent(lab.socket, 'detach', { containerId: 'dup-a' });
});

test('250 attaches and detaches leave no link, namespace, route or address behind', async () => {
  const n = 250;
  const ns = await Promise.all(Array.from({ length: n }, () => workload()));
  const ips = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await callAgent(lab.socket, 'attach', { network: i % 2 ? 'blue' : 'red', containerId: `many-${i}`, netns: ns[i]!.path });
    expect(ips.has(r.ip)).toBe(false);
    ips.add(r.ip);
  }
  expect((await vethsInHost()).length).toBe(n);
  for (let i = 0; i < n; i++) await callAgent(lab.socket, 'detach', { containerId: `many-${i}` });
  await waitFor('all host veths gone', async () => (await vethsInHost()).length === 0, 60_000, 200);
  for (const w of ns) {
    expect(await ipJson('-n', w.name, 'link', 'show', 'type', 'veth')).toEqual([]);
    const addrs = await ipJson<{ ifname: string; addr_info: { local: string }[] }[]>('-n', w.name, 'addr', 'show');
    expect(addrs.flatMap((a) => a.addr_info.map((x) => x.local)).filter((x) => !x.startsWith('127.') && x !== '::1')).toEqual([]);
    expect(await ipJson('-n', w.name, 'route', 'show')).toEqual([]);
  }
  const list = await callAgent(lab.socket, 'list', {});
  expect(list.endpoints).toEqual([]);
});
