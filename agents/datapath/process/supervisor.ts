// The supervisor's decisions, over whatever ProcessOs it is given: adopt or
// start, reload or replace, restart with backoff, stop. All operations on
// one id run one after another (a queue per id), so two ensure() calls, or
// an ensure() racing a restart, can never start two copies.
//
// Own children report their death through the exit event; an adopted
// process is not our child (its parent is whoever reaps orphans), so its
// death is noticed by polling /proc.
import { errorMessage } from '../../../model/errors.js';
import { DatapathError } from '../errors.js';
import type { ProcessExit, ProcessPhase, ProcessSpec, ProcessStatus, ProcessSupervisor } from '../process-supervisor.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { cmdlineMatches } from './cmdline.js';
import { formatPidfile, parsePidfile, type PidfileRecord } from './pidfile.js';
import type { ExitStatus, ProcessIdentity, ProcessOs } from './process-os.js';
import { processObject, sameProgram, validateProcessSpec } from './process-spec.js';

export interface SupervisorOptions {
  /** Directory of the pidfiles (and, for real processes, their logs), e.g. /run/weft/agent-<host>/proc. */
  stateDir: string;
  backoff?: Partial<BackoffPolicy>;
  /** How often an adopted process is looked for in /proc. */
  pollMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

const DEFAULT_POLL_MS = 500;
const DEFAULT_STOP_GRACE_MS = 5000;
/** After SIGKILL a process is gone within milliseconds unless stuck in the kernel (D state). */
const KILL_WAIT_MS = 5000;
const GONE_POLL_MS = 10;
/** Backoff delays kept in the status. */
const HISTORY = 10;
const LEFTOVER_MESSAGE = 'left running by an earlier run, not supervised: ensure() adopts it, stop() ends it';

interface Entry {
  spec: ProcessSpec;
  phase: ProcessPhase;
  pid: number | undefined;
  /** /proc start time of pid: tells its death from a reuse of the number. */
  startTime: string | undefined;
  /** Identity of the namespace pid runs in. */
  netnsId: string | undefined;
  adopted: boolean;
  restarts: number;
  reloads: number;
  /** The configHash the live process runs with. */
  appliedHash: string | undefined;
  lastExit: ProcessExit | undefined;
  message: string | undefined;
  /** Date.now() when the live process was started or adopted. */
  upSince: number;
  /** Restarts in the current crash streak: the exponent of the next delay. */
  attempt: number;
  backoffMs: number[];
  nextDelayMs: number | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  pollTimer: NodeJS.Timeout | undefined;
  /** Set while the supervisor itself ends the process: its death is then no crash. */
  stopping: boolean;
}

function newEntry(spec: ProcessSpec): Entry {
  return {
    spec,
    phase: 'stopped',
    pid: undefined,
    startTime: undefined,
    netnsId: undefined,
    adopted: false,
    restarts: 0,
    reloads: 0,
    appliedHash: undefined,
    lastExit: undefined,
    message: undefined,
    upSince: 0,
    attempt: 0,
    backoffMs: [],
    nextDelayMs: undefined,
    restartTimer: undefined,
    pollTimer: undefined,
    stopping: false,
  };
}

function describeExit(status: ExitStatus): string {
  if (status.signal !== null) return `killed by ${status.signal}`;
  if (status.code !== null) return `exited with code ${status.code}`;
  return 'ended';
}

/** A private copy: a caller changing its spec object afterwards changes nothing here. */
function copySpec(spec: ProcessSpec): ProcessSpec {
  const copy: ProcessSpec = { id: spec.id, netns: spec.netns, argv: [...spec.argv] };
  if (spec.env !== undefined) copy.env = { ...spec.env };
  if (spec.reload !== undefined) copy.reload = { signal: spec.reload.signal };
  if (spec.configHash !== undefined) copy.configHash = spec.configHash;
  return copy;
}

export class Supervisor implements ProcessSupervisor {
  private readonly entries = new Map<string, Entry>();
  /** Per id, the tail of its operation queue. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly backoff: BackoffPolicy;
  private readonly pollMs: number;
  private readonly stopGraceMs: number;
  private closed = false;

  constructor(
    private readonly os: ProcessOs,
    options: SupervisorOptions,
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  }

  async ensure(spec: ProcessSpec): Promise<ProcessStatus> {
    validateProcessSpec(spec);
    this.checkOpen('ensure', spec.id);
    const own = copySpec(spec);
    return this.serial(own.id, () => this.ensureNow(own));
  }

  async stop(id: string): Promise<void> {
    this.checkOpen('stop', id);
    return this.serial(id, () => this.stopNow(id));
  }

  state(id: string): ProcessStatus | undefined {
    const e = this.entries.get(id);
    return e ? this.status(e) : this.leftover(id);
  }

  list(): ProcessStatus[] {
    const known = [...this.entries.values()].map((e) => this.status(e));
    const left = this.os
      .pidfileIds()
      .filter((id) => !this.entries.has(id))
      .map((id) => this.leftover(id))
      .filter((s): s is ProcessStatus => s !== undefined);
    return [...known, ...left].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async close(): Promise<void> {
    this.closed = true;
    // Let what is under way finish (a stop in its grace period, a spawn):
    // afterwards nothing new starts, since every path checks `closed`.
    await Promise.allSettled([...this.queues.values()]);
    for (const e of this.entries.values()) {
      clearTimeout(e.restartTimer);
      clearInterval(e.pollTimer);
      e.restartTimer = undefined;
      e.pollTimer = undefined;
      if (e.pid !== undefined && !e.adopted) this.os.unwatch(e.pid);
    }
  }

  private checkOpen(op: string, id: string): void {
    if (this.closed) throw new DatapathError(op, processObject(id), 'ESHUTDOWN');
  }

  /** Run `fn` after every earlier operation on `id` has settled. */
  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const tail = this.queues.get(id) ?? Promise.resolve();
    const run = tail.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }

