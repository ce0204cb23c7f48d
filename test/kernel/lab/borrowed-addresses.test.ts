import { jest } from '@jest/globals';
// Static addresses anywhere in the subnet, from any host: three lab hosts,
// one network with small (/28) blocks, and on each host workloads whose
// static addresses lie in the OTHER hosts' blocks, through every front door:
// `weft run --ip`, the CNI plugin with CNI_ARGS IP= and with args.cni.ips,
// and podman --ip (runtimeConfig.ips). They all reach each other; a
// firewall policy selects them by label like any endpoint; the lending hosts
// never hand a lent address out; two hosts racing for one address (with its
// block's owner racing locally too) end with exactly one holder; and a freed
// address goes back to its block. Everything lives in the lab's namespaces.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { Endpoint, Host } from '../../../model/kinds.js';
import type { ResourceList } from '../../../model/rest.js';
import { intToIpv4, ipv4ToInt, parsePrefix4, prefixContains, type Prefix4 } from '../../../model/ip.js';
import { callAgent } from '../../../runtime/agent-client.js';
import { defaultCli, Lab, labPrefix, type Workload } from '../../lab/index.js';
import { execPlugin } from '../../support/cni-exec.js';
import { PodmanHost } from '../../support/podman.js';
import { waitFor } from '../../support/test-lab.js';

jest.setTimeout(600_000);

const prefix = labPrefix('bw');
const labDir = mkdtempSync(join(tmpdir(), prefix));
const work = mkdtempSync(join(tmpdir(), `${prefix}cni-`));
const lab = new Lab({ dir: labDir });
const HOSTS = ['h1', 'h2', 'h3'] as const;
type HostName = (typeof HOSTS)[number];
const NET = 'lend';
const SUBNET = '100.64.71.0/24';
const IMAGE = 'localhost/wtbusybox';
const REFERENCE_PLUGINS = '/usr/lib/cni';

type Door = 'weft run' | 'CNI_ARGS IP=' | 'args.cni.ips' | 'podman --ip';
interface Wl {
  door: Door;
  host: HostName;
  /** whose block the address is in */
  lender: HostName;
  ip: string;
  /** podman container id, else the namespace */
  podmanId?: string;
  ns?: Workload;
  containerId: string;
}

const podman = new Map<HostName, PodmanHost>();
const blocks = new Map<HostName, Prefix4>();
const wls: Wl[] = [];
const runs: ChildProcess[] = [];
const plugins = new Map<HostName, string>();

const prefix4 = (cidr: string): Prefix4 => {
  const p = parsePrefix4(cidr);
  if ('problem' in p) throw new Error(cidr);
  return p.prefix;
};
const addressIn = (h: HostName, offset: number) => intToIpv4((blocks.get(h) as Prefix4).base + offset);
const blockOwner = (ip: string) => HOSTS.find((h) => prefixContains(blocks.get(h) as Prefix4, ipv4ToInt(ip)));
const other = (h: HostName, by: number) => HOSTS[(HOSTS.indexOf(h) + by) % HOSTS.length] as HostName;

async function controllerEndpoints(): Promise<Endpoint[]> {
  return (await lab.api<ResourceList<Endpoint>>('GET', '/api/v1/endpoints')).items;
}

/** CNI ADD of the weft plugin on host h, run inside h's namespace as that host's runtime would. */
async function cniAdd(h: HostName, w: Workload, containerId: string, extra: { args?: string; config?: Record<string, unknown> }) {
  const config = { cniVersion: '1.0.0', name: NET, type: 'weft', network: NET, agentSocket: lab.agentSocket(h), ...(extra.config ?? {}) };
  const call = { command: 'ADD', containerId, netns: w.path, ifname: 'eth0', ...(extra.args === undefined ? {} : { args: extra.args }) };
  return execPlugin(plugins.get(h) as string, call, config, { inNetns: `/run/netns/${lab.host(h).netns}` });
}

