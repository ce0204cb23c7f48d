// A Firewall in front of a Router, end to end in the 3-host lab: web (h1)
// is guarded by a firewall on h2 together with transit; a router on h3
// connects transit and red and has a way out (mode host). web's traffic to
// red and to the outside passes the firewall, then the router; the
// firewall's rules decide what passes. The "outside" is a namespace this
// test makes and joins to h3 (203.0.113.0/24): no packet leaves the lab.
// Needs `npm run build` (the lab runs dist/).
//
//   web     100.64.91.0/24  w (h1) -- fw (h2) -- transit 100.64.92.0/24 -- edge (h3) -- red 100.64.93.0/24  r1 (h2)
//                                                                            `-- uplink -- h3 203.0.113.1 -- outside 203.0.113.100
import { jest } from '@jest/globals';
import { VNF_UPLINK_TABLE, vnfNetnsName } from '../../../model/vnf-names.js';
import type { Workload } from '../../lab/index.js';
import { OUTSIDE_PORT, RouterLab, type Attached } from '../../support/router-probes.js';
import { execIn, ip, ipJson, netnsDel, netnsList, waitFor } from '../../support/test-lab.js';

jest.setTimeout(600_000);

const rl = new RouterLab('fc');
const lab = rl.lab;
const FIREWALL = `${rl.prefix}fw`;
const ROUTER = rl.router;
const FIREWALL_NETNS = vnfNetnsName('h2', { kind: 'Firewall', name: FIREWALL });
const NAMESPACES = [FIREWALL_NETNS, rl.routerNetns];
const H3_OUTSIDE_IP = '203.0.113.1';
const OUTSIDE_IP = '203.0.113.100';
/** open in the outside, not allowed by the firewall */
const DENIED_PORT = 7001;
const NETS = { web: '100.64.91.0/24', transit: '100.64.92.0/24', red: '100.64.93.0/24' } as const;

interface Ready {
  status?: { ready?: boolean; counters?: Array<{ rule: string; packets?: number }> };
}

const firewallDoc = {
  apiVersion: 'weft.dev/v1',
  kind: 'Firewall',
  metadata: { name: FIREWALL },
  spec: {
    host: 'h2',
    networks: [{ network: 'web' }, { network: 'transit' }],
    defaultAction: 'deny',
    rules: [
      { name: 'out', action: 'allow', from: [{ network: 'web' }], to: [{ cidr: '203.0.113.0/24' }], protocol: 'tcp', ports: [OUTSIDE_PORT] },
      { name: 'to-red', action: 'allow', from: [{ network: 'web' }], to: [{ network: 'red' }], protocol: 'tcp', ports: [80] },
    ],
  },
};

const routerDoc = {
  apiVersion: 'weft.dev/v1',
  kind: 'Router',
  metadata: { name: ROUTER },
  spec: { host: 'h3', interfaces: [{ network: 'transit' }, { network: 'red' }], external: { mode: 'host' } },
};

async function routesOf(w: Workload): Promise<Array<{ dst: string; gateway?: string }>> {
  return ipJson<Array<{ dst: string; gateway?: string }>>('-n', w.netns, 'route', 'show');
}

async function ready(kind: 'firewalls' | 'routers', name: string): Promise<void> {
  await waitFor(`${kind}/${name} to be ready`, async () => (await lab.api<Ready>('GET', `/api/v1/${kind}/${name}`)).status?.ready === true, 60_000, 200);
}

let wa: Attached;
let w: Workload;
let r1: Attached;

beforeAll(async () => {
  await rl.up(NETS, { hostIfname: 'out0', hostIp: H3_OUTSIDE_IP, outsideIp: OUTSIDE_IP });
  rl.echo(`/run/netns/${rl.outside}`, DENIED_PORT);
  wa = await rl.attach('h1', 'w', 'web');
  w = wa.w;
  r1 = await rl.attach('h2', 'r1', 'red');
  rl.echo(r1.w.path, 80);
  rl.echo(r1.w.path, 81);
});

afterAll(async () => {
  await lab.api('DELETE', `/api/v1/firewalls/${FIREWALL}`).catch(() => undefined);
  await rl.down();
  await netnsDel(FIREWALL_NETNS);
});

test('web reaches red and the outside through the firewall, then the router; the firewall decides what passes', async () => {
  await lab.api('POST', '/api/v1/firewalls', firewallDoc);
  await lab.api('POST', '/api/v1/routers', routerDoc);
  await ready('firewalls', FIREWALL);
  await ready('routers', ROUTER);
  // w got the way out and red through the firewall, with nothing done inside it
  await waitFor("w's routes through the firewall", async () => {
    const dsts = (await routesOf(w)).filter((r) => r.gateway !== undefined).map((r) => r.dst);
    return ['0.0.0.0/1', '128.0.0.0/1', NETS.red].every((d) => dsts.includes(d));
  });
  await waitFor("r1's route back to web", async () => (await routesOf(r1.w)).some((r) => r.dst === NETS.web));

  // out: the outside sees h3's address (the router translated web's traffic like its own networks')
  expect(await rl.tcpRead(w, OUTSIDE_IP, OUTSIDE_PORT)).toBe(H3_OUTSIDE_IP);
  // red: routed, not translated: r1 sees w's own address
  expect(await rl.tcpRead(w, r1.ip, 80)).toBe(wa.ip);
  // what the firewall's rules do not allow does not pass, though the router would route it
  expect(await rl.tcpRead(w, OUTSIDE_IP, DENIED_PORT)).toBe('');
  expect(await rl.tcpRead(w, r1.ip, 81)).toBe('');
  // and the firewall counted what it let through
  await waitFor('the firewall to count its rules', async () => {
    const c = (await lab.api<Ready>('GET', `/api/v1/firewalls/${FIREWALL}`)).status?.counters ?? [];
    return ['out', 'to-red'].every((rule) => c.some((x) => x.rule === rule && (x.packets ?? 0) > 0));
  }, 60_000, 500);
});

test('without the firewall the chain is gone: web loses its way out, and deleting the router leaves nothing', async () => {
  await lab.api('DELETE', `/api/v1/firewalls/${FIREWALL}`);
  await waitFor("w's routes through the firewall to go", async () => !(await routesOf(w)).some((r) => ['0.0.0.0/1', '128.0.0.0/1', NETS.red].includes(r.dst)), 30_000, 200);
  expect(await rl.tcpRead(w, OUTSIDE_IP, OUTSIDE_PORT)).toBe('');
  await lab.api('DELETE', `/api/v1/routers/${ROUTER}`);
  await waitFor('the VNF namespaces to go', async () => {
    const list = await netnsList();
    return NAMESPACES.every((ns) => !list.includes(ns));
  }, 30_000, 200);
  await waitFor("r1's route to web to go", async () => !(await routesOf(r1.w)).some((r) => r.dst === NETS.web), 30_000, 200);
  for (const h of ['h1', 'h2', 'h3']) {
    const links = await ipJson<Array<{ ifname: string }>>('-n', lab.host(h).netns, 'link', 'show');
    expect(links.map((l) => l.ifname).filter((n) => n.startsWith('wf-') || n.startsWith('wu-'))).toEqual([]);
  }
  const h3 = lab.host('h3').netns;
  await waitFor('the uplink table to go', async () => !(await ip('-n', h3, 'route', 'show')).includes('169.254.') && (await execIn(h3, ['nft', 'list', 'table', 'ip', VNF_UPLINK_TABLE])).code !== 0, 30_000, 200);
});