  private async ensureNow(spec: ProcessSpec): Promise<ProcessStatus> {
    const current = this.entries.get(spec.id);
    if (current && (current.phase === 'running' || current.phase === 'backoff')) {
      if (sameProgram(current.spec, spec)) {
        await this.applyConfig(current, spec);
        return this.status(current);
      }
      await this.end(current);
    }
    const e = newEntry(spec);
    // Adopting may first end an older process of ours: starting, meanwhile.
    e.phase = 'starting';
    this.entries.set(spec.id, e);
    try {
      if (await this.adopt(e)) {
        await this.applyConfig(e, spec);
      } else {
        await this.launch(e);
      }
    } catch (err: unknown) {
      // e.g. an older process that would not die: the status says so too.
      if (e.phase === 'starting') {
        e.phase = 'failed';
        e.message = errorMessage(err);
      }
      throw err;
    }
    return this.status(e);
  }

  /**
   * Take over the process the pidfile names if it is this spec's program
   * (alive, same command line, same namespace). A process of ours started
   * from an earlier spec is ended; a pid that now belongs to anyone else is
   * left alone. Either way the pidfile goes.
   */
  private async adopt(e: Entry): Promise<boolean> {
    const { id } = e.spec;
    const text = this.os.readPidfile(id);
    if (text === undefined) return false;
    const record = parsePidfile(text);
    const who = record && this.os.probe(record.pid);
    if (record && who) {
      if (this.runs(who, e.spec.argv, e.spec.netns)) {
        e.pid = record.pid;
        e.startTime = who.startTime;
        e.netnsId = who.netns;
        e.adopted = true;
        e.phase = 'running';
        e.upSince = Date.now();
        e.appliedHash = record.configHash;
        this.watchAdopted(e);
        return true;
      }
      if (this.isRecorded(record, who)) await this.terminate(record.pid, id);
    }
    this.os.removePidfile(id);
    return false;
  }

  /** Whether the live process `who` is `argv` running in the namespace at `netns`. */
  private runs(who: ProcessIdentity, argv: readonly string[], netns: string): boolean {
    if (!cmdlineMatches(who.cmdline, argv) || who.netns === undefined) return false;
    return who.netns === this.os.netnsIdentity(netns);
  }

  /**
   * Whether the pidfile's own record (not just its pid) describes `who`:
   * only then is it ours to end. Compared with the namespace it was started
   * in, not the path's namespace now: the path may have been recreated.
   */
  private isRecorded(record: PidfileRecord, who: ProcessIdentity): boolean {
    if (record.argv === undefined || record.netnsId === undefined) return false;
    return cmdlineMatches(who.cmdline, record.argv) && who.netns === record.netnsId;
  }

