// The multi-host lab harness itself: it builds what shared/TESTING.md
// describes, the processes inside it work, and down() leaves nothing —
// also when the lab's processes died and a different object (or process)
// tears it down. Cross-host traffic between workloads needs the VXLAN
// overlay and is tested with it, not here.
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { Endpoint, Host } from '../../../model/kinds.js';
import type { ResourceList } from '../../../model/rest.js';
import { spawnInNetns } from '../../../sys/netns.js';
import { defaultCli, isRunning, Lab, labPrefix, readLabState, type ProcessRecord } from '../../lab/index.js';

jest.setTimeout(180_000);

const run = promisify(execFile);

async function weft(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [defaultCli(), ...args], { timeout: 120_000 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
  }
}

async function netnsList(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as { name: string }[]).map((n) => n.name);
}

async function namespacesWith(prefix: string): Promise<string[]> {
  return (await netnsList()).filter((n) => n.startsWith(prefix)).sort();
}

function labDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Safety net for a failed test: whatever a lab of this prefix left, gone. */
async function sweep(dir: string, prefix: string): Promise<void> {
  await new Lab({ dir }).down({ prefix }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

describe('a 3-host lab', () => {
  const prefix = labPrefix('L');
  const dir = labDir(prefix);
  const lab = new Lab({ dir });
  let processes: ProcessRecord[] = [];

  beforeAll(async () => {
    await lab.up({ hosts: 3, prefix, networks: [{ name: 'blue', subnet: '100.64.1.0/24' }] });
    processes = Object.values(lab.current().processes);
  });

  afterAll(() => sweep(dir, prefix));

  test('builds a lab namespace and one namespace per host', async () => {
    expect(await namespacesWith(prefix)).toEqual([`${prefix}h1`, `${prefix}h2`, `${prefix}h3`, `${prefix}lab`]);
    // one controller, one relay, three agents, each alive
    expect(processes).toHaveLength(5);
    for (const p of processes) expect(isRunning(p)).toBe(true);
  });

  test('every host is Ready at the controller', async () => {
    const hosts = await lab.api<ResourceList<Host>>('GET', '/api/v1/hosts');
    expect(hosts.items.map((h) => [h.metadata.name, h.status?.state]).sort()).toEqual([
      ['h1', 'Ready'],
      ['h2', 'Ready'],
      ['h3', 'Ready'],
    ]);
  });

  test('hosts reach each other and the controller over the underlay', async () => {
    const addr = await lab.exec('h1', ['ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.stdout).toContain('"local":"198.18.0.11"');
    expect(await lab.ping('h1', '198.18.0.12')).toBe(true);
    expect(await lab.ping('h3', '198.18.0.11')).toBe(true);
    expect(await lab.ping('h2', '198.18.0.1')).toBe(true);
  });

  test('a workload on h1 is attached by h1\'s agent and reaches its gateway', async () => {
    const w = await lab.workload('h1', 'w1');
    expect(w.netns).toBe(`${prefix}h1-w1`);
    const r = await lab.attach('h1', { network: 'blue', containerId: 'w1', netns: w.path });
    expect(r.address).toMatch(/^100\.64\.1\.\d+\/24$/);
    expect(await lab.ping(w, r.gateway)).toBe(true);
    // the bridge and the host side of the veth are in h1's namespace, not the lab's
    const links = await lab.exec('h1', ['ip', '-br', 'link']);
    expect(links.stdout).toContain(r.hostIfname);
    const eps = await lab.api<ResourceList<Endpoint>>('GET', '/api/v1/endpoints');
    expect(eps.items.find((e) => e.spec.containerId === 'w1')?.spec.host).toBe('h1');
    await lab.agent('h1', 'detach', { containerId: 'w1' });
    lab.removeWorkload(w);
    expect(await namespacesWith(`${prefix}h1-`)).toEqual([]);
  });

  test('an agent killed with SIGKILL starts again and is Ready', async () => {
    const before = lab.current().processes['agent:h2']!;
    await lab.killAgent('h2');
    expect(isRunning(before)).toBe(false);
    await lab.startAgent('h2');
    const after = lab.current().processes['agent:h2']!;
    expect(after.pid).not.toBe(before.pid);
    expect((await lab.agent('h2', 'health', {})).controller).toBe('connected');
    processes = Object.values(lab.current().processes);
  });

  test('the controller restarts on its data and the agents reconnect', async () => {
    await lab.stopController();
    await expect(lab.api('GET', '/api/v1/hosts')).rejects.toThrow(/not reachable|relay/);
    await lab.startController();
    await lab.waitReady();
    for (const h of ['h1', 'h2', 'h3']) expect((await lab.agent(h, 'health', {})).controller).toBe('connected');
    const nets = await lab.api<ResourceList>('GET', '/api/v1/networks');
    expect(nets.items.map((n) => n.metadata.name)).toEqual(['blue']);
    processes = Object.values(lab.current().processes);
  });

  test('weft lab up refuses a prefix whose namespaces exist, naming them', async () => {
    const other = join(dir, 'other');
    const again = await weft(['lab', 'up', '--hosts', '1', '--prefix', prefix, '--dir', other]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${prefix}lab`);
    expect(again.stderr).toContain(`weft lab down --prefix ${prefix}`);
    expect(existsSync(other)).toBe(false);
  });

  test('down stops every process and removes every namespace and the lab directory', async () => {
    await lab.workload('h3', 'left'); // not removed by the test: down must take it
    const report = await lab.down();
    expect(report.namespaces.sort()).toEqual([`${prefix}h1`, `${prefix}h2`, `${prefix}h3`, `${prefix}h3-left`, `${prefix}lab`]);
    expect(await namespacesWith(prefix)).toEqual([]);
    for (const p of processes) expect(isRunning(p)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('cleaning up after a crash', () => {
  test('weft lab up leaves the lab running; down from a fresh Lab removes it after its processes were killed', async () => {
    const prefix = labPrefix('C');
    const dir = labDir(prefix);
    let stray: ChildProcess | undefined;
    try {
      // Another process builds the lab and exits: the lab lives on.
      const up = await weft(['lab', 'up', '--hosts', '2', '--prefix', prefix, '--dir', dir, '--no-networks', '--log-level', 'warn']);
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`nsenter --net=/run/netns/${prefix}h1`);
      const state = readLabState(dir)!;
      const recs = Object.values(state.processes);
      for (const p of recs) expect(isRunning(p)).toBe(true);

      // The crash: the controller and one agent die, their sockets and the state file stay.
      process.kill(state.processes.controller!.pid, 'SIGKILL');
      process.kill(state.processes['agent:h1']!.pid, 'SIGKILL');
      // and a process nobody recorded runs inside a lab host
      stray = spawnInNetns(`/run/netns/${prefix}h2`, 'sleep', ['60'], { stdio: 'ignore' });
      const strayExit = new Promise((r) => stray!.once('exit', r));

      const report = await new Lab({ dir }).down();
      await strayExit;
      expect(report.stopped).toEqual(expect.arrayContaining(['relay', 'agent:h2']));
      expect(report.stopped.some((s) => s.startsWith(`pid ${stray!.pid} `))).toBe(true);
      expect(await namespacesWith(prefix)).toEqual([]);
      for (const p of recs) expect(isRunning(p)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    } finally {
      stray?.kill('SIGKILL');
      await sweep(dir, prefix);
    }
  });

  test('weft lab down --prefix sweeps a lab whose state file is gone', async () => {
    const prefix = labPrefix('S');
    const dir = labDir(prefix);
    try {
      const lab = new Lab({ dir, logLevel: 'warn' });
      await lab.up({ hosts: 1, prefix });
      const recs = Object.values(lab.current().processes);
      unlinkSync(join(dir, 'lab.json'));

      const refused = await weft(['lab', 'down', '--dir', dir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/no lab recorded .*pass the prefix/);

      const down = await weft(['lab', 'down', '--dir', dir, '--prefix', prefix]);
      expect(down.stderr).toBe('');
      expect(down.code).toBe(0);
      expect(down.stdout).toMatch(/3 processes stopped, 2 namespaces removed/);
      expect(await namespacesWith(prefix)).toEqual([]);
      for (const p of recs) expect(isRunning(p)).toBe(false);
    } finally {
      await sweep(dir, prefix);
    }
  });
});

describe('weft lab flags', () => {
  const prefix = labPrefix('F');
  test.each([
    [['--hosts', '0', '--prefix', prefix], /--hosts.*1 to 9/],
    [['--hosts', '10', '--prefix', prefix], /--hosts.*1 to 9/],
    [['--hosts', 'x', '--prefix', prefix], /--hosts.*whole number/],
    [['--prefix', '-bad'], /--prefix.*starting with a letter or digit/],
    [['--prefix', 'a/b'], /--prefix/],
  ])('weft lab up %j is a usage error and makes nothing', async (args, message) => {
    const dir = join(tmpdir(), `${prefix}never-made`);
    const r = await weft(['lab', 'up', ...args, '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await namespacesWith(prefix)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
