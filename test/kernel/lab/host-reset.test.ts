// `weft reset` inside a lab host. A 2-host lab; on h1: workloads attached
// through the agent and one `weft run`, a Firewall VNF with a supervised
// process in its namespace, a FirewallPolicy (so every nft table weft makes
// in a host exists); on h2: a workload and a Firewall of its own. h1's
// agent is stopped, then `weft reset` runs inside h1's namespace. Judged by
// the kernel (`ip -j link/addr/route`, `nft -j list ruleset`, `ip netns
// list`): refused without --force while workloads are attached (nothing
// removed), and with --force nothing of weft's is left in h1, while h2's
// namespaces, VNF and agent are untouched.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { LinuxProcessSupervisor } from '../../../agents/datapath/process/linux-supervisor.js';
import { vnfNetnsName } from '../../../model/vnf-names.js';
import { defaultCli, Lab, labPrefix, listNetns, pidsInNetns } from '../../lab/index.js';
import { netnsDel, netnsList, waitFor } from '../../support/test-lab.js';

jest.setTimeout(240_000);

const NET_A = { name: 'rsa', subnet: '198.18.170.0/24' };
const NET_B = { name: 'rsb', subnet: '198.18.171.0/24' };

interface Link {
  ifname: string;
  ifalias?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
}

