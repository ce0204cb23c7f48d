// CPU time used by groups of processes over a stretch of a benchmark, read
// from /proc/<pid>/stat (utime + stime, in clock ticks). A benchmark that
// compares "with X" against "without X" prints where the CPU went, so a
// difference can be laid at the right door (the controller, the agent, a
// browser sharing the same CPUs).
import { procStatFields, processArgv } from '../lab/index.js';

/** Linux's USER_HZ, the unit of utime/stime: 100 on every architecture Linux supports today. */
const TICKS_PER_SECOND = 100;

/** A process's group name from its command line, or undefined to leave it out. */
export type ProcessClassifier = (cmdline: string[]) => string | undefined;

/** group -> CPU ms so far of the processes seen in it. */
export type CpuSample = Map<string, number>;

interface ProcessTimes {
  group: string;
  /** utime + stime, ms */
  ms: number;
}

function readProcess(pid: number, classify: ProcessClassifier): ProcessTimes | undefined {
  const group = classify(processArgv(pid));
  if (group === undefined) return undefined;
  const fields = procStatFields(pid);
  if (!fields) return undefined; // exited meanwhile
  // utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { group, ms: (ticks * 1000) / TICKS_PER_SECOND };
}

/**
 * Follows the CPU time of the processes `pids()` lists, by group. Processes
 * come and go (a browser's renderers): each is charged from when it was first
 * seen (or from zero, if it started after `start`) until it was last seen.
 */
export class ProcessCpu {
  private readonly first = new Map<number, ProcessTimes>();
  private readonly last = new Map<number, ProcessTimes>();
  private started = false;

  constructor(
    private readonly pids: () => number[],
    private readonly classify: ProcessClassifier,
  ) {}

  /** Begin a stretch: processes alive now are charged only for what they use from here. */
  start(): void {
    this.first.clear();
    this.last.clear();
    for (const pid of this.pids()) {
      const t = readProcess(pid, this.classify);
      if (t) this.first.set(pid, t);
    }
    this.started = true;
  }

  /** Look again (call before a process may exit, e.g. before closing a browser page). */
  poll(): void {
    if (!this.started) throw new Error('ProcessCpu.poll before start');
    for (const pid of this.pids()) {
      const t = readProcess(pid, this.classify);
      if (t) this.last.set(pid, t);
    }
  }

  /** CPU ms per group since start, as of the last poll. */
  used(): CpuSample {
    const out: CpuSample = new Map();
    for (const [pid, t] of this.last) {
      const from = this.first.get(pid)?.ms ?? 0;
      out.set(t.group, (out.get(t.group) ?? 0) + Math.max(0, t.ms - from));
    }
    return out;
  }
}
