// The Router VNF in external mode interface, end to end in the 3-host lab: a
// router on h3 connects blue (a workload on h1) and red (web1 on h2) and
// has its own address on the segment of h3's "eth1" (a macvlan there), with
// a port forward on that address and a floating IP for web1. The segment
// is a namespace this test makes, joined to h3's namespace by a veth whose
// h3 end is eth1 (203.0.113.0/24, TEST-NET-3; the "outside" holds the
// gateway, 203.0.113.1): nothing routes further, so no packet leaves the
// lab. Needs `npm run build` (the lab runs dist/).
//
//   blue 100.64.91.0/24  a (h1) ----+
//   red  100.64.92.0/24  web1 (h2) -+-- router on h3 -- macvlan "external" on h3's eth1 -- outside 203.0.113.1
//                                          203.0.113.10 (own), 203.0.113.20 (web1's floating IP)
import { jest } from '@jest/globals';
import { VNF_UPLINK_TABLE } from '../../../model/vnf-names.js';
import type { Workload } from '../../lab/index.js';
import { OUTSIDE_PORT, RouterLab, type Attached } from '../../support/router-probes.js';
import { execIn, ip, ipJson, netnsList, waitFor } from '../../support/test-lab.js';

jest.setTimeout(600_000);

const rl = new RouterLab('rx');
const { lab, router: ROUTER, routerNetns: ROUTER_NETNS, outside: OUTSIDE } = rl;
const GATEWAY = '203.0.113.1';
const ROUTER_IP = '203.0.113.10';
const FLOATING_IP = '203.0.113.20';
const NETS = { blue: '100.64.91.0/24', red: '100.64.92.0/24' } as const;
const tcpRead = (from: Workload | string, to: string, port: number) => rl.tcpRead(from, to, port);

interface RouterView {
  metadata: { generation?: number };
  status?: {
    ready?: boolean;
    observedGeneration?: number;
    interfaces?: Array<{ network: string; ip: string }>;
    counters?: Array<{ rule: string; connections?: number; packets?: number }>;
    conditions?: Array<{ status: string; reason: string; message: string }>;
  };
}

interface IpLink {
  ifindex: number;
  ifname: string;
  address: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
}

const routerDoc = (iface: string, snat = true) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Router',
  metadata: { name: ROUTER },
  spec: {
    host: 'h3',
    interfaces: [{ network: 'blue' }, { network: 'red' }],
    external: { mode: 'interface', interface: iface, address: `${ROUTER_IP}/24`, gateway: GATEWAY, snat },
    portForwards: [{ protocol: 'tcp', port: 8080, to: { endpoint: web1.endpoint, port: 80 } }],
    floatingIPs: [{ address: FLOATING_IP, endpoint: web1.endpoint }],
  },
});

async function routerView(): Promise<RouterView> {
  return lab.api<RouterView>('GET', `/api/v1/routers/${ROUTER}`);
}