  /** Start the entry's spec; on failure the entry says 'failed' and the error is thrown. */
  private async launch(e: Entry): Promise<void> {
    e.phase = 'starting';
    e.nextDelayMs = undefined;
    let pid = 0;
    try {
      // The callback reads `pid` when the process ends, by then assigned.
      pid = await this.os.spawn(e.spec, (status) => this.onGone(e, pid, status));
    } catch (err: unknown) {
      e.phase = 'failed';
      e.pid = undefined;
      e.message = errorMessage(err);
      throw err;
    }
    e.pid = pid;
    const who = this.os.probe(pid);
    e.startTime = who?.startTime;
    e.netnsId = who?.netns;
    e.adopted = false;
    e.phase = 'running';
    e.upSince = Date.now();
    e.appliedHash = e.spec.configHash;
    e.message = undefined;
    // Written the moment the pid is known. An agent killed within that one
    // tick leaves a process no pidfile names, which the next run would not
    // find; nothing narrower than that exists without a pidfile written by
    // the program itself.
    try {
      this.writePidfile(e);
    } catch (err: unknown) {
      // Without its pidfile the next agent run would start a second copy:
      // a process we cannot record must not run.
      e.stopping = true;
      try {
        await this.terminate(pid, e.spec.id);
      } finally {
        e.stopping = false;
      }
      e.pid = undefined;
      e.phase = 'failed';
      e.message = errorMessage(err);
      throw err;
    }
  }

  /** Bring a live process to spec.configHash: its reload signal, or a restart when it has none. */
  private async applyConfig(e: Entry, spec: ProcessSpec): Promise<void> {
    e.spec = spec;
    // In backoff the next start runs the new spec anyway.
    if (e.phase !== 'running' || e.pid === undefined || spec.configHash === e.appliedHash) return;
    if (spec.reload) {
      // False: it died just now; the exit path restarts it with this spec.
      if (this.isStillOurs(e) && this.os.signal(e.pid, spec.reload.signal, false)) {
        e.reloads += 1;
        e.appliedHash = spec.configHash;
        this.writePidfile(e);
      }
      return;
    }
    await this.end(e);
    await this.launch(e);
  }

  /** End the entry's process (if any) and cancel its restart: the entry is then stopped. */
  private async end(e: Entry): Promise<void> {
    clearTimeout(e.restartTimer);
    e.restartTimer = undefined;
    clearInterval(e.pollTimer);
    e.pollTimer = undefined;
    const pid = e.pid;
    if (pid !== undefined && this.isStillOurs(e)) {
      e.stopping = true;
      try {
        await this.terminate(pid, e.spec.id);
      } catch (err: unknown) {
        e.message = errorMessage(err);
        if (e.adopted) this.watchAdopted(e);
        throw err;
      } finally {
        e.stopping = false;
      }
    }
    e.pid = undefined;
    e.startTime = undefined;
    e.netnsId = undefined;
    e.phase = 'stopped';
    e.nextDelayMs = undefined;
    e.message = undefined;
  }

  private async stopNow(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (e) {
      await this.end(e);
    } else {
      // Not ensured in this run: a process an earlier run left, if its pidfile proves it ours.
      const text = this.os.readPidfile(id);
      const record = text === undefined ? undefined : parsePidfile(text);
      const who = record && this.os.probe(record.pid);
      if (record && who && this.isRecorded(record, who)) await this.terminate(record.pid, id);
      const stopped = newEntry({ id, netns: record?.netns ?? '', argv: record?.argv ?? [] });
      this.entries.set(id, stopped);
    }
    this.os.removePidfile(id);
  }

  /** SIGTERM to the process group, SIGKILL after the grace period; resolves once the pid is gone. */
  private async terminate(pid: number, id: string): Promise<void> {
    if (!this.os.signal(pid, 'SIGTERM', true)) return;
    if (await this.waitGone(pid, this.stopGraceMs)) return;
    this.os.signal(pid, 'SIGKILL', true);
    if (!(await this.waitGone(pid, KILL_WAIT_MS))) throw new DatapathError('stop', processObject(id), 'ETIMEDOUT');
  }

