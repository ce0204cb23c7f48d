// The agent's port for long-running programs inside a VNF's network
// namespace (HAProxy, keepalived, dnsmasq). Implementations:
// LinuxProcessSupervisor (process/linux-supervisor.ts, real processes) and
// FakeProcessSupervisor (fake-process-supervisor.ts, in memory); the suite in
// test/contract/process-supervisor-contract.ts runs against both.
//
// Processes outlive the agent. A restarted agent adopts what its previous run
// started (pidfile, then /proc: alive, same command line, same namespace)
// instead of starting a second copy, and stops what it no longer wants.

/** What to run, and where. */
export interface ProcessSpec {
  /** Stable key, e.g. "lb1/haproxy"; names the pidfile. */
  id: string;
  /** Path of the network namespace to run in, e.g. /run/netns/x. */
  netns: string;
  /** argv[0] is an absolute path; executed directly, never through a shell. */
  argv: string[];
  /** The whole environment besides a default PATH; the agent's own is not passed on. */
  env?: Record<string, string>;
  /** How the program rereads its configuration; without it a config change restarts it. */
  reload?: { signal: NodeJS.Signals };
  /** Identifies the configuration the program should run with: a change means reload. */
  configHash?: string;
}

/**
 * running: the process is up. starting: being spawned. backoff: it died and
 * is restarted after `nextDelayMs`. stopped: stop() ended it. failed: it
 * could not be started at all (no executable, no namespace): not retried
 * until the next ensure().
 */
export type ProcessPhase = 'running' | 'starting' | 'backoff' | 'stopped' | 'failed';

export interface ProcessExit {
  /** Both null when the process was adopted: it is not our child, its status is not ours to read. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ISO time the supervisor noticed the exit. */
  at: string;
}

export interface ProcessStatus {
  id: string;
  /** The live process; absent unless running (or left running by an earlier run). */
  pid?: number;
  state: ProcessPhase;
  /** True when `pid` was found running (left by an earlier run) rather than started by this supervisor. */
  adopted: boolean;
  /** Restarts after the process died. */
  restarts: number;
  /** Reload signals sent. */
  reloads: number;
  lastExit?: ProcessExit;
  message?: string;
  /** In backoff: how long the supervisor waits before the next start. */
  nextDelayMs?: number;
  /** The delays waited before the recent restarts, oldest first; cleared once a process stayed up long enough. */
  backoffMs: number[];
  /** The configHash the running process was started or last reloaded with. */
  configHash?: string;
}

export interface ProcessSupervisor {
  /**
   * Make the process run: adopt it when an earlier run left it running,
   * else start it; reload it (or restart it, without a reload signal) when
   * configHash changed; replace it when argv, env or netns changed. Never
   * runs two copies of an id. Rejects with a DatapathError when it cannot
   * be started (the status then says 'failed').
   */
  ensure(spec: ProcessSpec): Promise<ProcessStatus>;
  /**
   * End the process (SIGTERM to its process group, SIGKILL after a grace
   * period) and remove its pidfile. Tolerates absence; also ends a process
   * an earlier run left (known from its pidfile) that was never ensured.
   */
  stop(id: string): Promise<void>;
  /** Status of one id, or undefined if this supervisor knows nothing of it. */
  state(id: string): ProcessStatus | undefined;
  /**
   * Every id this supervisor was asked about (stopped ones included), plus
   * processes an earlier run left running that nobody ensured or stopped
   * yet (state running, adopted false, not supervised): the caller sweeps
   * those it no longer wants with stop().
   */
  list(): ProcessStatus[];
  /** Stop watching and restarting. Kills nothing: the processes outlive the agent. */
  close(): Promise<void>;
}

export const PROCESS_SUPERVISOR = Symbol.for('weft.ProcessSupervisor');
