// STATE_DIR/agent.pid: which process runs the agent of this state
// directory, so that `weft reset` (or anything else) can tell a running
// agent from one that is gone, even before it serves its socket. Two lines:
// the pid, and its start time from /proc/PID/stat, so that a pid reused by
// another process after a crash is not taken for the agent.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLiveProcStat } from '../../sys/proc-stat.js';

export const AGENT_PIDFILE = 'agent.pid';

/** Record this process as the agent of `stateDir` (which exists). */
export function writeAgentPidfile(stateDir: string, pid = process.pid): void {
  const startTime = readLiveProcStat(pid)?.startTime ?? '';
  const path = join(stateDir, AGENT_PIDFILE);
  writeFileSync(`${path}.tmp`, `${pid}\n${startTime}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Remove the record, if it is still this process's. */
export function removeAgentPidfile(stateDir: string, pid = process.pid): void {
  if (readAgentPidfile(stateDir)?.pid === pid) rmSync(join(stateDir, AGENT_PIDFILE), { force: true });
}

function readAgentPidfile(stateDir: string): { pid: number; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(join(stateDir, AGENT_PIDFILE), 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, startTime = ''] = text.split('\n');
  const pid = Number(pidText);
  return Number.isInteger(pid) && pid > 0 ? { pid, startTime } : undefined;
}

/** The pid of the agent running on `stateDir`, if its pidfile names a live process started when it says. */
export function runningAgentPid(stateDir: string): number | undefined {
  const rec = readAgentPidfile(stateDir);
  if (!rec) return undefined;
  const stat = readLiveProcStat(rec.pid);
  return stat && (rec.startTime === '' || stat.startTime === rec.startTime) ? rec.pid : undefined;
}
