// The two routers of the router benchmark (router-bench.ts), side by side in
// one run, in the same shape:
//
//   blue client -- blue bridge --+              +-- uplink -- host (forwarding, masquerade) -- outside 203.0.113.100
//                                +-- router ----+
//   red server  -- red bridge  --+
//   (and a neighbour of the client on blue: the same bridge, no router)
//
// weft: a one-host lab; the workloads are attached to the networks blue and
// red by the agent of h1, a Router on h1 connects them (external mode host),
// and the outside is a namespace of the benchmark joined to h1. The
// workloads sit on the router's host so that the figure is the router's: a
// cross-host path adds the overlay, the same for both and the largest cost
// (test/kernel/vnf/router*.test.ts cover that path).
// by hand: the same from `ip` and `nft` argv arrays (no shell), in a "host"
// namespace of its own: two bridges, the endpoint namespaces on veths (with
// the MTU of weft's networks, which leave room for the overlay), a
// router namespace on both bridges with IPv4 forwarding, a default route
// over its uplink veth and an nft masquerade out of it, and the host
// masquerading the uplink's address out to its outside, as weft's host does.
//
// Everything carries the per-run prefix wt<pid>rb- (the router's namespace
// is named by weft and removed by name), so `weft lab down` sweeps a
// crashed run's leftovers.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NETNS_RUN_DIR } from '../../model/kernel-names.js';
import { vnfNetnsName } from '../../model/vnf-names.js';
import { Lab, labPrefix } from '../lab/index.js';
import { addOutside } from '../support/test-lab.js';
import { sleep } from './overlay-lab.js';

const run = promisify(execFile);

export const NETS = { blue: '100.64.91.0/24', red: '100.64.92.0/24' } as const;
export const HOST_OUTSIDE_IP = '203.0.113.1';
export const OUTSIDE_IP = '203.0.113.100';
/** where the port forwards of the benchmark lead on the red workload */
export const FORWARD_TO_PORT = 5201;

/** One side of the benchmark: where its client, server and outside are, and the namespaces to watch for port forwards. */
export interface RouterSide {
  /** namespace paths */
  client: string;
  server: string;
  outside: string;
  serverIp: string;
  /** a second server on blue, the client's own network: the path through the host's bridge alone, no router */
  neighbour: string;
  neighbourIp: string;
  /** the namespaces a port forward must reach (router, host) */
  router: string;
  host: string;
}

export interface RouterLab {
  prefix: string;
  dir: string;
  lab: Lab;
  routerName: string;
  routerNetns: string;
  /** the red workload's endpoint (port forwards name it) */
  serverEndpoint: string;
  /** the networks' MTU (weft's, for the overlay): the hand-built bridges' ports get the same */
  mtu: number;
  weft: RouterSide;
  hand: RouterSide;
}

