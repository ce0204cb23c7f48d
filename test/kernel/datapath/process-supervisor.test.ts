// LinuxProcessSupervisor with real processes: the shared contract, plus what
// only the real thing can show (the child really runs inside the namespace,
// detached in its own session, with its own environment and log).
//
// Each test gets two throwaway namespaces named wt<pid>P-* and a temp dir
// /tmp/wt<pid>P-*: the state dir and the test programs' files. The test
// programs are /bin/sh loops whose script names that temp dir, so afterEach
// finds every process a test started (also after a failure, also restarts
// it never saw) by its command line and kills it by PID, then deletes the
// namespaces and the dir. No network traffic is sent.
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNamedNetns, deleteNamedNetns } from '../../../agents/datapath/netlink/netns.js';
import type { ProcessSupervisor } from '../../../agents/datapath/process-supervisor.js';
import { cmdlineMatches, parseCmdline } from '../../../agents/datapath/process/cmdline.js';
import { LinuxProcessSupervisor } from '../../../agents/datapath/process/linux-supervisor.js';
import { pidfilePath } from '../../../agents/datapath/process/pidfile.js';
import { isLiveState, parseProcStat, type ProcStat } from '../../../sys/proc-stat.js';
import { NETNS_RUN_DIR } from '../../../model/kernel-names.js';
import { runProcessSupervisorContract, type ProcessWorld, type SupervisorTimings, type TestProgram } from '../../contract/process-supervisor-contract.js';

jest.setTimeout(60_000);

const PREFIX = `wt${process.pid}P-`;
let labs = 0;

const netnsPath = (name: string): string => join(NETNS_RUN_DIR, name);

