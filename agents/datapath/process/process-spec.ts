// Checks on a ProcessSpec before anything runs, and the one comparison the
// supervisor makes between two specs of an id: is it still the same program?
import { constants as osConstants } from 'node:os';
import { DatapathError } from '../errors.js';
import type { ProcessSpec } from '../process-supervisor.js';
import { pidfileName } from './pidfile.js';

// Room under NAME_MAX (255) for the suffixes the supervisor adds (.pid,
// .log, .tmp-PID).
const MAX_FILE_NAME = 200;

/** How errors name a supervised process. */
export function processObject(id: string): string {
  return `process ${JSON.stringify(id)}`;
}

function refuse(spec: { id?: unknown }, why: string): DatapathError {
  const id = typeof spec.id === 'string' ? spec.id : String(spec.id);
  return new DatapathError('ensure', processObject(id), 'EINVAL', { cause: new RangeError(why) });
}

const hasNul = (s: string): boolean => s.includes('\0');

/** Throws DatapathError EINVAL (the reason in `cause`) unless `spec` can be run as given. */
export function validateProcessSpec(spec: ProcessSpec): void {
  const { id, netns, argv, env, reload, configHash } = spec;
  if (typeof id !== 'string' || id === '' || hasNul(id)) throw refuse(spec, 'id must be a non-empty string');
  if (Buffer.byteLength(pidfileName(id)) > MAX_FILE_NAME) throw refuse(spec, 'id is too long for a file name');
  if (typeof netns !== 'string' || !netns.startsWith('/') || hasNul(netns)) throw refuse(spec, 'netns must be an absolute path');
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' && !hasNul(a))) {
    throw refuse(spec, 'argv must be a non-empty list of strings without NUL');
  }
  // Never a shell, never a PATH lookup: the program is exactly this file.
  if (!argv[0]?.startsWith('/')) throw refuse(spec, 'argv[0] must be an absolute path');
  if (env !== undefined) {
    for (const [k, v] of Object.entries(env)) {
      if (k === '' || k.includes('=') || hasNul(k) || typeof v !== 'string' || hasNul(v)) {
        throw refuse(spec, `env ${JSON.stringify(k)} is not a valid variable`);
      }
    }
  }
  if (reload !== undefined && !(reload.signal in osConstants.signals)) throw refuse(spec, `unknown reload signal ${String(reload.signal)}`);
  if (configHash !== undefined && typeof configHash !== 'string') throw refuse(spec, 'configHash must be a string');
}

function sameEnv(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {});
  const eb = b ?? {};
  return ea.length === Object.keys(eb).length && ea.every(([k, v]) => eb[k] === v);
}

/**
 * Whether `b` runs the same program as `a`: same argv, environment and
 * namespace. When not, the process is replaced; configHash and the reload
 * signal may differ (a reload covers those).
 */
export function sameProgram(a: ProcessSpec, b: ProcessSpec): boolean {
  return a.netns === b.netns && a.argv.length === b.argv.length && a.argv.every((x, i) => x === b.argv[i]) && sameEnv(a.env, b.env);
}