async function cniDel(h: HostName, w: Workload, containerId: string) {
  const config = { cniVersion: '1.0.0', name: NET, type: 'weft', network: NET, agentSocket: lab.agentSocket(h) };
  return execPlugin(plugins.get(h) as string, { command: 'DEL', containerId, netns: w.path, ifname: 'eth0' }, config, { inNetns: `/run/netns/${lab.host(h).netns}` });
}

/** `weft run --ip` on host h, kept running; resolves once its endpoint is attached, with its namespace. */
async function weftRun(h: HostName, containerId: string, ip: string, labels: string[] = []): Promise<Workload> {
  const child = spawn(process.execPath, [defaultCli(), 'run', '--network', NET, '--name', containerId, '--ip', ip, ...labels.flatMap((l) => ['--label', l]), '--socket', lab.agentSocket(h), '--', 'sleep', '600'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runs.push(child);
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const ep = await waitFor(`weft run ${containerId} on ${h} to attach${out ? `: ${out}` : ''}`, async () => {
    if (child.exitCode !== null) throw new Error(`weft run ${containerId} exited ${child.exitCode}: ${out}`);
    const list = await callAgent(lab.agentSocket(h), 'list', {});
    return list.endpoints.find((e) => e.containerId === containerId);
  }, 30_000, 100);
  return { host: h, name: containerId, netns: basename(ep.netns), path: ep.netns };
}

/** A shell script that pings every target at once and prints "ip ok|fail" per target. */
function pingAll(targets: string[]): string {
  return `${targets.map((t) => `(ping -c 1 -W 2 ${t} >/dev/null 2>&1 && echo "${t} ok" || echo "${t} fail") &`).join('\n')}\nwait\n`;
}

async function pingsFrom(src: Wl, targets: string[]): Promise<Map<string, boolean>> {
  const script = pingAll(targets);
  const r = src.podmanId !== undefined ? await (podman.get(src.host) as PodmanHost).exec(src.podmanId, ['sh', '-c', script]) : await lab.exec(src.ns as Workload, ['sh', '-c', script], { timeoutMs: 20_000 });
  const out = new Map<string, boolean>();
  for (const line of r.stdout.split('\n')) {
    const [ip, verdict] = line.split(' ');
    if (ip) out.set(ip, verdict === 'ok');
  }
  return out;
}

async function teardown(): Promise<void> {
  const errors: unknown[] = [];
  for (const c of runs.splice(0)) {
    if (c.exitCode !== null) continue;
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  }
  for (const p of podman.values()) await p.close().catch((e: unknown) => errors.push(e));
  podman.clear();
  await lab.down({ prefix }).catch((e: unknown) => errors.push(e));
  rmSync(labDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  if (errors.length > 0) throw errors[0];
}

beforeAll(async () => {
  await lab.up({ hosts: 3, prefix });
  await lab.api('POST', '/api/v1/networks', { apiVersion: 'weft.dev/v1', kind: 'Network', metadata: { name: NET }, spec: { subnet: SUBNET, blockSize: 28 } });
  // Every connected host is pre-granted one block of a new network.
  await waitFor('a block per host', async () => {
    const hosts = (await lab.api<ResourceList<Host>>('GET', '/api/v1/hosts')).items;
    for (const h of hosts) {
      const b = h.status?.blocks?.find((x) => x.network === NET);
      if (b) blocks.set(h.metadata.name as HostName, prefix4(b.cidr));
    }
    return HOSTS.every((h) => blocks.has(h));
  }, 30_000, 200);
  await Promise.all(
    HOSTS.map(async (h) => {
      await waitFor(`the agent of ${h} to have ${NET}`, async () => (await callAgent(lab.agentSocket(h), 'health', {})).networks.includes(NET), 30_000, 200);
      const binDir = join(work, h, 'bin');
      const confDir = join(work, h, 'net.d');
      await promisify(execFile)(process.execPath, [defaultCli(), 'install-cni', '--bin-dir', binDir, '--conf-dir', confDir, '--network', NET, '--socket', lab.agentSocket(h)], { timeout: 60_000 });
      plugins.set(h, join(binDir, 'weft'));
      const p = new PodmanHost({ prefix: `${prefix}${h}-`, netnsPath: `/run/netns/${lab.host(h).netns}`, cniConfigDir: confDir, cniPluginDirs: [binDir, REFERENCE_PLUGINS] });
      podman.set(h, p);
      await p.importBusybox(IMAGE);
    }),
  );
});

afterAll(async () => {
  await teardown();
});

test("each host starts workloads with static addresses in the other hosts' blocks, through every front door, and they all reach each other", async () => {
  // h_i borrows from h_{i+1} (weft run, args.cni.ips) and from h_{i+2} (CNI_ARGS IP=, podman --ip).
  await Promise.all(
    HOSTS.map(async (h) => {
      const next = other(h, 1);
      const after = other(h, 2);
      const tag = h;
      // weft run --ip
      const runIp = addressIn(next, 5);
      const ns = await weftRun(h, `${prefix}run-${tag}`, runIp, [h === 'h2' ? 'role=web' : 'role=other']);
      wls.push({ door: 'weft run', host: h, lender: next, ip: runIp, ns, containerId: `${prefix}run-${tag}` });
      // CNI with CNI_ARGS IP= (h1's is the database the policy test protects)
      const argsIp = addressIn(after, 6);
      const w1 = await lab.workload(h, 'cniargs');
      const r1 = await cniAdd(h, w1, `${prefix}cniargs-${tag}`, { args: `IP=${argsIp}`, ...(h === 'h1' ? { config: { args: { labels: { role: 'db' } } } } : {}) });
      expect({ door: 'CNI_ARGS IP=', host: h, code: r1.code, stdout: r1.stdout }).toMatchObject({ code: 0 });
      wls.push({ door: 'CNI_ARGS IP=', host: h, lender: after, ip: argsIp, ns: w1, containerId: `${prefix}cniargs-${tag}` });
      // CNI with args.cni.ips
      const capIp = addressIn(next, 7);
      const w2 = await lab.workload(h, 'cniips');
      const r2 = await cniAdd(h, w2, `${prefix}cniips-${tag}`, { config: { args: { cni: { ips: [capIp] } } } });
      expect({ door: 'args.cni.ips', host: h, code: r2.code, stdout: r2.stdout }).toMatchObject({ code: 0 });
      wls.push({ door: 'args.cni.ips', host: h, lender: next, ip: capIp, ns: w2, containerId: `${prefix}cniips-${tag}` });
      // podman --ip (runtimeConfig.ips through the conflist's ips capability)
      const pmIp = addressIn(after, 8);
      const p = podman.get(h) as PodmanHost;
      const id = await p.run({ name: `pm-${tag}`, network: NET, ip: pmIp, command: ['sleep', '600'] });
      expect((await p.inspectNetworks(id))[NET]?.IPAddress).toBe(pmIp);
      wls.push({ door: 'podman --ip', host: h, lender: after, ip: pmIp, podmanId: id, containerId: id });
    }),
  );
  expect(wls).toHaveLength(12);

  // Every address is the one asked for, inside another host's block, and recorded once, on the host that uses it.
  for (const w of wls) {
    expect({ ip: w.ip, lender: blockOwner(w.ip) }).toEqual({ ip: w.ip, lender: w.lender });
    expect(w.lender).not.toBe(w.host);
    const mine = (await callAgent(lab.agentSocket(w.host), 'list', {})).endpoints.filter((e) => e.containerId === w.containerId);
    expect(mine.map((e) => e.ip)).toEqual([w.ip]);
  }
  await waitFor('the controller to record all twelve', async () => {
    const eps = await controllerEndpoints();
    return wls.every((w) => eps.some((e) => e.spec.ip === w.ip && e.spec.host === w.host));
  }, 30_000, 200);
  const ips = (await controllerEndpoints()).map((e) => e.spec.ip);
  expect(new Set(ips).size).toBe(ips.length);

  // The full matrix, each source probing every other workload at once.
  await waitFor('every workload to reach every other', async () => {
    const results = await Promise.all(wls.map((src) => pingsFrom(src, wls.filter((d) => d !== src).map((d) => d.ip))));
    const failed = results.flatMap((m, i) => [...m].filter(([, ok]) => !ok).map(([ip]) => `${wls[i]?.door}@${wls[i]?.host} -> ${ip}`));
    const complete = results.every((m, i) => m.size === wls.length - 1 && wls[i] !== undefined);
    if (failed.length > 0 || !complete) throw new Error(`not yet: ${failed.join(', ')}`);
    return true;
  }, 60_000, 500);
});

test('a firewall policy selects borrowed addresses like any: the database admits the web tier only', async () => {
  const db = wls.find((w) => w.door === 'CNI_ARGS IP=' && w.host === 'h1') as Wl;
  const web = wls.find((w) => w.door === 'weft run' && w.host === 'h2') as Wl;
  const stranger = wls.find((w) => w.door === 'podman --ip' && w.host === 'h3') as Wl;
  expect([blockOwner(db.ip), blockOwner(web.ip), blockOwner(stranger.ip)]).toEqual([db.lender, web.lender, stranger.lender]);
  await lab.api('POST', '/api/v1/firewallpolicies', {
    apiVersion: 'weft.dev/v1', kind: 'FirewallPolicy', metadata: { name: `${prefix}db` },
    spec: { appliesTo: { selector: { role: 'db' } }, ingress: { defaultAction: 'deny', rules: [{ name: 'web', action: 'allow', from: [{ selector: { role: 'web' } }], protocol: 'icmp' }] } },
  });
  try {
    await waitFor('the stranger to be refused', async () => (await pingsFrom(stranger, [db.ip])).get(db.ip) === false, 30_000, 300);
    expect((await pingsFrom(web, [db.ip])).get(db.ip)).toBe(true);
    expect((await pingsFrom(stranger, [db.ip])).get(db.ip)).toBe(false);
    // The database itself still reaches out (the policy is ingress only).
    expect((await pingsFrom(db, [stranger.ip])).get(stranger.ip)).toBe(true);
  } finally {
    await lab.api('DELETE', `/api/v1/firewallpolicies/${prefix}db`);
  }
  await waitFor('the stranger to reach it again', async () => (await pingsFrom(stranger, [db.ip])).get(db.ip) === true, 30_000, 300);
});

test('a lending host never hands a lent address out: its own allocations skip them and the addresses stay unique', async () => {
  const lent = new Set(wls.map((w) => w.ip));
  const made: { host: HostName; w: Workload; id: string; ip: string }[] = [];
  try {
    await Promise.all(
      HOSTS.map(async (h) => {
        // More than the block holds: the agent takes every free address of its block, then asks for another.
        for (let i = 0; i < 14; i++) {
          const w = await lab.workload(h, `dyn${i}`);
          const id = `${prefix}dyn${i}-${h}`;
          const r = await lab.attach(h, { network: NET, containerId: id, netns: w.path });
          made.push({ host: h, w, id, ip: r.ip });
        }
      }),
    );
    for (const m of made) expect({ ip: m.ip, lent: lent.has(m.ip) }).toEqual({ ip: m.ip, lent: false });
    const all = [...made.map((m) => m.ip), ...lent];
    expect(new Set(all).size).toBe(all.length);
    // Each host filled its own first block around the addresses it lent, then took another block.
    for (const h of HOSTS) {
      const block = blocks.get(h) as Prefix4;
      const own = made.filter((m) => m.host === h && prefixContains(block, ipv4ToInt(m.ip)));
      const lentHere = wls.filter((w) => w.lender === h).length;
      const system = ['100.64.71.0', '100.64.71.1', '100.64.71.255'].filter((a) => prefixContains(block, ipv4ToInt(a))).length;
      expect({ host: h, lentHere, own: own.length }).toEqual({ host: h, lentHere: 4, own: Math.min(14, 16 - system - lentHere) });
    }
  } finally {
    for (const m of made) {
      await lab.agent(m.host, 'detach', { containerId: m.id });
      lab.removeWorkload(m.w);
    }
    await waitFor('the controller to forget them', async () => (await controllerEndpoints()).every((e) => !made.some((m) => m.id === e.spec.containerId)), 30_000, 200);
  }
});

test('two hosts racing for one address in a third host\'s block, with that host racing locally: exactly one holder, every round', async () => {
  const ROUNDS = 12;
  const tally = { borrower: 0, owner: 0 };
  for (let i = 0; i < ROUNDS; i++) {
    const owner = HOSTS[i % 3] as HostName;
    const [a, b] = [other(owner, 1), other(owner, 2)];
    const ip = addressIn(owner, 10 + (i % 3 === 0 ? 0 : 1));
    const racers: HostName[] = i % 2 === 0 ? [a, b, owner] : [a, b];
    const ws = await Promise.all(racers.map((h) => lab.workload(h, `race${i}`)));
    const ids = racers.map((h) => `${prefix}race${i}-${h}`);
    const outcomes = await Promise.all(
      racers.map((h, k) =>
        lab.attach(h, { network: NET, containerId: ids[k] as string, netns: (ws[k] as Workload).path, ip }).then(
          () => ({ host: h, ok: true as const, message: '' }),
          (e: unknown) => ({ host: h, ok: false as const, message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code }),
        ),
      ),
    );
    const winners = outcomes.filter((o) => o.ok);
    expect({ round: i, winners: winners.length }).toEqual({ round: i, winners: 1 });
    const winner = winners[0] as { host: HostName };
    if (winner.host === owner) tally.owner++;
    else tally.borrower++;
    for (const o of outcomes.filter((x) => !x.ok)) {
      // A clear refusal naming the address (and, once decided, who holds it); never a second copy.
      expect(o.message).toContain(ip);
      expect('code' in o ? o.code : undefined).toMatch(/^(AddressInUse|NotReady)$/);
    }
    // The kernel agrees: the address is on exactly one interface, the winner's.
    const holders: string[] = [];
    for (let k = 0; k < racers.length; k++) {
      const r = await lab.exec(ws[k] as Workload, ['ip', '-4', '-o', 'addr', 'show']);
      if (r.stdout.includes(` ${ip}/`)) holders.push(racers[k] as string);
    }
    expect(holders).toEqual([winner.host]);
    await waitFor(`round ${i}: the controller to record ${ip} once`, async () => {
      const eps = (await controllerEndpoints()).filter((e) => e.spec.ip === ip);
      return eps.length === 1 && eps[0]?.spec.host === winner.host;
    }, 20_000, 100);
    for (let k = 0; k < racers.length; k++) {
      await lab.agent(racers[k] as string, 'detach', { containerId: ids[k] as string });
      lab.removeWorkload(ws[k] as Workload);
    }
    // Freed: the address is back, nobody records it (the next round may reuse it).
    await waitFor(`round ${i}: ${ip} freed`, async () => (await controllerEndpoints()).every((e) => e.spec.ip !== ip), 20_000, 100);
  }
  console.log(`borrowed-address races: ${ROUNDS} rounds, won by a borrower ${tally.borrower}, by the block's owner ${tally.owner}`);
  expect(tally.borrower + tally.owner).toBe(ROUNDS);
});

test('a freed borrowed address returns to its block: the owner can use it again', async () => {
  const w = wls.find((x) => x.door === 'CNI_ARGS IP=' && x.host === 'h2') as Wl;
  const del = await cniDel(w.host, w.ns as Workload, w.containerId);
  expect(del.code).toBe(0);
  const ns = await lab.workload(w.lender, 'reuse');
  const id = `${prefix}reuse-${w.lender}`;
  // The lender's plan drops the reservation once the controller has seen the endpoint go.
  const r = await waitFor(`${w.lender} to take ${w.ip} back`, async () =>
    lab.attach(w.lender, { network: NET, containerId: id, netns: ns.path, ip: w.ip }).catch((e: unknown) => {
      if ((e as { code?: string }).code === 'AddressInUse') return undefined;
      throw e;
    }), 20_000, 200);
  expect(r.ip).toBe(w.ip);
  await lab.agent(w.lender, 'detach', { containerId: id });
  lab.removeWorkload(ns);
});

test('tearing the lab down leaves none of our namespaces', async () => {
  await teardown();
  const left = readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
  expect(left).toEqual([]);
});