/** The router's external interface as `ip -d` reads it, with its IPv4 addresses. */
async function externalLink(): Promise<{ link: IpLink | undefined; addrs: string[] }> {
  const links = await ipJson<IpLink[]>('-d', '-n', ROUTER_NETNS, 'link', 'show');
  const link = links.find((l) => l.ifname === 'external');
  if (!link) return { link, addrs: [] };
  const addrs = await ipJson<Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number }> }>>('-n', ROUTER_NETNS, 'addr', 'show', 'dev', 'external');
  return { link, addrs: (addrs[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`).sort() };
}

let a: Attached;
let web1: Attached;

beforeAll(async () => {
  // h3's end of the segment is its "eth1", with no address: the outside holds the gateway.
  await rl.up(NETS, { hostIfname: 'eth1', outsideIp: GATEWAY });
  a = await rl.attach('h1', 'a', 'blue');
  web1 = await rl.attach('h2', 'web1', 'red');
  rl.echo(web1.w.path, 80);
});

afterAll(() => rl.down());

test('a host interface that does not exist on the router\'s host: the router is not ready, and its condition names the interface and the host', async () => {
  await lab.api('POST', '/api/v1/routers', routerDoc('eth9'));
  const view = await waitFor('the router to report', async () => {
    const r = await routerView();
    return r.status?.observedGeneration === 1 && r.status.conditions?.[0]?.reason === 'NotReady' ? r : undefined;
  }, 60_000, 200);
  expect(view.status?.ready).toBe(false);
  expect(view.status?.conditions?.[0]?.message).toContain('host interface "eth9" does not exist on host "h3"');
  expect((await externalLink()).link).toBeUndefined();
});

test('on eth1: a macvlan with the router\'s address and the floating IP; blue reaches the outside with the router\'s address, the outside reaches web1 by the port forward and the floating IP, and web1 leaves with its floating IP', async () => {
  await lab.api('PUT', `/api/v1/routers/${ROUTER}`, routerDoc('eth1'));
  const ready = await waitFor('the router to be ready', async () => {
    const r = await routerView();
    return r.status?.ready === true && r.status.observedGeneration === r.metadata.generation ? r : undefined;
  }, 60_000, 200);

  const { link, addrs } = await externalLink();
  expect(link?.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
  expect(link?.ifalias).toBe(`weft:vnf:router/${ROUTER}/.external`);
  expect(addrs).toEqual([`${ROUTER_IP}/24`, `${FLOATING_IP}/32`]);
  expect(await ipJson('-n', ROUTER_NETNS, 'route', 'show', 'default')).toEqual([expect.objectContaining({ dst: 'default', gateway: GATEWAY, dev: 'external' })]);
  // nothing of the host's own routing is used: no uplink, no uplink table on h3
  const h3 = lab.host('h3').netns;
  expect((await ipJson<IpLink[]>('-n', h3, 'link', 'show')).map((l) => l.ifname).filter((n) => n.startsWith('wu-'))).toEqual([]);
  expect((await execIn(h3, ['nft', 'list', 'table', 'ip', VNF_UPLINK_TABLE])).code).not.toBe(0);

  // out: the outside sees the router's own address, not the workload's; web1 leaves with its floating IP
  await waitFor('a to reach the outside', async () => (await tcpRead(a.w, GATEWAY, OUTSIDE_PORT)) !== '', 30_000, 200);
  expect(await tcpRead(a.w, GATEWAY, OUTSIDE_PORT)).toBe(ROUTER_IP);
  expect(await lab.ping(a.w, GATEWAY)).toBe(true);
  expect(await tcpRead(web1.w, GATEWAY, OUTSIDE_PORT)).toBe(FLOATING_IP);
  // blue <-> red through the router, untranslated
  expect(await tcpRead(a.w, web1.ip, 80)).toBe(a.ip);

  // in: the port forward on the router's address, and the floating IP, reach web1, which sees the outside's address
  expect(await tcpRead(OUTSIDE, ROUTER_IP, 8080)).toBe(GATEWAY);
  expect(await tcpRead(OUTSIDE, FLOATING_IP, 80)).toBe(GATEWAY);
  expect(await execIn(OUTSIDE, ['ping', '-c', '1', '-W', '2', FLOATING_IP])).toMatchObject({ code: 0 });
  // and nothing else comes in: another port of the router's address, the workloads' own addresses
  expect(await tcpRead(OUTSIDE, ROUTER_IP, 80)).toBe('');
  expect(await tcpRead(OUTSIDE, web1.ip, 80)).toBe('');
  // the segment does not learn the router's addresses on the connected networks: ARP there is answered for the segment's addresses only
  const blueIp = ready.status?.interfaces?.find((i) => i.network === 'blue')?.ip ?? '';
  await ip('-n', OUTSIDE, 'route', 'add', NETS.blue, 'dev', 'eth0');
  try {
    expect((await execIn(OUTSIDE, ['ping', '-c', '1', '-W', '2', blueIp])).code).not.toBe(0);
  } finally {
    await ip('-n', OUTSIDE, 'route', 'del', NETS.blue, 'dev', 'eth0');
  }

  const counted = await waitFor('NAT counters', async () => {
    const r = await routerView();
    const c = r.status?.counters ?? [];
    return ['snat', 'forward tcp/8080', `floating ${FLOATING_IP}`].every((rule) => c.some((x) => x.rule === rule && (x.connections ?? 0) > 0)) ? r : undefined;
  }, 60_000, 500);
  expect(counted.status?.counters?.map((c) => c.rule)).toEqual(['snat', 'forward tcp/8080', `floating ${FLOATING_IP}`, 'traffic in', 'traffic out']);
});

test('an agent killed under it: the router keeps forwarding; restarted, it adopts the macvlan as it is and makes nothing twice', async () => {
  const before = await externalLink();
  await lab.killAgent('h3');
  expect(await tcpRead(OUTSIDE, FLOATING_IP, 80)).toBe(GATEWAY);
  expect(await tcpRead(a.w, GATEWAY, OUTSIDE_PORT)).toBe(ROUTER_IP);
  await lab.startAgent('h3');
  await waitFor('the router to be ready again', async () => ((await routerView()).status?.ready === true ? true : undefined), 60_000, 200);
  const after = await externalLink();
  expect(after.link?.ifindex).toBe(before.link?.ifindex);
  expect(after.link?.address).toBe(before.link?.address);
  expect(after.addrs).toEqual(before.addrs);
  expect(await ipJson('-n', ROUTER_NETNS, 'route', 'show', 'default')).toHaveLength(1);
  expect(await tcpRead(OUTSIDE, ROUTER_IP, 8080)).toBe(GATEWAY);
});

test('snat false: the router only routes: the outside, which routes the subnets to it, sees and reaches the workloads\' own addresses; the floating IP stays 1:1', async () => {
  await lab.api('PUT', `/api/v1/routers/${ROUTER}`, routerDoc('eth1', false));
  await waitFor('the router to apply snat: false', async () => {
    const r = await routerView();
    return r.status?.ready === true && r.status.observedGeneration === r.metadata.generation ? r : undefined;
  }, 60_000, 200);
  for (const net of Object.values(NETS)) await ip('-n', OUTSIDE, 'route', 'add', net, 'via', ROUTER_IP);
  try {
    await waitFor('a to leave with its own address', async () => (await tcpRead(a.w, GATEWAY, OUTSIDE_PORT)) === a.ip, 30_000, 200);
    expect(await tcpRead(OUTSIDE, web1.ip, 80)).toBe(GATEWAY);
    expect(await tcpRead(web1.w, GATEWAY, OUTSIDE_PORT)).toBe(FLOATING_IP);
    expect(await tcpRead(OUTSIDE, FLOATING_IP, 80)).toBe(GATEWAY);
    expect((await routerView()).status?.counters?.map((c) => c.rule)).toEqual(['forward tcp/8080', `floating ${FLOATING_IP}`, 'traffic in', 'traffic out']);
  } finally {
    for (const net of Object.values(NETS)) await ip('-n', OUTSIDE, 'route', 'del', net, 'via', ROUTER_IP);
  }
});

test('deleting the router leaves nothing: no namespace, no macvlan on eth1, no table or route on h3; the outside reaches nothing of it', async () => {
  await lab.api('DELETE', `/api/v1/routers/${ROUTER}`);
  await waitFor('the router namespace to go', async () => !(await netnsList()).includes(ROUTER_NETNS), 30_000, 200);
  const h3 = lab.host('h3').netns;
  const links = await ipJson<IpLink[]>('-d', '-n', h3, 'link', 'show');
  expect(links.filter((l) => l.linkinfo?.info_kind === 'macvlan' || l.ifname.startsWith('wf-') || l.ifname.startsWith('wu-'))).toEqual([]);
  expect(links.map((l) => l.ifname)).toContain('eth1');
  expect((await execIn(h3, ['nft', 'list', 'table', 'ip', VNF_UPLINK_TABLE])).code).not.toBe(0);
  expect(await ip('-n', h3, 'route', 'show')).not.toContain('203.0.113.');
  await waitFor('the workloads\' routes through the router to go', async () => {
    const routes = await ipJson<Array<{ dst: string; gateway?: string }>>('-n', a.w.netns, 'route', 'show');
    return !routes.some((r) => r.dst === '0.0.0.0/1' || r.dst === NETS.red);
  }, 30_000, 200);
  expect(await tcpRead(OUTSIDE, FLOATING_IP, 80)).toBe('');
  expect(await tcpRead(OUTSIDE, ROUTER_IP, 8080)).toBe('');
  expect(await tcpRead(a.w, GATEWAY, OUTSIDE_PORT)).toBe('');
});
