// Processes of the lab: started detached inside a namespace with their
// output in a log file (so they outlive `weft lab up`), and stopped later
// by PID — from any process — only after checking, through the start time
// in /proc, that the PID still names the process we started.
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnInNetns } from '../../sys/netns.js';
import type { ProcessRecord } from './lab-state.js';

const STOP_GRACE_MS = 5_000;
const POLL_MS = 25;

interface ProcStat {
  state: string;
  startTime: string;
}

/**
 * The fields of /proc/PID/stat after the command name (which may hold
 * spaces and parentheses): [0] is field 3 (state), [n] is field n + 3.
 * Undefined when the process is gone.
 */
export function procStatFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function procStat(pid: number): ProcStat | undefined {
  const rest = procStatFields(pid);
  if (!rest) return undefined;
  // The start time is field 22.
  const state = rest[0];
  const startTime = rest[19];
  return state === undefined || startTime === undefined ? undefined : { state, startTime };
}

export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/** True while the recorded process runs; a zombie or a new process under the same PID is not it. */
export function isRunning(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  const s = procStat(rec.pid);
  return s !== undefined && s.startTime === rec.startTime && s.state !== 'Z' && s.state !== 'X';
}

/** argv of a running process ([] when it is gone or a kernel thread). */
export function processArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/**
 * Start argv inside the namespace at nsPath, in its own session (Ctrl-C on
 * the caller's terminal does not reach it) and not holding the caller's
 * event loop open, with stdout and stderr appended to logPath.
 */
export function spawnDetached(nsPath: string, argv: string[], logPath: string): ProcessRecord {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('spawnDetached: empty argv');
  const log = openSync(logPath, 'a', 0o600);
  try {
    const child = spawnInNetns(nsPath, command, args, { detached: true, stdio: ['ignore', log, log] });
    // A failed exec arrives as an 'error' event; the caller notices through isRunning and the log.
    child.on('error', () => undefined);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${command}: no PID (see ${logPath})`);
    // Read right after fork: the start time does not change across exec.
    const startTime = processStartTime(pid) ?? '';
    return { pid, startTime, argv, log: logPath };
  } finally {
    closeSync(log);
  }
}

async function waitGone(rec: Pick<ProcessRecord, 'pid' | 'startTime'>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(rec)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Stop a recorded process: `sig` first, SIGKILL after a grace period.
 * Returns false when it was not running (any more) to begin with.
 */
export async function stopProcess(rec: Pick<ProcessRecord, 'pid' | 'startTime'>, sig: NodeJS.Signals = 'SIGTERM', graceMs = STOP_GRACE_MS): Promise<boolean> {
  if (!isRunning(rec)) return false;
  signal(rec.pid, sig);
  if (sig === 'SIGKILL' || !(await waitGone(rec, graceMs))) {
    signal(rec.pid, 'SIGKILL');
    await waitGone(rec, graceMs);
  }
  return true;
}

/** PIDs of the processes whose network namespace is the one at nsPath (what `ip netns pids` prints). */
export function pidsInNetns(nsPath: string): number[] {
  let target: { dev: number; ino: number };
  try {
    target = statSync(nsPath);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = statSync(`/proc/${entry}/ns/net`);
      if (s.dev === target.dev && s.ino === target.ino) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}
