// Endpoints whose workload died while their agent was down. A 2-host lab:
// workloads on h1 (and one on h2, so h2 holds h1's entries); h1's agent is
// killed with SIGKILL; one workload's namespace is removed outright (its
// veth pair dies with it), another's name is removed while a process still
// holds the namespace (its veth lives on); h1's agent starts again. Judged
// by the controller, the kernel of both hosts and h1's log: both endpoints
// are withdrawn everywhere, nothing of them is left on h1, their addresses
// can be attached again, and the log has exactly one line about each.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { AttachResult } from '../../../model/agent-rpc.js';
import type { Endpoint } from '../../../model/kinds.js';
import type { ResourceList } from '../../../model/rest.js';
import { Lab, labPrefix, type Workload } from '../../lab/index.js';
import { waitFor } from '../../support/test-lab.js';

jest.setTimeout(180_000);

const NET = { name: 'rpa', subnet: '198.18.160.0/24' };

describe('an agent restarted after its workloads died', () => {
  const prefix = labPrefix('rp');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lab = new Lab({ dir });
  let holder: ChildProcess | undefined;

  beforeAll(async () => {
    await lab.up({ hosts: 2, prefix, networks: [NET] });
  });

  afterAll(async () => {
    if (holder?.pid !== undefined && holder.exitCode === null) process.kill(holder.pid, 'SIGKILL');
    await lab.down({ prefix }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const endpoints = async () => (await lab.api<ResourceList<Endpoint>>('GET', '/api/v1/endpoints')).items.map((e) => e.metadata.name).sort();
  const h2Entries = async () => {
    const fdb = JSON.parse((await lab.exec('h2', ['bridge', '-j', 'fdb', 'show'])).stdout || '[]') as Array<{ mac: string; dst?: string }>;
    const neigh = JSON.parse((await lab.exec('h2', ['ip', '-j', 'neigh', 'show'])).stdout || '[]') as Array<{ dst: string; lladdr?: string }>;
    return { macs: new Set(fdb.filter((f) => f.dst !== undefined).map((f) => f.mac)), ips: new Set(neigh.map((n) => n.dst)) };
  };
  const h1Links = async () => (JSON.parse((await lab.exec('h1', ['ip', '-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>).map((l) => l.ifname);

  test('each is detached everywhere, once, with one log line, and nothing of it leaks', async () => {
    const attach = async (w: Workload): Promise<AttachResult> => lab.attach('h1', { network: NET.name, containerId: `${prefix}${w.name}`, netns: w.path });
    const gone = await lab.workload('h1', 'gone');
    const held = await lab.workload('h1', 'held');
    const live = await lab.workload('h1', 'live');
    const [g, hd, lv] = [await attach(gone), await attach(held), await attach(live)];
    const far = await lab.workload('h2', 'far');
    await lab.attach('h2', { network: NET.name, containerId: `${prefix}far`, netns: far.path });
    await waitFor('h2 to hold the entries of h1\'s endpoints', async () => {
      const e = await h2Entries();
      return [g, hd, lv].every((r) => e.macs.has(r.mac) && e.ips.has(r.ip));
    }, 20_000, 100);

    await lab.killAgent('h1'); // SIGKILL
    // A process keeps "held"'s namespace alive after its name is gone.
    holder = spawn('ip', ['netns', 'exec', held.netns, 'sleep', '120'], { stdio: 'ignore' });
    await waitFor('the holder to run in the namespace', async () => (await lab.exec(held, ['true'])).code === 0 && holder?.exitCode === null);
    await new Promise((r) => setTimeout(r, 300));
    lab.removeWorkload(gone);
    lab.removeWorkload(held);
    expect(await h1Links()).toContain(hd.hostIfname); // alive with its namespace

    const log = lab.host('h1').log;
    const logBefore = readFileSync(log, 'utf8').length;
    await lab.startAgent('h1');
    await waitFor('the controller to withdraw both', async () => {
      const names = await endpoints();
      return !names.includes(g.endpoint) && !names.includes(hd.endpoint) && names.includes(lv.endpoint);
    }, 30_000, 100);
    await waitFor('h2 to drop their entries', async () => {
      const e = await h2Entries();
      return ![g, hd].some((r) => e.macs.has(r.mac) || e.ips.has(r.ip)) && e.macs.has(lv.mac) && e.ips.has(lv.ip);
    }, 20_000, 100);

    // nothing of them left on h1: no host veth, no record
    const links = await h1Links();
    expect(links).not.toContain(g.hostIfname);
    expect(links).not.toContain(hd.hostIfname);
    expect(links).toContain(lv.hostIfname);
    expect((await lab.agent('h1', 'list', {})).endpoints.map((e) => e.endpoint).sort()).toEqual([lv.endpoint]);
    // their addresses are free again
    const again = await lab.workload('h1', 'again');
    const reused = await lab.attach('h1', { network: NET.name, containerId: `${prefix}again`, netns: again.path, ip: g.ip });
    expect(reused.ip).toBe(g.ip);
    const again2 = await lab.workload('h1', 'again2');
    expect((await lab.attach('h1', { network: NET.name, containerId: `${prefix}again2`, netns: again2.path, ip: hd.ip })).ip).toBe(hd.ip);

    // a resync later, still exactly one line about each, and none about routes failing
    await new Promise((r) => setTimeout(r, 1_000));
    const lines = readFileSync(log, 'utf8').slice(logBefore).split('\n').filter((l) => l !== '');
    for (const r of [g, hd]) {
      const about = lines.filter((l) => l.includes(r.endpoint));
      expect(about).toHaveLength(1);
      const entry = JSON.parse(about[0]!) as { level: number; endpoint: string; netns: string; reason: string; msg: string };
      expect(entry).toMatchObject({ level: 40, endpoint: r.endpoint, netns: r.netns });
      expect(entry.reason).toMatch(/does not exist any more/);
    }
    expect(lines.filter((l) => l.includes('endpoint routes not updated'))).toEqual([]);
  });
});
