// ProcessOs with real processes. A program starts inside its namespace
// without a shell and without nsenter: libuv forks from the calling thread,
// so a child spawned while withNetns has switched the JS thread is born in
// that namespace (withNetns switches back right after; spawn is synchronous).
// Children are detached (their own session and process group, unref'd, no
// pipes to us) so they outlive the agent; their output goes to a log file
// beside the pidfile.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatapathError, fromNetlink } from '../errors.js';
import { netnsIdentity, withNetns } from '../netlink/netns.js';
import type { ProcessSpec } from '../process-supervisor.js';
import { parseCmdline } from './cmdline.js';
import { idOfPidfile, pidfilePath } from './pidfile.js';
import { isLiveState, parseProcStat } from '../../../sys/proc-stat.js';
import type { ExitStatus, ProcessIdentity, ProcessOs } from './process-os.js';
import { processObject } from './process-spec.js';

/** The environment a program gets besides its spec's env: the agent's own (tokens, NODE_OPTIONS) is not passed on. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function logPath(stateDir: string, id: string): string {
  return join(stateDir, `${encodeURIComponent(id)}.log`);
}

/** Errors that mean "no such process (any more)" or "not ours to look at". */
function isGone(err: DatapathError): boolean {
  return err.isNotFound || err.errno === 'EACCES' || err.errno === 'EPERM';
}

export class LinuxProcessOs implements ProcessOs {
  /** Own children still watched, with the exit listener to remove on unwatch. */
  private readonly children = new Map<number, { child: ChildProcess; listener: (code: number | null, signal: NodeJS.Signals | null) => void }>();
  private dirMade = false;

  constructor(private readonly stateDir: string) {}

  spawn(spec: ProcessSpec, onExit: (status: ExitStatus) => void): Promise<number> {
    const [file, ...args] = spec.argv;
    const object = `${processObject(spec.id)} (${file})`;
    if (file === undefined) return Promise.reject(new DatapathError('start', object, 'EINVAL'));
    let log: number;
    try {
      this.makeDir();
      log = openSync(logPath(this.stateDir, spec.id), 'a', 0o640);
    } catch (err: unknown) {
      return Promise.reject(fromNetlink('start', object, err));
    }
    let child: ChildProcess;
    try {
      // A missing namespace throws withNetns's own error: `open netns "...": ENOENT`.
      child = withNetns(spec.netns, () =>
        spawn(file, args, { detached: true, stdio: ['ignore', log, log], env: { PATH: DEFAULT_PATH, ...spec.env }, cwd: '/' }),
      );
    } catch (err: unknown) {
      return Promise.reject(err instanceof DatapathError ? err : fromNetlink('start', object, err));
    } finally {
      // The child has its own copy.
      closeSync(log);
    }
    child.unref();
    return new Promise((resolve, reject) => {
      // exec failures (ENOENT, EACCES) arrive here, after spawn() returned.
      child.on('error', (err: unknown) => reject(fromNetlink('start', object, err)));
      child.once('spawn', () => {
        const pid = child.pid as number;
        const listener = (code: number | null, signal: NodeJS.Signals | null): void => {
          this.children.delete(pid);
          onExit({ code, signal });
        };
        child.once('exit', listener);
        this.children.set(pid, { child, listener });
        resolve(pid);
      });
    });
  }

  unwatch(pid: number): void {
    const watched = this.children.get(pid);
    if (!watched) return;
    // The handle stays with libuv, which still reaps the child if it dies
    // while the agent runs: no zombie is left behind.
    watched.child.removeListener('exit', watched.listener);
    this.children.delete(pid);
  }

  probe(pid: number): ProcessIdentity | undefined {
    const stat = this.readProc(pid, 'stat');
    const parsed = stat === undefined ? undefined : parseProcStat(stat.toString('utf8'));
    if (!parsed || !isLiveState(parsed.state)) return undefined;
    const cmdline = this.readProc(pid, 'cmdline');
    if (cmdline === undefined) return undefined;
    return { cmdline: parseCmdline(cmdline), netns: this.netnsIdentity(`/proc/${pid}/ns/net`), startTime: parsed.startTime };
  }

  netnsIdentity(path: string): string | undefined {
    try {
      return netnsIdentity(path);
    } catch (err: unknown) {
      if (err instanceof DatapathError && isGone(err)) return undefined; // another's process: not ours to look at
      throw err;
    }
  }

  signal(pid: number, signal: NodeJS.Signals, group: boolean): boolean {
    // Never the agent itself, init, or "every process" (-1, 0).
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) throw new DatapathError('signal', `process ${pid}`, 'EINVAL');
    try {
      process.kill(group ? -pid : pid, signal);
      return true;
    } catch (err: unknown) {
      const e = fromNetlink('signal', `process ${pid}`, err);
      if (!e.isNotFound) throw e;
      // No such group: the process left the group it was started in.
      return group ? this.signal(pid, signal, false) : false;
    }
  }

  readPidfile(id: string): string | undefined {
    const path = pidfilePath(this.stateDir, id);
    try {
      return readFileSync(path, 'utf8');
    } catch (err: unknown) {
      const e = fromNetlink('read', `pidfile "${path}"`, err);
      if (e.isNotFound) return undefined;
      throw e;
    }
  }

  writePidfile(id: string, text: string): void {
    const path = pidfilePath(this.stateDir, id);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      this.makeDir();
      writeFileSync(tmp, text, { mode: 0o644 });
      renameSync(tmp, path);
    } catch (err: unknown) {
      throw fromNetlink('write', `pidfile "${path}"`, err);
    }
  }

  removePidfile(id: string): void {
    const path = pidfilePath(this.stateDir, id);
    try {
      unlinkSync(path);
    } catch (err: unknown) {
      const e = fromNetlink('remove', `pidfile "${path}"`, err);
      if (!e.isNotFound) throw e;
    }
  }

  pidfileIds(): string[] {
    try {
      return readdirSync(this.stateDir)
        .map(idOfPidfile)
        .filter((id): id is string => id !== undefined);
    } catch (err: unknown) {
      const e = fromNetlink('list', `"${this.stateDir}"`, err);
      if (e.isNotFound) return [];
      throw e;
    }
  }

  private makeDir(): void {
    if (this.dirMade) return;
    mkdirSync(this.stateDir, { recursive: true, mode: 0o750 });
    this.dirMade = true;
  }

  /** /proc/PID/FILE, or undefined when the process is gone. */
  private readProc(pid: number, file: string): Buffer | undefined {
    try {
      return readFileSync(`/proc/${pid}/${file}`);
    } catch (err: unknown) {
      const e = fromNetlink('read', `/proc/${pid}/${file}`, err);
      if (isGone(e)) return undefined;
      throw e;
    }
  }
}
