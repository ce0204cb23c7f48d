// The 2-host lab the overlay benchmarks share: bringing a lab up costs
// seconds, so the convergence and throughput benchmarks run in one lab.
// Every namespace carries the per-run prefix wt<pid>B-, so a crashed run's
// leftovers are recognisable and `weft lab down --prefix` sweeps them.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnInNetns } from '../../sys/netns.js';
import { Lab, labPrefix, type Workload } from '../lab/index.js';

export const OVERLAY_NETWORK = { name: 'bench', subnet: '100.64.40.0/24' };

export interface OverlayLab {
  lab: Lab;
  prefix: string;
  dir: string;
  network: string;
}

export async function startOverlayLab(): Promise<OverlayLab> {
  const prefix = labPrefix('B');
  // Short on purpose: the agents' unix sockets live in this directory.
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lab = new Lab({ dir });
  try {
    await lab.up({ hosts: 2, prefix, networks: [OVERLAY_NETWORK] });
  } catch (e) {
    // up() removed what it made; the directory is ours
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { lab, prefix, dir, network: OVERLAY_NETWORK.name };
}

/** Stop every lab process and delete every namespace, by prefix too, so a half-built lab goes as well. */
export async function stopOverlayLab(o: OverlayLab): Promise<void> {
  try {
    await o.lab.down({ prefix: o.prefix });
  } finally {
    if (existsSync(o.dir)) rmSync(o.dir, { recursive: true, force: true });
  }
}

/** A process started in a lab namespace, with its exit awaited once. */
export interface LabChild {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: bigint }>;
  /** its output is complete ('close', which can come after 'exit') */
  closed: Promise<void>;
  output: () => string;
  /** SIGKILL by PID if it still runs; tolerates a process that is gone. */
  kill: () => void;
}

export function spawnIn(target: Workload | string, argv: string[]): LabChild {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('spawnIn: empty argv');
  const path = typeof target === 'string' ? target : target.path;
  const child = spawnInNetns(path, command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: bigint }>((resolve) => {
    // 'exit', not 'close': the moment the process ends is what gets timed
    child.once('exit', (code, signal) => resolve({ code, signal, at: process.hrtime.bigint() }));
    child.once('error', (e) => {
      out += `${command}: ${e.message}\n`;
      resolve({ code: 127, signal: null, at: process.hrtime.bigint() });
    });
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    exited,
    closed,
    output: () => out,
    kill: () => {
      if (done || child.pid === undefined) return;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // exited between the check and the kill
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run argv in a lab workload; throws with its stderr when it fails. */
export async function run(lab: Lab, w: Workload, argv: string[]): Promise<void> {
  const r = await lab.exec(w, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${w.netns}: ${r.stderr.trim()}`);
}

/** Forget every neighbour of a long-lived workload, so a reused address is resolved afresh (not from the last round's entry). */
export async function flushNeighbours(lab: Lab, w: Workload): Promise<void> {
  await run(lab, w, ['ip', 'neigh', 'flush', 'all']);
}

/**
 * A command started ahead in a lab namespace, held until go(): bash waits
 * for a line on stdin, then execs argv with that line as its last argument.
 * What a benchmark times then starts within a millisecond of go() (no
 * process start-up in between), e.g. right as an attach returns, with an
 * argument known only then (the new endpoint's address).
 */
export interface Primed {
  go(lastArg: string): void;
  /** exit code and output, once the process has closed its output */
  done: Promise<{ code: number; out: string }>;
  kill(): void;
}

export function primed(target: Workload, argv: string[]): Primed {
  const path = target.path;
  const child = spawnInNetns(path, 'bash', ['-c', 'read -r arg && exec "$@" "$arg"', 'primed', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number; out: string }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
    child.once('error', (e) => resolve({ code: 127, out: `${out}bash: ${e.message}\n` }));
  });
  return {
    go: (lastArg) => child.stdin?.end(`${lastArg}\n`),
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    },
  };
}
