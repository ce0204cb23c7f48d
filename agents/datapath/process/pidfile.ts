// The pidfile of one supervised process: the pid on the first line (so
// `kill $(head -n1 FILE)` works), then one JSON line saying what the pid was
// started as. That record lets a restarted agent recognise a process its
// previous run started even after the wanted spec changed, and stop it
// rather than leave it running beside the new one.
//
// A file holding just a pid is read too; it cannot prove whose process that
// is, so such a pid is only adopted when it matches the spec asked for, and
// never killed on the strength of the file alone.
import { join } from 'node:path';

export interface PidfileRecord {
  pid: number;
  /** What the pid was started as; absent in a bare pidfile. */
  argv?: string[];
  /** Path of its namespace when it was started. */
  netns?: string;
  /** Identity of that namespace then (the path may name a new one by now). */
  netnsId?: string;
  configHash?: string;
}

const PIDFILE_SUFFIX = '.pid';
// Linux pid_max is at most 2^22.
const PID_MAX = 4_194_304;

/** File name for a process id: ids may contain '/', so they are percent-encoded (reversibly). */
export function pidfileName(id: string): string {
  return `${encodeURIComponent(id)}${PIDFILE_SUFFIX}`;
}

export function pidfilePath(stateDir: string, id: string): string {
  return join(stateDir, pidfileName(id));
}

/** The process id a pidfile name belongs to, or undefined for any other file. */
export function idOfPidfile(fileName: string): string | undefined {
  if (!fileName.endsWith(PIDFILE_SUFFIX) || fileName.length === PIDFILE_SUFFIX.length) return undefined;
  try {
    const id = decodeURIComponent(fileName.slice(0, -PIDFILE_SUFFIX.length));
    // Only names this module writes: anything else is not ours to act on.
    return pidfileName(id) === fileName ? id : undefined;
  } catch {
    return undefined;
  }
}

export function formatPidfile(record: PidfileRecord): string {
  const { pid, ...meta } = record;
  return `${pid}\n${JSON.stringify(meta)}\n`;
}

/** The record in a pidfile's text, or undefined when there is no valid pid in it. */
export function parsePidfile(text: string): PidfileRecord | undefined {
  const [first, second] = text.split('\n');
  const pidText = first?.trim() ?? '';
  if (!/^[1-9]\d{0,6}$/.test(pidText)) return undefined;
  const pid = Number(pidText);
  if (pid > PID_MAX) return undefined;
  const record: PidfileRecord = { pid };
  const meta = parseMeta(second);
  if (meta === undefined) return record;
  const { argv, netns, netnsId, configHash } = meta;
  if (Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string')) record.argv = argv as string[];
  if (typeof netns === 'string') record.netns = netns;
  if (typeof netnsId === 'string') record.netnsId = netnsId;
  if (typeof configHash === 'string') record.configHash = configHash;
  return record;
}

/** The JSON object on the second line; a damaged line leaves a bare pid, which is still usable. */
function parseMeta(line: string | undefined): Record<string, unknown> | undefined {
  if (line === undefined || line.trim() === '') return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
