// The Firewall VNF end to end on one host: controller and agent (child
// processes, the agent's datapath in a private namespace), workloads
// attached through the agent's RPC, the Firewall applied through the REST
// API. Asserts on the kernel (`ip -j`, real packets) and on the status the
// controller serves. Needs `npm run build` (the lab runs dist/).
import { spawn } from 'node:child_process';
import { jest } from '@jest/globals';
import { callAgent } from '../../../runtime/agent-client.js';
import { vnfNetnsName } from '../../../model/vnf-names.js';
import { execIn, ipJson, netnsAdd, netnsDel, netnsList, ping, SingleHostLab, waitFor } from '../../support/test-lab.js';

jest.setTimeout(300_000);

const lab = new SingleHostLab('fe');
// Unique per run: /run/netns is machine-wide.
const FW = `${lab.prefix}fw`;
const workloads: string[] = [];

interface FirewallView {
  status?: { ready?: boolean; interfaces?: Array<{ network: string; ip: string }>; counters?: Array<{ rule: string; packets: number }>; conditions?: Array<{ message: string }> };
}

async function workload(tag: string, network: string): Promise<{ ns: string; ip: string }> {
  const ns = `${lab.prefix}${tag}`;
  workloads.push(ns);
  const path = await netnsAdd(ns);
  const r = await callAgent(lab.socket, 'attach', { network, containerId: `${lab.prefix}${tag}`, netns: path });
  return { ns, ip: r.ip };
}

/** A TCP connect from `ns` to ip:port with a node one-liner: 0 connected, 3 refused, 4 no answer. */
async function connect(ns: string, ip: string, port: number): Promise<number> {
  const r = await execIn(ns, [process.execPath, '-e', `require('net').connect({port:${port},host:'${ip}',timeout:1000}).on('connect',()=>process.exit(0)).on('error',()=>process.exit(3)).on('timeout',()=>process.exit(4))`]);
  return r.code;
}

const firewall = (rules: unknown[]) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Firewall',
  metadata: { name: FW },
  spec: { host: 'h1', networks: [{ network: 'front' }, { network: 'back' }], defaultAction: 'deny', rules },
});

beforeAll(async () => {
  await lab.start();
  await lab.createNetwork('front', '100.64.61.0/24');
  await lab.createNetwork('back', '100.64.62.0/24');
});

afterAll(async () => {
  await lab.api('DELETE', `/api/v1/firewalls/${FW}`).catch(() => undefined);
  for (const ns of workloads) await netnsDel(ns);
  await lab.stop();
  await netnsDel(vnfNetnsName('h1', { kind: 'Firewall', name: FW }));
});

test('a Firewall applied through the API filters between two networks, routes through itself, and goes away without a trace', async () => {
  const a = await workload('a', 'front');
  const b = await workload('b', 'back');
  // Before the firewall: the networks are isolated.
  expect(await ping(a.ns, b.ip)).toBe(false);
  const server = spawn('ip', ['netns', 'exec', b.ns, process.execPath, '-e', "require('net').createServer((c)=>{c.on('error',()=>{});c.end('ok')}).listen(8080);setTimeout(()=>process.exit(0),120000)"], { stdio: 'ignore' });
  await lab.api('POST', '/api/v1/firewalls', firewall([{ name: 'web', action: 'allow', from: [{ network: 'front' }], to: [{ network: 'back' }], protocol: 'tcp', ports: [8080, 8082] }, { name: 'ping', action: 'allow', from: [{ network: 'front' }], protocol: 'icmp' }]));
  const ready = await waitFor('the firewall to be ready', async () => {
    const f = await lab.api<FirewallView>('GET', `/api/v1/firewalls/${FW}`);
    return f.status?.ready === true ? f : undefined;
  });
  const [front, back] = ready.status?.interfaces ?? [];
  expect(front?.network).toBe('front');
  // Existing workloads got the route through the firewall (the agent's pass), a new one gets it at attach.
  await waitFor('route in a', async () => (await ipJson<Array<{ dst: string; gateway?: string }>>('-n', a.ns, 'route', 'show')).some((r) => r.dst === '100.64.62.0/24' && r.gateway === front?.ip));
  const a2 = await workload('a2', 'front');
  expect(await ipJson<Array<{ dst: string; gateway?: string }>>('-n', a2.ns, 'route', 'show')).toContainEqual(expect.objectContaining({ dst: '100.64.62.0/24', gateway: front?.ip }));
  await waitFor('route in b', async () => (await ipJson<Array<{ dst: string; gateway?: string }>>('-n', b.ns, 'route', 'show')).some((r) => r.dst === '100.64.61.0/24' && r.gateway === back?.ip));

  expect(await connect(a.ns, b.ip, 8080)).toBe(0);
  expect(await connect(a.ns, b.ip, 8081)).toBe(4); // default deny: dropped
  // allowed, nothing listens: b's reset comes back through the firewall (the host tracks each packet once)
  expect(await connect(a.ns, b.ip, 8082)).toBe(3);
  expect(await ping(a.ns, b.ip)).toBe(true);
  expect(await ping(b.ns, a.ip)).toBe(false); // no rule lets back ping front
  const counted = await waitFor('counters', async () => {
    const f = await lab.api<FirewallView>('GET', `/api/v1/firewalls/${FW}`);
    const web = f.status?.counters?.find((c) => c.rule === 'web');
    return web && web.packets > 0 ? f : undefined;
  }, 60_000, 500);
  expect(counted.status?.counters?.map((c) => c.rule)).toEqual(['web', 'ping', 'default']);

  await lab.api('DELETE', `/api/v1/firewalls/${FW}`);
  await waitFor('the namespace to go', async () => !(await netnsList()).includes(vnfNetnsName('h1', { kind: 'Firewall', name: FW })));
  await waitFor('the routes to go', async () => !(await ipJson<Array<{ dst: string }>>('-n', a.ns, 'route', 'show')).some((r) => r.dst === '100.64.62.0/24'));
  expect((await lab.hostLinks()).filter((l) => l.ifname.startsWith('wf-'))).toEqual([]);
  expect(await ping(a.ns, b.ip)).toBe(false);
  server.kill('SIGKILL');
});
