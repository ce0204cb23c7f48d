import { jest } from '@jest/globals';
// weft's CNI plugin under a real container runtime (issue 4): podman 4.3 with
// its CNI backend runs inside each lab host namespace, with conflists that
// `weft install-cni` wrote (weft, then the reference portmap plugin) and the
// shim talking to that host's agent. Two hosts, two weft networks, one
// container per network per host:
// - `podman network ls` lists the weft networks;
// - containers on one network reach each other across hosts (ping and HTTP),
//   containers on different networks do not, with forwarding on in the hosts;
// - a port published with `-p` on h1 answers on h1's underlay address from h2;
// - `podman rm -f` leaves nothing: no veth, namespace, agent or controller
//   endpoint, DNAT rule.
// Everything lives in the lab's namespaces; podman's private stores and the
// CNI dirs in temp dirs named by the run's prefix (test/support/podman.ts).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { ISOLATION_FAMILY, ISOLATION_TABLE, parseIsolation } from '../../../agents/datapath/nft/isolation-ruleset.js';
import type { NftListObject } from '../../../model/nft-json.js';
import type { Endpoint } from '../../../model/kinds.js';
import type { ResourceList } from '../../../model/rest.js';
import { callAgent } from '../../../runtime/agent-client.js';
import { defaultCli, hostAddress, Lab, labPrefix } from '../../lab/index.js';
import { PodmanHost } from '../../support/podman.js';
import { ipJson, waitFor } from '../../support/test-lab.js';

jest.setTimeout(600_000);

const run = promisify(execFile);

const prefix = labPrefix('pm');
const labDir = mkdtempSync(join(tmpdir(), prefix));
// The CNI bin and conf dirs: outside the lab dir, which must be empty for up() and goes with down().
const work = mkdtempSync(join(tmpdir(), `${prefix}cni-`));
const lab = new Lab({ dir: labDir });
const HOSTS = ['h1', 'h2'] as const;
type HostName = (typeof HOSTS)[number];
const NETWORKS = [
  { name: 'blue', subnet: '100.64.61.0/24' },
  { name: 'red', subnet: '100.64.62.0/24' },
];
const REFERENCE_PLUGINS = '/usr/lib/cni';
const IMAGE = 'localhost/wtbusybox';
/** Published by blue-h1 (container port 80), DNATed by portmap on h1's addresses. */
const HOST_PORT = 18080;

interface Container {
  name: string;
  host: HostName;
  network: string;
  publish?: boolean;
  id: string;
  ip: string;
  /** the container's namespace, /run/netns/netns-<uuid> */
  netns: string;
}

const CONTAINERS: Pick<Container, 'name' | 'host' | 'network' | 'publish'>[] = [
  { name: 'blue-h1', host: 'h1', network: 'blue', publish: true },
  { name: 'red-h1', host: 'h1', network: 'red' },
  { name: 'blue-h2', host: 'h2', network: 'blue' },
  { name: 'red-h2', host: 'h2', network: 'red' },
];

const podman = new Map<HostName, PodmanHost>();
const containers: Container[] = [];
const timings: string[] = [];
let rootBefore: RootState = { netns: [], links: [] };

interface RootState {
  netns: string[];
  links: string[];
}

async function rootState(): Promise<RootState> {
  const netns = (await ipJson<{ name: string }[]>('netns', 'list')).map((n) => n.name);
  const links = (await ipJson<{ ifname: string }[]>('link', 'show')).map((l) => l.ifname);
  return { netns, links };
}

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

function host(h: HostName): PodmanHost {
  const p = podman.get(h);
  if (!p) throw new Error(`no PodmanHost for ${h}`);
  return p;
}

