// What the supervisor needs from the operating system, and nothing more:
// start a program in a namespace, tell who a pid is, signal it, and keep
// pidfiles. Supervisor (supervisor.ts) holds all the decisions; LinuxProcessOs
// does this with real processes, the fake with in-memory ones, so both run
// the same state machine and the contract suite checks the OS layer under it.
import type { ProcessSpec } from '../process-supervisor.js';

/** Who a live process is: enough to recognise our own program after an agent restart. */
export interface ProcessIdentity {
  cmdline: string[];
  /** Identity of its network namespace, comparable with netnsIdentity() of a path. */
  netns: string | undefined;
  /** With the pid, names one process for good: a reused pid has another start time. */
  startTime: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessOs {
  /**
   * Start `spec` detached (its own process group, not tied to the agent's
   * life) inside spec.netns; resolves with its pid once it runs, rejects
   * with a DatapathError when it cannot start. `onExit` is called once when
   * the process ends, never before the returned promise's continuations ran,
   * and not at all after unwatch(pid).
   */
  spawn(spec: ProcessSpec, onExit: (status: ExitStatus) => void): Promise<number>;
  /** Stop reporting the exit of `pid`; the process keeps running. */
  unwatch(pid: number): void;
  /** Who `pid` is, or undefined when there is no such live process (a zombie counts as gone). */
  probe(pid: number): ProcessIdentity | undefined;
  /** Identity of the namespace file at `path`, undefined when there is none. */
  netnsIdentity(path: string): string | undefined;
  /**
   * Send `signal` to `pid`, or to its whole process group (helpers it forked
   * included) when `group`; false when there is no such process.
   */
  signal(pid: number, signal: NodeJS.Signals, group: boolean): boolean;
  readPidfile(id: string): string | undefined;
  /** Replace the pidfile atomically: a reader sees the old or the new one, never half. */
  writePidfile(id: string, text: string): void;
  /** Tolerates absence. */
  removePidfile(id: string): void;
  /** The ids that have a pidfile. */
  pidfileIds(): string[];
}
