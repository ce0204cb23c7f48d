// /proc/PID/stat, the few fields weft needs (the VNF process supervisor, the
// agent's pidfile): whether the process is still alive (a zombie is not) and
// its start time, which together with the pid names one process for good (a
// reused pid has another start time).
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z (zombie), X (dead), ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 22, clock ticks after boot, kept as text: only compared. */
  startTime: string;
}

/** The fields of one /proc/PID/stat line, or undefined if it is not one. */
export function parseProcStat(text: string): ProcStat | undefined {
  // Field 2 is the command name in parentheses and may itself contain
  // spaces and parentheses: the fields after it start at the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).trim().split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || !/^[A-Za-z]$/.test(state) || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  if (!Number.isInteger(ppid) || !Number.isInteger(pgrp)) return undefined;
  return { state, ppid, pgrp, startTime };
}

/** Whether a process in this state can still run: zombies (Z) and dead tasks (X) cannot. */
export function isLiveState(state: string): boolean {
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

/** /proc/PID/stat of a live process (not a zombie), or undefined when there is none. */
export function readLiveProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const stat = parseProcStat(text);
  return stat && isLiveState(stat.state) ? stat : undefined;
}