async function weftCli(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [defaultCli(), ...args], { timeout: 60_000 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new Error(`weft ${args.join(' ')}: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

async function weftVeths(h: HostName): Promise<string[]> {
  const links = await ipJson<{ ifname: string }[]>('-n', lab.host(h).netns, 'link', 'show');
  return links.map((l) => l.ifname).filter((n) => n.startsWith('wv-'));
}

/** podman's namespaces (netns-<uuid>) with a veth peer in the host namespace of h. */
async function podmanNetnsOn(h: HostName): Promise<string[]> {
  const hostNs = lab.host(h).netns;
  const found: string[] = [];
  for (const name of readdirSync('/run/netns')) {
    if (!/^(netns|cni)-/.test(name)) continue;
    const ids = await ipJson<{ name?: string }[]>('-n', name, 'netns', 'list-id').catch(() => []);
    if (ids.some((i) => i.name === hostNs)) found.push(name);
  }
  return found;
}

async function natRules(h: HostName): Promise<string> {
  const r = await lab.exec(h, ['iptables-save', '-t', 'nat']);
  if (r.code !== 0) throw new Error(`iptables-save in ${h}: ${r.stderr}`);
  return r.stdout;
}

/** portmap's per-container DNAT chains and rules (its shared CNI-HOSTPORT-* chains stay by design). */
function dnatLines(nat: string): string[] {
  return nat.split('\n').filter((l) => /CNI-DN-|-j DNAT/.test(l));
}

async function agentEndpoints(h: HostName): Promise<{ containerId: string; ip: string; network: string }[]> {
  return (await callAgent(lab.agentSocket(h), 'list', {})).endpoints;
}

async function controllerEndpoints(): Promise<Endpoint[]> {
  return (await lab.api<ResourceList<Endpoint>>('GET', '/api/v1/endpoints')).items;
}

/** Packets weft's isolation table in h dropped so far (forwarded from one weft bridge to another). */
async function isolationDrops(h: HostName): Promise<number> {
  const r = await lab.exec(h, ['nft', '-j', 'list', 'table', ISOLATION_FAMILY, ISOLATION_TABLE]);
  if (r.code !== 0) throw new Error(`nft list table in ${h}: ${r.stderr}`);
  const state = parseIsolation((JSON.parse(r.stdout) as { nftables: NftListObject[] }).nftables);
  if (state?.drops === undefined) throw new Error(`no isolation drop rule in ${h}`);
  return state.drops.packets;
}

function cniCacheFiles(id: string): string[] {
  const d = '/var/lib/cni/results';
  return existsSync(d) ? readdirSync(d).filter((f) => f.includes(`-${id}-`)) : [];
}

/** Ours-looking root namespaces: our prefix, or a namespace podman made for one of our containers. */
function ourNetns(names: string[]): string[] {
  const sandboxes = new Set(containers.map((c) => basename(c.netns)));
  return names.filter((n) => n.startsWith(prefix) || sandboxes.has(n));
}

/** Every PodmanHost closed (before the lab: it finds podman's namespaces by their veth peer in the
 * host namespace), then the lab; all attempted even when one fails, the first error rethrown. */
async function teardown(): Promise<void> {
  const errors: unknown[] = [];
  for (const p of podman.values()) await p.close().catch((e: unknown) => errors.push(e));
  await lab.down({ prefix }).catch((e: unknown) => errors.push(e));
  rmSync(labDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  if (errors.length > 0) throw errors[0];
}

beforeAll(async () => {
  rootBefore = await rootState();
  await timed('lab up (2 hosts, 2 networks)', () => lab.up({ hosts: 2, prefix, networks: NETWORKS }));
  for (const h of HOSTS) {
    // A fresh namespace starts with IPv4 forwarding off (as the root namespace here).
    // Two reasons to turn it on, inside the lab hosts only:
    // - portmap DNATs h1's underlay address to the container, and the packet must then be
    //   *routed* from eth0 to the network's bridge: with forwarding off, the published port
    //   does not answer from another host (same-network traffic is bridged and does not
    //   care). weft does not enable forwarding itself.
    // - the isolation check below is only meaningful where a packet to another network's
    //   subnet would be routed through the host; with forwarding off it would be dropped
    //   anyway and the test would prove nothing about weft.
    const r = await lab.exec(h, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    if (r.code !== 0) throw new Error(`sysctl in ${h}: ${r.stderr}`);
  }
  // The networks reach the agents through the controller's plan, asynchronously.
  await timed('agents have both networks', () =>
    Promise.all(
      HOSTS.map((h) =>
        waitFor(
          `the agent of ${h} to have blue and red`,
          async () => {
            const health = await callAgent(lab.agentSocket(h), 'health', {});
            return NETWORKS.every((n) => health.networks.includes(n.name));
          },
          30_000,
          200,
        ),
      ),
    ),
  );
  await timed('install-cni + podman import (both hosts)', () =>
    Promise.all(
      HOSTS.map(async (h) => {
        const binDir = join(work, h, 'bin');
        const confDir = join(work, h, 'net.d');
        for (const n of NETWORKS) {
          await weftCli(['install-cni', '--bin-dir', binDir, '--conf-dir', confDir, '--network', n.name, '--socket', lab.agentSocket(h), '--chain', 'portmap']);
        }
        const p = new PodmanHost({
          prefix: `${prefix}${h}-`,
          netnsPath: `/run/netns/${lab.host(h).netns}`,
          cniConfigDir: confDir,
          cniPluginDirs: [binDir, REFERENCE_PLUGINS],
        });
        podman.set(h, p);
        await p.importBusybox(IMAGE);
      }),
    ),
  );
  await timed('podman run x4', () =>
    Promise.all(
      HOSTS.map(async (h) => {
        // one host's podman calls one after the other (its store lock serialises them anyway)
        for (const c of CONTAINERS.filter((x) => x.host === h)) {
          const p = host(h);
          const id = await p.run({
            name: c.name,
            network: c.network,
            ...(c.publish ? { publish: [{ hostPort: HOST_PORT, containerPort: 80 }] } : {}),
            // every container serves its own name: an HTTP answer says who answered
            command: ['sh', '-c', `echo ${c.name} >/www/index.html && exec httpd -f -p 80 -h /www`],
          });
          const ip = (await p.inspectNetworks(id))[c.network]?.IPAddress ?? '';
          if (!ip) throw new Error(`podman inspect ${c.name}: no address on ${c.network}`);
          containers.push({ ...c, id, ip, netns: await p.inspectNetns(id) });
        }
      }),
    ),
  );
  containers.sort((a, b) => CONTAINERS.findIndex((c) => c.name === a.name) - CONTAINERS.findIndex((c) => c.name === b.name));
});

afterAll(async () => {
  // Safety net when the last test did not run or failed halfway; a no-op after it.
  await teardown();
});

test('podman network ls on each host lists the weft networks blue and red', async () => {
  for (const h of HOSTS) {
    expect(await host(h).networkLs()).toEqual(expect.arrayContaining(['blue', 'red']));
    // podman probes every plugin of every conflist with VERSION and warns about (and hides)
    // a network whose plugins it cannot validate
    const { stdout, stderr } = await host(h).podman(['network', 'ls', '--format', 'json']);
    expect(stderr).toBe('');
    const drivers = (JSON.parse(stdout) as { name: string; driver: string }[]).filter((n) => n.name === 'blue' || n.name === 'red').map((n) => n.driver);
    expect(drivers).toEqual(['weft', 'weft']);
  }
});

test('every container got its address from weft: the agent and the controller know it', async () => {
  for (const c of containers) {
    expect(c.ip).toMatch(c.network === 'blue' ? /^100\.64\.61\./ : /^100\.64\.62\./);
    expect(c.netns).toMatch(/^\/run\/netns\/(netns|cni)-/);
    const mine = (await agentEndpoints(c.host)).filter((e) => e.containerId === c.id);
    expect(mine.map((e) => [e.network, e.ip])).toEqual([[c.network, c.ip]]);
  }
  // the agents report their endpoints to the controller asynchronously
  await waitFor('the controller to list the four endpoints', async () => {
    const ids = (await controllerEndpoints()).map((e) => e.spec.containerId);
    return containers.every((c) => ids.includes(c.id));
  }, 30_000, 200);
});

test('containers on one network reach each other across hosts (ping and HTTP); different networks do not, dropped by weft', async () => {
  // The controller programs each host with the other's endpoints asynchronously:
  // wait until every same-network pair answers once, then take the matrix in one go.
  await timed('same-network convergence', () =>
    Promise.all(
      containers.flatMap((src) =>
        containers
          .filter((dst) => dst !== src && dst.network === src.network)
          .map((dst) =>
            waitFor(`${src.name} to ping ${dst.name}`, async () => (await host(src.host).exec(src.id, ['ping', '-c', '1', '-W', '1', dst.ip])).code === 0, 30_000, 200),
          ),
      ),
    ),
  );

  // One exec per source, probing every other container in parallel: ping (busybox ping
  // works: podman's default capabilities include NET_RAW) and, at the same time, an HTTP
  // GET whose body names the container that answered. busybox-static's wget -T crashes:
  // bound it with timeout(1).
  const probe = [
    'probe() {',
    '  ping -c 1 -W 2 "$1" >/dev/null 2>&1 & pid=$!',
    '  b=$(timeout 3 wget -q -O - "http://$1/" 2>/dev/null)',
    '  if wait $pid; then p=reach; else p=blocked; fi',
    '  echo "$1 $p ${b:-none}"',
    '}',
  ].join('\n');
  const dropsBefore = await Promise.all(HOSTS.map(isolationDrops));
  const observed = new Map<string, string>();
  await timed('matrix', () =>
    Promise.all(
      containers.map(async (src) => {
        const targets = containers.filter((d) => d !== src);
        const script = `${probe}\n${targets.map((d) => `probe ${d.ip} &`).join('\n')}\nwait\n`;
        const r = await host(src.host).exec(src.id, ['sh', '-c', script]);
        for (const d of targets) {
          const line = r.stdout.split('\n').find((l) => l.startsWith(`${d.ip} `));
          const [, ping, body] = line?.split(' ') ?? [];
          const http = body === undefined || body === 'none' ? 'blocked' : body === d.name ? 'reach' : `wrong answer "${body}"`;
          observed.set(`${src.name}>${d.name}`, ping === http ? (ping ?? '?') : `ping ${ping ?? '?'}, http ${http}`);
        }
      }),
    ),
  );

  const W = 18;
  const rows = [['from \\ to', ...containers.map((c) => c.name)].map((s) => s.padEnd(W)).join('')];
  let mismatches = 0;
  for (const src of containers) {
    const cells = [src.name];
    for (const dst of containers) {
      if (dst === src) {
        cells.push('-');
        continue;
      }
      const expected = dst.network === src.network ? 'reach' : 'blocked';
      const got = observed.get(`${src.name}>${dst.name}`) ?? '?';
      if (got !== expected) mismatches++;
      cells.push(got === expected ? got : `${got} (want ${expected}) !!`);
    }
    rows.push(cells.map((s) => s.padEnd(W)).join(''));
  }
  const legend = containers.map((c) => `${c.name}=${c.ip}@${c.host}`).join(' ');
  console.log(`podman containers on weft, ping + HTTP matrix (${legend}):\n${rows.join('\n')}`);
  expect(mismatches).toBe(0);
  // Blocked by weft, not by chance: each host routed its containers' packets for the other
  // network towards that network's bridge, and weft's isolation rule dropped them.
  const dropsAfter = await Promise.all(HOSTS.map(isolationDrops));
  HOSTS.forEach((h, i) => expect({ host: h, dropped: (dropsAfter[i] ?? 0) > (dropsBefore[i] ?? 0) }).toEqual({ host: h, dropped: true }));
});

test("a port published on h1 (weft + portmap) answers on h1's underlay address from h2's host namespace", async () => {
  const web = containers.find((c) => c.publish);
  if (!web) throw new Error('no container publishes a port');
  expect(dnatLines(await natRules('h1')).join('\n')).toContain(`--to-destination ${web.ip}:80`);
  const url = `http://${hostAddress(1)}:${HOST_PORT}/`;
  const page = await timed('published port answers', () =>
    waitFor(`${url} to answer from h2`, async () => {
      const r = await lab.exec('h2', ['timeout', '5', 'busybox', 'wget', '-q', '-O', '-', url], { timeoutMs: 10_000 });
      return r.code === 0 ? r.stdout : undefined;
    }, 30_000, 200),
  );
  expect(page).toBe(`${web.name}\n`);
});

test('podman rm -f leaves no veth, container namespace, agent or controller endpoint, DNAT rule or CNI cache entry', async () => {
  // what is about to go, so that the checks below cannot pass vacuously
  for (const h of HOSTS) expect(await weftVeths(h)).toHaveLength(containers.filter((c) => c.host === h).length);
  for (const c of containers) expect(existsSync(c.netns)).toBe(true);
  expect(dnatLines(await natRules('h1')).length).toBeGreaterThan(0);

  await timed('podman rm -f -t 0 x4', () =>
    Promise.all(
      HOSTS.map(async (h) => {
        for (const c of containers.filter((x) => x.host === h)) await host(h).rm(c.id);
      }),
    ),
  );

  for (const h of HOSTS) expect(await host(h).podman(['ps', '-a', '-q'])).toMatchObject({ stdout: '' });
  // DEL is synchronous in the agent, but the controller hears of it later: poll everything.
  await timed('everything gone after rm', async () => {
    for (const h of HOSTS) {
      await waitFor(`no wv-* veth in ${h}`, async () => (await weftVeths(h)).length === 0, 30_000, 200);
      await waitFor(`no podman namespace tied to ${h}`, async () => (await podmanNetnsOn(h)).length === 0, 30_000, 200);
      await waitFor(`no endpoint in the agent of ${h}`, async () => (await agentEndpoints(h)).length === 0, 30_000, 200);
    }
    await waitFor('no endpoint in the controller', async () => (await controllerEndpoints()).length === 0, 30_000, 200);
    await waitFor('no DNAT rule in h1', async () => dnatLines(await natRules('h1')).length === 0, 30_000, 200);
  });
  for (const c of containers) {
    expect(existsSync(c.netns)).toBe(false);
    expect(cniCacheFiles(c.id)).toEqual([]);
  }
});

test('closing podman and the lab leaves nothing new in the root namespace', async () => {
  await timed('teardown', teardown);
  const after = await rootState();
  expect(ourNetns(after.netns)).toEqual([]);
  // no test may put a link in the root namespace, so any new one is a leak
  expect(after.links.filter((l) => !rootBefore.links.includes(l))).toEqual([]);
  console.log(`podman lab test timings:\n  ${timings.join('\n  ')}`);
});