describe('weft reset in a lab host', () => {
  const prefix = labPrefix('rs');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lab = new Lab({ dir });
  const FW1 = vnfNetnsName('h1', { kind: 'Firewall', name: `${prefix}fw1` });
  const FW2 = vnfNetnsName('h2', { kind: 'Firewall', name: `${prefix}fw2` });
  let run: ChildProcess | undefined;

  beforeAll(async () => {
    await lab.up({ hosts: 2, prefix, networks: [NET_A, NET_B] });
  });

  afterAll(async () => {
    if (run?.pid !== undefined && run.exitCode === null) process.kill(run.pid, 'SIGKILL');
    await lab.down({ prefix }).catch(() => undefined);
    for (const ns of [FW1, FW2]) await netnsDel(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  const weft = (args: string[]) => lab.exec('h1', [process.execPath, defaultCli(), ...args], { timeoutMs: 60_000 });
  const json = async <T>(argv: string[]): Promise<T> => {
    const r = await lab.exec('h1', argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout || '[]') as T;
  };
  const links = () => json<Link[]>(['ip', '-d', '-j', 'link', 'show']);
  const isWeftLink = (l: Link) => (l.ifalias ?? '').startsWith('weft:') || /^w[bvxf]-/.test(l.ifname);
  const tables = async () =>
    (await json<{ nftables: Array<{ table?: { family: string; name: string } }> }>(['nft', '-j', 'list', 'ruleset'])).nftables.flatMap((o) => (o.table ? [`${o.table.family} ${o.table.name}`] : []));
  const firewall = (name: string, host: string) => ({
    apiVersion: 'weft.dev/v1',
    kind: 'Firewall',
    metadata: { name },
    spec: { host, networks: [{ network: NET_A.name }, { network: NET_B.name }], defaultAction: 'deny', rules: [{ name: 'ping', action: 'allow', protocol: 'icmp' }] },
  });

  test('refuses while workloads are attached, then with --force leaves nothing of weft\'s in the host and nothing of another host touched', async () => {
    const h1 = lab.host('h1');
    const a = await lab.workload('h1', 'a');
    const b = await lab.workload('h1', 'b');
    await lab.attach('h1', { network: NET_A.name, containerId: `${prefix}a`, netns: a.path, labels: { role: 'web' } });
    await lab.attach('h1', { network: NET_B.name, containerId: `${prefix}b`, netns: b.path });
    const c = await lab.workload('h2', 'c');
    await lab.attach('h2', { network: NET_A.name, containerId: `${prefix}c`, netns: c.path });
    // weft run in h1: a namespace weft makes itself
    run = spawn('nsenter', [`--net=/run/netns/${h1.netns}`, process.execPath, defaultCli(), 'run', '--socket', h1.socket, '--network', NET_A.name, '--', 'sleep', '120'], { stdio: 'ignore' });
    const runNs = await waitFor('weft run to attach', async () => {
      const eps = (await lab.agent('h1', 'list', {})).endpoints;
      return eps.find((e) => e.netns.startsWith('/run/netns/wr-'))?.netns.slice('/run/netns/'.length);
    }, 20_000, 100);

    await lab.api('POST', '/api/v1/firewalls', firewall(`${prefix}fw1`, 'h1'));
    await lab.api('POST', '/api/v1/firewalls', firewall(`${prefix}fw2`, 'h2'));
    await lab.api('POST', '/api/v1/firewallpolicies', {
      apiVersion: 'weft.dev/v1',
      kind: 'FirewallPolicy',
      metadata: { name: `${prefix}web` },
      spec: { appliesTo: { network: NET_A.name, selector: { role: 'web' } }, ingress: { defaultAction: 'deny', rules: [{ name: 'icmp', action: 'allow', protocol: 'icmp' }] } },
    });
    await waitFor('both firewalls and every h1 table', async () => {
      const ready = async (n: string) => (await lab.api<{ status?: { ready?: boolean } }>('GET', `/api/v1/firewalls/${n}`)).status?.ready === true;
      const t = await tables();
      return (await ready(`${prefix}fw1`)) && (await ready(`${prefix}fw2`)) && ['inet weft-isolation', 'inet weft-firewall', 'bridge weft-guard', 'bridge weft-vnf-ports'].every((x) => t.includes(x));
    }, 60_000, 200);

    const base = ['reset', '--name', 'h1', '--state-dir', h1.stateDir, '--socket', h1.socket];
    const whileRunning = await weft([...base, '--dry-run']);
    expect(whileRunning.code).toBe(1);
    expect(whileRunning.stderr).toMatch(/an agent is running on this host \(pid \d+ .*listening on .*\): stop it first/);

    await lab.killAgent('h1', 'SIGTERM');
    // A supervised VNF process, as the agent's supervisor leaves it running.
    const supervisor = new LinuxProcessSupervisor({ stateDir: join(h1.stateDir, 'processes') });
    const proc = await supervisor.ensure({ id: `${FW1}/sleeper`, netns: `/run/netns/${FW1}`, argv: ['/bin/sleep', '300'] });
    await supervisor.close();
    expect(proc.pid).toBeDefined();

    const before = await links();
    expect(before.filter(isWeftLink).length).toBeGreaterThanOrEqual(8); // 2 bridges, 2 vxlan, 3 endpoint ports, 2+ VNF ports

    // refused: workloads are attached; nothing removed
    const refused = await weft(base);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: refused: 3 workloads are attached: .*--force/);
    expect(refused.stderr).not.toMatch(/agent is running/);
    expect((await links()).length).toBe(before.length);

    // dry run: lists, removes nothing
    const dry = await weft([...base, '--dry-run', '--force']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would remove process ${FW1}/sleeper`);
    expect(dry.stdout).toContain(`would remove netns ${FW1}`);
    expect(dry.stdout).toContain(`would remove netns ${runNs}`);
    expect(dry.stdout).toContain('would remove nft table inet weft-firewall');
    expect(dry.stdout).not.toContain(FW2);
    expect((await links()).length).toBe(before.length);

    const done = await weft([...base, '--force', '--state']);
    expect(done.stderr).not.toMatch(/error/);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/removed link wb-/);

    // nothing of weft's in h1
    expect((await links()).filter(isWeftLink)).toEqual([]);
    const addrs = await json<Array<{ ifname: string; addr_info: Array<{ local: string }> }>>(['ip', '-j', 'addr', 'show']);
    const locals = addrs.flatMap((x) => x.addr_info.map((i) => i.local));
    expect(locals.filter((l) => l.startsWith('198.18.170.') || l.startsWith('198.18.171.'))).toEqual([]);
    const routes = await json<Array<{ dst: string }>>(['ip', '-j', 'route', 'show']);
    expect(routes.filter((r) => r.dst === NET_A.subnet || r.dst === NET_B.subnet)).toEqual([]);
    expect((await tables()).filter((t) => t.includes('weft'))).toEqual([]);
    const namespaces = await netnsList();
    expect(namespaces).not.toContain(FW1);
    expect(namespaces).not.toContain(runNs);
    expect(existsSync(h1.stateDir) ? readdirSync(h1.stateDir) : []).toEqual([]);
    expect(pidsInNetns(`/proc/${proc.pid}/ns/net`)).toEqual([]);
    // the workloads' namespaces (the lab's, not weft's) stay, without weft's interface
    expect(listNetns(prefix)).toEqual(expect.arrayContaining([a.netns, b.netns]));
    expect((await lab.exec(a, ['ip', '-j', 'link', 'show'])).stdout).not.toContain('eth0');

    // h2 untouched: its VNF namespace, its agent, its endpoint
    expect(namespaces).toContain(FW2);
    expect((await lab.agent('h2', 'list', {})).endpoints.map((e) => e.endpoint)).toEqual([`${prefix}c.eth0`]);

    // again: nothing left to remove
    const again = await weft(base);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("nothing of weft's found");
  });
});
