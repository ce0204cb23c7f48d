// The Router VNF end to end in the 3-host lab: a router on h3 connects
// blue (a workload on h1) and red (a workload on h2), gives them a way out
// in mode host, and publishes a port of web1 (red); green (h1) is
// connected to nothing. The "outside" is a namespace this test makes and
// joins to h3's namespace with a veth (203.0.113.0/24, TEST-NET-3): h3 has
// no other route, so no packet leaves the lab. Needs `npm run build` (the
// lab runs dist/).
//
//   blue 100.64.81.0/24   a (h1) ----+
//   red  100.64.82.0/24   web1 (h2) -+-- router on h3 -- uplink -- h3 203.0.113.1 -- outside 203.0.113.100
//   green 100.64.83.0/24  g (h1)     (not connected)
import { jest } from '@jest/globals';
import type { Router } from '../../../model/kinds.js';
import type { ResourceList } from '../../../model/rest.js';
import { VNF_UPLINK_TABLE } from '../../../model/vnf-names.js';
import type { Workload } from '../../lab/index.js';
import { OUTSIDE_PORT, RouterLab, type Attached } from '../../support/router-probes.js';
import { execIn, ip, ipJson, netnsList, waitFor } from '../../support/test-lab.js';

jest.setTimeout(600_000);

const rl = new RouterLab('rt');
const { lab, router: ROUTER, routerNetns: ROUTER_NETNS, outside: OUTSIDE } = rl;
const H3_OUTSIDE_IP = '203.0.113.1';
const OUTSIDE_IP = '203.0.113.100';
const NETS = { blue: '100.64.81.0/24', red: '100.64.82.0/24', green: '100.64.83.0/24' } as const;
const tcpRead = (from: Workload | string, to: string, port: number) => rl.tcpRead(from, to, port);

interface RouterView {
  status?: {
    ready?: boolean;
    interfaces?: Array<{ network: string; ip: string }>;
    counters?: Array<{ rule: string; connections?: number; packets?: number }>;
    connections?: { total: number; items: Array<{ protocol: string; port: number; client: string; endpoint: string; state?: string }> };
    conditions?: Array<{ message: string }>;
  };
}

const routerDoc = (portForwards: unknown[]) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Router',
  metadata: { name: ROUTER },
  spec: { host: 'h3', interfaces: [{ network: 'blue' }, { network: 'red' }], external: { mode: 'host' }, portForwards },
});

async function routesOf(w: Workload): Promise<Array<{ dst: string; gateway?: string }>> {
  return ipJson<Array<{ dst: string; gateway?: string }>>('-n', w.netns, 'route', 'show');
}

async function routerView(): Promise<RouterView> {
  return lab.api<RouterView>('GET', `/api/v1/routers/${ROUTER}`);
}

let a: Attached;
let web1: Attached;
let g: Attached;
let c: Attached;

beforeAll(async () => {
  await rl.up(NETS, { hostIfname: 'out0', hostIp: H3_OUTSIDE_IP, outsideIp: OUTSIDE_IP });
  a = await rl.attach('h1', 'a', 'blue');
  web1 = await rl.attach('h2', 'web1', 'red');
  g = await rl.attach('h1', 'g', 'green');
  c = await rl.attach('h3', 'c', 'blue');
  rl.echo(web1.w.path, 80);
  rl.echo(g.w.path, 80);
});

afterAll(() => rl.down());

test('before the router: the networks are isolated from each other and from the outside', async () => {
  expect(await lab.ping(a.w, web1.ip)).toBe(false);
  expect(await tcpRead(a.w, OUTSIDE_IP, OUTSIDE_PORT)).toBe('');
});

test('refused with nothing created: floating IPs in mode host, mode interface without its address and gateway', async () => {
  const fip = { ...routerDoc([]), spec: { ...routerDoc([]).spec, floatingIPs: [{ address: '203.0.113.20', endpoint: web1.endpoint }] } };
  await expect(lab.api('POST', '/api/v1/routers', fip)).rejects.toThrow(/only external mode: interface has \(this router has mode host\)/);
  const partial = { ...routerDoc([]), spec: { ...routerDoc([]).spec, external: { mode: 'interface', interface: 'eth1' } } };
  await expect(lab.api('POST', '/api/v1/routers', partial)).rejects.toThrow(/mode interface needs external\.address, external\.gateway/);
  expect((await lab.api<ResourceList<Router>>('GET', '/api/v1/routers')).items).toEqual([]);
});