const path = (ns: string) => `${NETNS_RUN_DIR}/${ns}`;

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** argv (nft, sysctl) inside a namespace (its path), without a shell. */
export async function execNs(netnsPath: string, argv: string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=${netnsPath}`, ...argv], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function netns(name: string): Promise<void> {
  await ip('netns', 'add', name);
  await ip('-n', name, 'link', 'set', 'lo', 'up');
}

/** A veth from `a` (name aIf) to `b` (name bIf), with an address on the b side when given. */
async function veth(a: string, aIf: string, b: string, bIf: string, bAddr?: string, mtu = 1500): Promise<void> {
  await ip('-n', a, 'link', 'add', aIf, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', bIf, 'mtu', String(mtu), 'netns', b);
  if (bAddr !== undefined) await ip('-n', b, 'addr', 'add', bAddr, 'dev', bIf);
  await ip('-n', b, 'link', 'set', bIf, 'up');
}

/** The outside: a namespace joined to `host` by a veth (host end 203.0.113.1, outside end 203.0.113.100). */
const outside = (host: string, name: string) => addOutside(host, name, `${OUTSIDE_IP}/24`, { cidr: `${HOST_OUTSIDE_IP}/24` });

const routerDoc = (name: string, portForwards: unknown[]) => ({
  apiVersion: 'weft.dev/v1',
  kind: 'Router',
  metadata: { name },
  spec: { host: 'h1', interfaces: [{ network: 'blue' }, { network: 'red' }], external: { mode: 'host' }, portForwards },
});

/** PUT the router with these port forwards (the REST apply). */
export async function applyRouter(l: RouterLab, portForwards: unknown[]): Promise<void> {
  await l.lab.api('PUT', `/api/v1/routers/${l.routerName}`, routerDoc(l.routerName, portForwards));
}

async function buildWeft(l: RouterLab): Promise<void> {
  const { lab, prefix } = l;
  await lab.up({ hosts: 1, prefix, networks: Object.entries(NETS).map(([name, subnet]) => ({ name, subnet })) });
  await outside(lab.host('h1').netns, `${prefix}out`);
  const cli = await lab.workload('h1', 'cli');
  const srv = await lab.workload('h1', 'srv');
  const nb = await lab.workload('h1', 'nb');
  await lab.attach('h1', { network: 'blue', containerId: `${prefix}cli`, netns: cli.path });
  const s = await lab.attach('h1', { network: 'red', containerId: `${prefix}srv`, netns: srv.path });
  const n = await lab.attach('h1', { network: 'blue', containerId: `${prefix}nb`, netns: nb.path });
  l.serverEndpoint = s.endpoint;
  l.mtu = s.mtu;
  await lab.api('POST', '/api/v1/routers', routerDoc(l.routerName, []));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await lab.api<{ status?: { ready?: boolean; conditions?: Array<{ message?: string }> } }>('GET', `/api/v1/routers/${l.routerName}`);
    if (r.status?.ready === true) break;
    if (Date.now() > deadline) throw new Error(`the weft router is not ready after 60 s: ${JSON.stringify(r.status)}`);
    await sleep(100);
  }
  l.weft = { client: cli.path, server: srv.path, outside: path(`${prefix}out`), serverIp: s.ip, neighbour: nb.path, neighbourIp: n.ip, router: path(l.routerNetns), host: path(lab.host('h1').netns) };
}

/** nft argv, one command per call, as a person building it by hand would type them. */
const nft = (ns: string, ...words: string[]) => execNs(path(ns), ['nft', ...words]);

async function buildHand(l: RouterLab): Promise<void> {
  const p = l.prefix;
  const host = `${p}hh`;
  const router = `${p}hr`;
  const client = `${p}hb`;
  const server = `${p}hd`;
  const out = `${p}ho`;
  const neighbour = `${p}hn`;
  for (const ns of [host, router, client, server, neighbour]) await netns(ns);
  for (const br of ['hbr-blue', 'hbr-red']) {
    await ip('-n', host, 'link', 'add', br, 'type', 'bridge');
    await ip('-n', host, 'link', 'set', br, 'up');
  }
  const port = async (hostIf: string, bridge: string, ns: string, ifname: string, addr: string) => {
    await veth(ns, ifname, host, hostIf, undefined, l.mtu);
    await ip('-n', host, 'link', 'set', hostIf, 'master', bridge);
    await ip('-n', ns, 'addr', 'add', addr, 'dev', ifname);
    await ip('-n', ns, 'link', 'set', ifname, 'up');
  };
  await port('hv-cli', 'hbr-blue', client, 'eth0', '100.64.91.10/24');
  await port('hv-srv', 'hbr-red', server, 'eth0', '100.64.92.10/24');
  await port('hv-nb', 'hbr-blue', neighbour, 'eth0', '100.64.91.20/24');
  await port('hv-rblue', 'hbr-blue', router, 'eth0', '100.64.91.1/24');
  await port('hv-rred', 'hbr-red', router, 'eth1', '100.64.92.1/24');
  await ip('-n', client, 'route', 'add', 'default', 'via', '100.64.91.1');
  await ip('-n', server, 'route', 'add', 'default', 'via', '100.64.92.1');
  // the uplink: router 169.254.0.2 -- host 169.254.0.1
  await veth(router, 'uplink', host, 'hu-router', '169.254.0.1/30');
  await ip('-n', router, 'addr', 'add', '169.254.0.2/30', 'dev', 'uplink');
  await ip('-n', router, 'link', 'set', 'uplink', 'up');
  await ip('-n', router, 'route', 'add', 'default', 'via', '169.254.0.1');
  await outside(host, out);
  for (const ns of [router, host]) {
    await execNs(path(ns), ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await nft(ns, 'add', 'table', 'ip', 'hand');
    await nft(ns, 'add', 'chain', 'ip', 'hand', 'pre', '{', 'type', 'nat', 'hook', 'prerouting', 'priority', 'dstnat', ';', '}');
    await nft(ns, 'add', 'chain', 'ip', 'hand', 'post', '{', 'type', 'nat', 'hook', 'postrouting', 'priority', 'srcnat', ';', '}');
  }
  await nft(router, 'add', 'rule', 'ip', 'hand', 'post', 'oifname', 'uplink', 'masquerade');
  await nft(host, 'add', 'rule', 'ip', 'hand', 'post', 'ip', 'saddr', '169.254.0.2', 'oifname', 'out0', 'masquerade');
  l.hand = { client: path(client), server: path(server), outside: path(out), serverIp: '100.64.92.10', neighbour: path(neighbour), neighbourIp: '100.64.91.20', router: path(router), host: path(host) };
}

/** A port forward by hand, as `nft` argv: the host's published port to the router's uplink, and the router's to the red server. */
export function handForward(l: RouterLab, port: number): Array<{ netns: string; argv: string[] }> {
  return [
    { netns: l.hand.router, argv: ['nft', 'add', 'rule', 'ip', 'hand', 'pre', 'iifname', 'uplink', 'tcp', 'dport', String(port), 'dnat', 'to', `100.64.92.10:${FORWARD_TO_PORT}`] },
    { netns: l.hand.host, argv: ['nft', 'add', 'rule', 'ip', 'hand', 'pre', 'iifname', 'out0', 'tcp', 'dport', String(port), 'dnat', 'to', '169.254.0.2'] },
  ];
}

/** Both routers up; on failure everything made so far is removed. */
export async function startRouterLab(): Promise<RouterLab> {
  const prefix = labPrefix('rb');
  // Short on purpose: the agents' unix sockets live in this directory.
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const routerName = `${prefix}edge`;
  const l = {
    prefix,
    dir,
    lab: new Lab({ dir }),
    routerName,
    routerNetns: vnfNetnsName('h1', { kind: 'Router', name: routerName }),
  } as RouterLab;
  live = l;
  try {
    await buildWeft(l);
    await buildHand(l);
  } catch (e) {
    await stopRouterLab();
    throw e;
  }
  return l;
}

let live: RouterLab | undefined;
/** the teardown under way or done, for a second caller (a signal during the bench's own cleanup) to wait for */
let teardown: Promise<void> | undefined;

/**
 * Everything of the benchmark gone: the lab's processes and every namespace
 * with the prefix (the hand-built ones too, and any process left in them),
 * then the router's namespace, which weft names. Tolerates a half-built lab;
 * a second call waits for the first.
 */
export function stopRouterLab(): Promise<void> {
  const l = live;
  live = undefined;
  if (l) teardown = down(l);
  return teardown ?? Promise.resolve();
}

async function down(l: RouterLab): Promise<void> {
  try {
    await l.lab.down({ prefix: l.prefix });
  } finally {
    // the agent is gone: its router namespace stays until removed here
    await ip('netns', 'del', l.routerNetns).catch(() => undefined);
    if (existsSync(l.dir)) rmSync(l.dir, { recursive: true, force: true });
  }
}