  private async waitGone(pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.os.probe(pid) === undefined) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, GONE_POLL_MS));
    }
  }

  /** Whether e.pid is still the process we know (not gone, number not reused): only then is it signalled. */
  private isStillOurs(e: Entry): boolean {
    if (e.pid === undefined) return false;
    const who = this.os.probe(e.pid);
    return who !== undefined && (e.startTime === undefined || who.startTime === e.startTime);
  }

  private watchAdopted(e: Entry): void {
    clearInterval(e.pollTimer);
    e.pollTimer = setInterval(() => {
      const pid = e.pid;
      try {
        if (pid !== undefined && !this.isStillOurs(e)) {
          this.onGone(e, pid, { code: null, signal: null }, 'adopted process ended (its exit status went to its parent)');
        }
      } catch (err: unknown) {
        // /proc unreadable for a moment: say so, and look again next time.
        e.message = `cannot check the adopted process: ${errorMessage(err)}`;
      }
    }, this.pollMs);
    // The supervisor's timers never keep the agent alive on their own.
    e.pollTimer.unref();
  }

  /** The process `pid` of `e` ended on its own: schedule its restart. */
  private onGone(e: Entry, pid: number, status: ExitStatus, message?: string): void {
    if (this.closed || e.stopping || e.pid !== pid || this.entries.get(e.spec.id) !== e) return;
    clearInterval(e.pollTimer);
    e.pollTimer = undefined;
    e.pid = undefined;
    e.startTime = undefined;
    e.netnsId = undefined;
    e.lastExit = { code: status.code, signal: status.signal, at: new Date().toISOString() };
    let note = message ?? describeExit(status);
    try {
      this.os.removePidfile(e.spec.id);
    } catch (err: unknown) {
      // The next start overwrites it; a stale pidfile is never adopted (pid checked in /proc).
      note += `; ${errorMessage(err)}`;
    }
    this.scheduleRestart(e, Date.now() - e.upSince, note);
  }

  private scheduleRestart(e: Entry, uptimeMs: number, message: string): void {
    if (uptimeMs >= this.backoff.resetAfterMs) {
      e.attempt = 0;
      e.backoffMs = [];
    }
    const delay = backoffDelay(e.attempt, this.backoff);
    e.attempt += 1;
    e.backoffMs = [...e.backoffMs, delay].slice(-HISTORY);
    e.nextDelayMs = delay;
    e.phase = 'backoff';
    e.message = message;
    e.restartTimer = setTimeout(() => {
      e.restartTimer = undefined;
      void this.serial(e.spec.id, () => this.restartNow(e));
    }, delay);
    e.restartTimer.unref();
  }

  /** Never rejects: a failed start is recorded in the entry and retried after the next delay. */
  private async restartNow(e: Entry): Promise<void> {
    if (this.closed || e.phase !== 'backoff' || this.entries.get(e.spec.id) !== e) return;
    try {
      await this.launch(e);
      e.restarts += 1;
    } catch (err: unknown) {
      // A binary being upgraded or a namespace being recreated may be back soon.
      if (!this.closed) this.scheduleRestart(e, 0, `restart failed: ${errorMessage(err)}`);
    }
  }

  private writePidfile(e: Entry): void {
    if (e.pid === undefined) return;
    const record: PidfileRecord = { pid: e.pid, argv: e.spec.argv, netns: e.spec.netns };
    if (e.netnsId !== undefined) record.netnsId = e.netnsId;
    if (e.appliedHash !== undefined) record.configHash = e.appliedHash;
    this.os.writePidfile(e.spec.id, formatPidfile(record));
  }

  /** A process an earlier run left, proven ours by its pidfile record; undefined otherwise. */
  private leftover(id: string): ProcessStatus | undefined {
    const text = this.os.readPidfile(id);
    const record = text === undefined ? undefined : parsePidfile(text);
    const who = record && this.os.probe(record.pid);
    if (!record || !who || !this.isRecorded(record, who)) return undefined;
    const s: ProcessStatus = { id, pid: record.pid, state: 'running', adopted: false, restarts: 0, reloads: 0, backoffMs: [], message: LEFTOVER_MESSAGE };
    if (record.configHash !== undefined) s.configHash = record.configHash;
    return s;
  }

  private status(e: Entry): ProcessStatus {
    const s: ProcessStatus = {
      id: e.spec.id,
      state: e.phase,
      adopted: e.adopted,
      restarts: e.restarts,
      reloads: e.reloads,
      backoffMs: [...e.backoffMs],
    };
    if (e.pid !== undefined) s.pid = e.pid;
    if (e.lastExit !== undefined) s.lastExit = { ...e.lastExit };
    if (e.message !== undefined) s.message = e.message;
    if (e.nextDelayMs !== undefined) s.nextDelayMs = e.nextDelayMs;
    if (e.appliedHash !== undefined && e.pid !== undefined) s.configHash = e.appliedHash;
    return s;
  }
}