test('a router on h3 routes blue (h1) <-> red (h2), takes both out with the host\'s address, and publishes web1:80 on the host', async () => {
  await lab.api('POST', '/api/v1/routers', routerDoc([{ protocol: 'tcp', port: 8080, to: { endpoint: web1.endpoint, port: 80 } }]));
  const ready = await waitFor('the router to be ready', async () => {
    const r = await routerView();
    return r.status?.ready === true ? r : undefined;
  }, 60_000, 200);
  const blueIp = ready.status?.interfaces?.find((i) => i.network === 'blue')?.ip;
  const redIp = ready.status?.interfaces?.find((i) => i.network === 'red')?.ip;
  // Existing workloads got their routes, without anything done inside them; their default route stays.
  await waitFor('a\'s routes', async () => (await routesOf(a.w)).some((r) => r.dst === '0.0.0.0/1' && r.gateway === blueIp));
  await waitFor('web1\'s routes', async () => (await routesOf(web1.w)).some((r) => r.dst === NETS.blue && r.gateway === redIp));
  const aRoutes = await routesOf(a.w);
  expect(aRoutes).toContainEqual(expect.objectContaining({ dst: NETS.red, gateway: blueIp }));
  expect(aRoutes).toContainEqual(expect.objectContaining({ dst: '128.0.0.0/1', gateway: blueIp }));
  expect(aRoutes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '100.64.81.1' }));
  // green is connected to nothing: no route through the router
  expect((await routesOf(g.w)).map((r) => r.dst)).toEqual(expect.not.arrayContaining([NETS.blue, '0.0.0.0/1']));

  // blue (h1) <-> red (h2), through h3: ping and TCP (web1 sees a's own address: routed, not translated)
  expect(await lab.ping(a.w, web1.ip)).toBe(true);
  expect(await lab.ping(web1.w, a.ip)).toBe(true);
  expect(await tcpRead(a.w, web1.ip, 80)).toBe(a.ip);

  // green stays unreachable, from blue and to the outside
  expect(await lab.ping(a.w, g.ip)).toBe(false);
  expect(await tcpRead(a.w, g.ip, 80)).toBe('');
  expect(await tcpRead(g.w, OUTSIDE_IP, OUTSIDE_PORT)).toBe('');

  // out: the outside sees h3's address, not the workload's
  expect(await tcpRead(a.w, OUTSIDE_IP, OUTSIDE_PORT)).toBe(H3_OUTSIDE_IP);
  expect(await tcpRead(web1.w, OUTSIDE_IP, OUTSIDE_PORT)).toBe(H3_OUTSIDE_IP);
  // a workload on the router's own host too
  expect(await tcpRead(c.w, OUTSIDE_IP, OUTSIDE_PORT)).toBe(H3_OUTSIDE_IP);
  expect(await tcpRead(c.w, web1.ip, 80)).toBe(c.ip);
  expect(await lab.ping(a.w, OUTSIDE_IP)).toBe(true);

  // in: a port forward on h3's address reaches web1:80; web1 sees the outside's address
  expect(await tcpRead(OUTSIDE, H3_OUTSIDE_IP, 8080)).toBe(OUTSIDE_IP);
  // and nothing else comes in: the outside has no way to the workloads' addresses or other ports
  expect(await tcpRead(OUTSIDE, H3_OUTSIDE_IP, 8081)).toBe('');
  // hairpin: a workload behind the router reaches the port published on the host's address (from h1 and on h3);
  // web1 sees the host's end of the router's uplink (the host translated it so the router does not take its own address back)
  expect(await tcpRead(a.w, H3_OUTSIDE_IP, 8080)).toMatch(/^169\.254\.\d+\.\d+$/);
  expect(await tcpRead(c.w, H3_OUTSIDE_IP, 8080)).toMatch(/^169\.254\.\d+\.\d+$/);

  // NAT counters in the status
  const counted = await waitFor('NAT counters', async () => {
    const r = await routerView();
    const c = r.status?.counters ?? [];
    return c.some((x) => x.rule === 'snat' && (x.connections ?? 0) > 0) && c.some((x) => x.rule === 'forward tcp/8080' && (x.connections ?? 0) > 0) ? r : undefined;
  }, 60_000, 500);
  expect(counted.status?.counters?.map((c) => c.rule)).toEqual(['snat', 'forward tcp/8080', 'traffic in', 'traffic out']);
  // what crossed the way out, each direction
  for (const rule of ['traffic in', 'traffic out']) expect(counted.status?.counters?.find((c) => c.rule === rule)?.packets).toBeGreaterThan(0);
  // the connection through the port forward, from conntrack in the router (closed by now: time-wait lasts two minutes)
  const listed = await waitFor('the port-forward connection listed', async () => {
    const items = (await routerView()).status?.connections?.items ?? [];
    return items.find((x) => x.port === 8080 && x.client.startsWith(`${OUTSIDE_IP}:`)) ?? undefined;
  }, 60_000, 500);
  expect(listed).toMatchObject({ protocol: 'tcp', endpoint: `${web1.ip}:80` });
});

test('deleting the router restores isolation and leaves nothing of it in any namespace', async () => {
  await lab.api('DELETE', `/api/v1/routers/${ROUTER}`);
  await waitFor('the router namespace to go', async () => !(await netnsList()).includes(ROUTER_NETNS), 30_000, 200);
  let left: unknown[] = [];
  await waitFor('the routes to go', async () => {
    const all = [...(await routesOf(a.w)), ...(await routesOf(web1.w))];
    left = all.filter((r) => r.gateway !== undefined && ['0.0.0.0/1', '128.0.0.0/1', NETS.red, NETS.blue].includes(r.dst));
    return left.length === 0;
  }, 30_000, 200).catch((e: unknown) => {
    throw new Error(`${String(e)}: ${JSON.stringify(left)}`);
  });
  // the workloads' own default routes are as attach made them
  expect(await routesOf(a.w)).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '100.64.81.1' }));
  for (const h of ['h1', 'h2', 'h3']) {
    const links = await ipJson<Array<{ ifname: string }>>('-n', lab.host(h).netns, 'link', 'show');
    expect(links.map((l) => l.ifname).filter((n) => n.startsWith('wf-') || n.startsWith('wu-'))).toEqual([]);
  }
  const h3 = lab.host('h3').netns;
  await waitFor('the uplink table to go', async () => !(await ip('-n', h3, 'route', 'show')).includes('169.254.') && (await execIn(h3, ['nft', 'list', 'table', 'ip', VNF_UPLINK_TABLE])).code !== 0, 30_000, 200);
  expect(await lab.ping(a.w, web1.ip)).toBe(false);
  expect(await tcpRead(a.w, OUTSIDE_IP, OUTSIDE_PORT)).toBe('');
  expect(await tcpRead(OUTSIDE, H3_OUTSIDE_IP, 8080)).toBe('');
});
