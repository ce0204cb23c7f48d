// The lab's record on disk, DIR/lab.json: everything `Lab.up` made, written
// before each step takes effect, so that `down` — in the same process,
// another one, or after a crash — removes exactly that and nothing else.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../../model/errors.js';

const LAB_STATE_FILE = 'lab.json';
const STATE_VERSION = 1;

/** A process the lab started; startTime (clock ticks since boot) tells it apart from a later process with the same PID. */
export interface ProcessRecord {
  pid: number;
  startTime: string;
  argv: string[];
  log: string;
}

export interface HostRecord {
  name: string;
  /** namespace name under /run/netns */
  netns: string;
  address: string;
  socket: string;
  stateDir: string;
  log: string;
}

export interface LabState {
  version: number;
  prefix: string;
  dir: string;
  labNetns: string;
  controllerUrl: string;
  /** unix socket relaying HTTP to the controller inside the lab namespace */
  apiSocket: string;
  hosts: HostRecord[];
  /** every namespace the lab made, workloads included, in creation order */
  namespaces: string[];
  /** keyed "controller", "relay", "agent:h1", ... */
  processes: Record<string, ProcessRecord>;
}

export function newLabState(fields: Omit<LabState, 'version' | 'hosts' | 'namespaces' | 'processes'>): LabState {
  return { version: STATE_VERSION, hosts: [], namespaces: [], processes: {}, ...fields };
}

function labStatePath(dir: string): string {
  return join(dir, LAB_STATE_FILE);
}

/** The recorded lab, or undefined when the directory holds none. */
export function readLabState(dir: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(labStatePath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let state: LabState;
  try {
    state = JSON.parse(text) as LabState;
  } catch (e) {
    throw new WeftError('Invalid', `${labStatePath(dir)} is not valid JSON: remove the lab with weft lab down --prefix PREFIX`, { cause: e });
  }
  if (state.version !== STATE_VERSION || typeof state.prefix !== 'string' || !Array.isArray(state.namespaces)) {
    throw new WeftError('Invalid', `${labStatePath(dir)} is not a lab state file this weft understands (version ${String(state.version)})`);
  }
  return state;
}

/** Write via rename so a crash mid-write never leaves a half file that down cannot read. */
export function writeLabState(state: LabState): void {
  const path = labStatePath(state.dir);
  const temp = `${path}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}
