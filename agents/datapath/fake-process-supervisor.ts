// ProcessSupervisor over in-memory processes, for the agent's unit tests.
// It is the real Supervisor (process/supervisor.ts: adopt, backoff, reload,
// stop) over a FakeProcessWorld instead of Linux, so it behaves as the real
// one does by construction, and the contract suite checks both.
//
// The world outlives any supervisor built on it, as processes outlive the
// agent: to simulate an agent restart, close() one supervisor and build a
// new one on the same world (and stateDir); it adopts what is there.
// kill9() plays `kill -9` from outside.
import { DatapathError } from './errors.js';
import type { ProcessSpec } from './process-supervisor.js';
import { idOfPidfile, pidfilePath } from './process/pidfile.js';
import type { ExitStatus, ProcessIdentity, ProcessOs } from './process/process-os.js';
import { processObject } from './process/process-spec.js';
import { Supervisor, type SupervisorOptions } from './process/supervisor.js';

export interface FakeProcess {
  pid: number;
  argv: string[];
  /** Namespace path it was started in, and that namespace's identity. */
  netns: string;
  netnsId: string;
  env: Record<string, string>;
  startTime: string;
  /** Signals it received and handled (anything but SIGKILL, SIGTERM, SIGINT): reload signals. */
  handled: NodeJS.Signals[];
}

const ENDING: ReadonlySet<NodeJS.Signals> = new Set<NodeJS.Signals>(['SIGKILL', 'SIGTERM', 'SIGINT']);
const argvKey = (argv: readonly string[]): string => argv.join('\0');

/** The machine the fake processes live on: processes, namespaces and files. */
export class FakeProcessWorld {
  readonly processes = new Map<number, FakeProcess>();
  /** Files by path (pidfiles). */
  readonly files = new Map<string, string>();
  /** Executables that do not exist: starting one fails with ENOENT. */
  readonly missing = new Set<string>();
  /** Every handled signal, in order: what a program would have logged. */
  readonly signalLog: Array<{ pid: number; argv: string[]; signal: NodeJS.Signals }> = [];
  private readonly namespaces = new Map<string, string>();
  private readonly termIgnoring = new Set<string>();
  private readonly exitWatchers = new Map<number, (status: ExitStatus) => void>();
  private nextPid = 1000;
  private ticks = 0;
  private namespaceCount = 0;

  /** A namespace file at `path` (a new namespace each time, as after delete and create). */
  addNetns(path: string): void {
    this.namespaceCount += 1;
    this.namespaces.set(path, `fake-nsfs:${this.namespaceCount}`);
  }

  removeNetns(path: string): void {
    this.namespaces.delete(path);
  }

  netnsIdentity(path: string): string | undefined {
    return this.namespaces.get(path);
  }

  /** Processes started with `argv` ignore SIGTERM (they need SIGKILL). */
  ignoreSigterm(argv: readonly string[]): void {
    this.termIgnoring.add(argvKey(argv));
  }

  /** Start a process as anyone would (no supervisor); fails with ENOENT like exec and setns do. */
  run(argv: readonly string[], netns: string, env: Record<string, string> = {}, object = `program "${argv[0]}"`): FakeProcess {
    const netnsId = this.namespaces.get(netns);
    if (netnsId === undefined) throw new DatapathError('open', `netns "${netns}"`, 'ENOENT');
    if (argv[0] === undefined || this.missing.has(argv[0])) throw new DatapathError('start', object, 'ENOENT');
    this.ticks += 1;
    const p: FakeProcess = { pid: this.nextPid++, argv: [...argv], netns, netnsId, env: { ...env }, startTime: String(this.ticks), handled: [] };
    this.processes.set(p.pid, p);
    return p;
  }

  isAlive(pid: number): boolean {
    return this.processes.has(pid);
  }

  /** `kill -SIGNAL pid`; false when there is no such process. */
  kill(pid: number, signal: NodeJS.Signals): boolean {
    const p = this.processes.get(pid);
    if (!p) return false;
    const ignored = signal === 'SIGTERM' && this.termIgnoring.has(argvKey(p.argv));
    if (!ENDING.has(signal) || ignored) {
      p.handled.push(signal);
      this.signalLog.push({ pid, argv: [...p.argv], signal });
      return true;
    }
    this.processes.delete(pid);
    const watcher = this.exitWatchers.get(pid);
    this.exitWatchers.delete(pid);
    // The parent learns of the death later, as with SIGCHLD.
    if (watcher) setImmediate(() => watcher({ code: null, signal }));
    return true;
  }

  /** `kill -9 pid`, from outside the supervisor. */
  kill9(pid: number): void {
    this.kill(pid, 'SIGKILL');
  }

  watchExit(pid: number, watcher: (status: ExitStatus) => void): void {
    this.exitWatchers.set(pid, watcher);
  }

  unwatchExit(pid: number): void {
    this.exitWatchers.delete(pid);
  }
}

/** ProcessOs on a FakeProcessWorld. */
class FakeProcessOs implements ProcessOs {
  constructor(
    private readonly world: FakeProcessWorld,
    private readonly stateDir: string,
  ) {}

  async spawn(spec: ProcessSpec, onExit: (status: ExitStatus) => void): Promise<number> {
    // Asynchronous like the real spawn: the caller's continuation runs first.
    await Promise.resolve();
    const p = this.world.run(spec.argv, spec.netns, spec.env, `${processObject(spec.id)} (${spec.argv[0]})`);
    this.world.watchExit(p.pid, onExit);
    return p.pid;
  }

  unwatch(pid: number): void {
    this.world.unwatchExit(pid);
  }

  probe(pid: number): ProcessIdentity | undefined {
    const p = this.world.processes.get(pid);
    return p && { cmdline: [...p.argv], netns: p.netnsId, startTime: p.startTime };
  }

  netnsIdentity(path: string): string | undefined {
    return this.world.netnsIdentity(path);
  }

  signal(pid: number, signal: NodeJS.Signals, _group: boolean): boolean {
    return this.world.kill(pid, signal);
  }

  readPidfile(id: string): string | undefined {
    return this.world.files.get(pidfilePath(this.stateDir, id));
  }

  writePidfile(id: string, text: string): void {
    this.world.files.set(pidfilePath(this.stateDir, id), text);
  }

  removePidfile(id: string): void {
    this.world.files.delete(pidfilePath(this.stateDir, id));
  }

  pidfileIds(): string[] {
    const dir = `${this.stateDir.replace(/\/+$/, '')}/`;
    return [...this.world.files.keys()]
      .filter((path) => path.startsWith(dir) && !path.slice(dir.length).includes('/'))
      .map((path) => idOfPidfile(path.slice(dir.length)))
      .filter((id): id is string => id !== undefined);
  }
}

const FAKE_PROCESS_STATE_DIR = '/run/weft/fake/proc';

export class FakeProcessSupervisor extends Supervisor {
  constructor(
    readonly world: FakeProcessWorld,
    options: Partial<SupervisorOptions> = {},
  ) {
    const stateDir = options.stateDir ?? FAKE_PROCESS_STATE_DIR;
    super(new FakeProcessOs(world, stateDir), { ...options, stateDir });
  }
}