function readProc(pid: number, file: string): Buffer | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`);
  } catch {
    return undefined; // gone between listing and reading
  }
}

function procStat(pid: number): ProcStat | undefined {
  const raw = readProc(pid, 'stat');
  return raw === undefined ? undefined : parseProcStat(raw.toString('utf8'));
}

function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && isLiveState(st.state);
}

/** Every live process on the machine with its command line. */
function allProcesses(): Array<{ pid: number; cmdline: string[]; stat: ProcStat }> {
  const out: Array<{ pid: number; cmdline: string[]; stat: ProcStat }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = procStat(pid);
    const cmdline = readProc(pid, 'cmdline');
    if (stat && isLiveState(stat.state) && cmdline) out.push({ pid, cmdline: parseCmdline(cmdline), stat });
  }
  return out;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Two namespaces and a temp dir; every process whose command line names the dir is ours. */
class ProcessLab {
  readonly dir: string;
  readonly stateDir: string;
  readonly netnsNames: [string, string];
  private readonly foreign: number[] = [];

  constructor() {
    labs += 1;
    this.netnsNames = [`${PREFIX}${labs}a`, `${PREFIX}${labs}b`];
    this.dir = mkdtempSync(join('/tmp', PREFIX));
    this.stateDir = join(this.dir, 'proc');
  }

  /** The namespaces and the state dir; on failure removes what it made. */
  async create(): Promise<void> {
    try {
      for (const name of this.netnsNames) createNamedNetns(name);
      mkdirSync(this.stateDir);
    } catch (err: unknown) {
      await this.cleanup();
      throw err;
    }
  }

  /** A /bin/sh loop that appends a line to DIR/TAG.hup per SIGHUP; DIR/TAG.ready.PID once it handles SIGHUP. */
  program(tag: string, options: { ignoreSigterm?: boolean } = {}): TestProgram {
    const hup = join(this.dir, `${tag}.hup`);
    const ready = join(this.dir, `${tag}.ready`);
    const ignore = options.ignoreSigterm ? "trap '' TERM; " : '';
    const script = `${ignore}trap 'echo hup >> ${hup}' HUP; : > ${ready}.$$; while :; do sleep 0.1; done`;
    return {
      argv: ['/bin/sh', '-c', script],
      ready: (pid) => waitFor(() => existsSync(`${ready}.${pid}`), `${tag} (pid ${pid}) ready`),
      reloadsSeen: async () => (existsSync(hup) ? readFileSync(hup, 'utf8').split('\n').filter((l) => l === 'hup').length : 0),
    };
  }

  async startForeign(): Promise<number> {
    const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const pid = child.pid as number;
    this.foreign.push(pid);
    return pid;
  }

  /** Our processes still alive: the test programs (by their script naming the dir) and the foreign ones. */
  ours(): number[] {
    const programs = allProcesses()
      .filter((p) => p.cmdline.some((arg) => arg.includes(`${this.dir}/`)))
      .map((p) => p.pid);
    return [...programs, ...this.foreign.filter(isAlive)];
  }

  async cleanup(): Promise<void> {
    for (const pid of this.ours()) {
      for (const target of [-pid, pid]) {
        try {
          // The group too: a test program's `sleep` helper.
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone, or not a group leader
        }
      }
    }
    try {
      await waitFor(() => this.ours().length === 0, 'test processes gone');
    } finally {
      for (const name of this.netnsNames) deleteNamedNetns(name);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function world(lab: ProcessLab): ProcessWorld {
  const [netns, otherNetns] = lab.netnsNames.map(netnsPath) as [string, string];
  return {
    netns,
    otherNetns,
    absentNetns: netnsPath(`${PREFIX}absent`),
    supervisor: (timings: SupervisorTimings): ProcessSupervisor => new LinuxProcessSupervisor({ ...timings, stateDir: lab.stateDir }),
    program: (tag, options) => lab.program(tag, options),
    missingExecutable: () => join(lab.dir, 'no-such-program'),
    startForeign: () => lab.startForeign(),
    isAlive,
    kill9: (pid) => process.kill(pid, 'SIGKILL'),
    processesRunning: async (argv) => {
      const matching = allProcesses().filter((p) => cmdlineMatches(p.cmdline, argv));
      const pids = new Set(matching.map((p) => p.pid));
      // A shell's fork that has not exec'd its helper yet has the same command line: count the parent only.
      return matching.filter((p) => !pids.has(p.stat.ppid)).map((p) => p.pid);
    },
    readPidfile: (id) => (existsSync(pidfilePath(lab.stateDir, id)) ? readFileSync(pidfilePath(lab.stateDir, id), 'utf8') : undefined),
    writePidfile: (id, text) => writeFileSync(pidfilePath(lab.stateDir, id), text),
  };
}

const labOf = new WeakMap<ProcessWorld, ProcessLab>();

runProcessSupervisorContract('LinuxProcessSupervisor (real processes)', {
  setUp: async () => {
    const lab = new ProcessLab();
    const w = world(lab);
    labOf.set(w, lab);
    await lab.create();
    return w;
  },
  tearDown: async (w) => {
    await labOf.get(w)?.cleanup();
  },
});

describe('LinuxProcessSupervisor on a real kernel', () => {
  let lab: ProcessLab;
  let supervisor: LinuxProcessSupervisor;

  beforeEach(async () => {
    lab = new ProcessLab();
    await lab.create();
    supervisor = new LinuxProcessSupervisor({ stateDir: lab.stateDir, pollMs: 20, stopGraceMs: 1000 });
  });

  afterEach(async () => {
    try {
      await supervisor.close();
    } finally {
      await lab.cleanup();
    }
  });

  const netns = (): string => netnsPath(lab.netnsNames[0]);

  it("the program runs inside the spec's namespace: /proc/PID/ns/net is that namespace's inode", async () => {
    const st = await supervisor.ensure({ id: 'a', netns: netns(), argv: lab.program('a').argv });
    expect(readlinkSync(`/proc/${st.pid}/ns/net`)).toBe(`net:[${statSync(netns()).ino}]`);
    expect(readlinkSync(`/proc/${st.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
  });

  it('the program is detached: its own session and process group, so it outlives the agent', async () => {
    const st = await supervisor.ensure({ id: 'a', netns: netns(), argv: lab.program('a').argv });
    const raw = readFileSync(`/proc/${st.pid}/stat`, 'utf8');
    const session = Number(raw.slice(raw.lastIndexOf(')') + 2).split(' ')[3]);
    expect(procStat(st.pid!)?.pgrp).toBe(st.pid);
    expect(session).toBe(st.pid);
  });

  it("the program gets the spec's env and a default PATH, not the agent's environment; its output goes to a log in the state dir", async () => {
    const marker = join(lab.dir, 'env');
    const script = `echo "foo=$FOO path=$PATH home=\${HOME-unset} marker=${marker}"; while :; do sleep 0.1; done`;
    await supervisor.ensure({ id: 'vnf1/env', netns: netns(), argv: ['/bin/sh', '-c', script], env: { FOO: 'bar' } });
    const log = join(lab.stateDir, 'vnf1%2Fenv.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('marker='), 'log written');
    expect(readFileSync(log, 'utf8')).toBe(`foo=bar path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin home=unset marker=${marker}\n`);
  });

  it('the pidfile holds the pid on its first line and no temporary file is left beside it', async () => {
    const st = await supervisor.ensure({ id: 'lb1/haproxy', netns: netns(), argv: lab.program('a').argv, configHash: 'h1' });
    const text = readFileSync(join(lab.stateDir, 'lb1%2Fhaproxy.pid'), 'utf8');
    expect(text.split('\n')[0]).toBe(String(st.pid));
    expect(readdirSync(lab.stateDir).sort()).toEqual(['lb1%2Fhaproxy.log', 'lb1%2Fhaproxy.pid']);
  });

  it('stop ends the helpers the program forked too (SIGTERM to its process group)', async () => {
    const st = await supervisor.ensure({ id: 'a', netns: netns(), argv: lab.program('a').argv });
    await waitFor(() => allProcesses().some((p) => p.stat.ppid === st.pid), 'a sleep helper');
    await supervisor.stop('a');
    await waitFor(() => !allProcesses().some((p) => p.stat.pgrp === st.pid), 'process group empty', 2000);
  });
});
