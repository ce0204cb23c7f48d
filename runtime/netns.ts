// Named network namespaces for `weft run`, created the way iproute2 does it
// (unshare + bind mount under /run/netns) but in-process through libc via
// koffi: no `ip netns` shell-out and no helper process per namespace.
//
// Every namespace switch happens on the JS main thread and is undone before
// the function returns; other threads of the process (libuv pool, V8) never
// leave the original namespace. Only synchronous fs calls are used while
// switched, because asynchronous ones run on pool threads. (libuv opens
// every fd with O_CLOEXEC, so namespace fds do not leak into a child.)
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, constants as fsc } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { WeftError } from '../model/errors.js';

export const NETNS_DIR = '/run/netns';

const CLONE_NEWNET = 0x40000000;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SHARED = 1 << 20;
const MNT_DETACH = 2;
const ENOENT = 2;
const EINVAL = 22;

interface Libc {
  unshare(flags: number): number;
  setns(fd: number, nstype: number): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: null): number;
  umount2(target: string, flags: number): number;
  errno(): number;
}

let libc: Libc | undefined;

/** Load libc lazily: only `weft run` needs it, and only on Linux. */
function getLibc(): Libc {
  if (libc) return libc;
  // koffi is a CommonJS native module; createRequire keeps this file ESM.
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const unshare = lib.func('int unshare(int flags)');
  const setns = lib.func('int setns(int fd, int nstype)');
  const mount = lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)');
  const umount2 = lib.func('int umount2(const char *target, int flags)');
  libc = {
    unshare: (flags) => unshare(flags) as number,
    setns: (fd, nstype) => setns(fd, nstype) as number,
    mount: (source, target, fstype, flags, data) => mount(source, target, fstype, flags, data) as number,
    umount2: (target, flags) => umount2(target, flags) as number,
    errno: () => koffi.errno(),
  };
  return libc;
}

function sysError(op: string, object: string, errno: number): WeftError {
  const name = errnoName(errno);
  const hint = errno === 1 ? ' (run as root: creating network namespaces needs CAP_SYS_ADMIN)' : '';
  return new WeftError(errno === 1 ? 'Unauthorized' : 'Datapath', `${op} ${JSON.stringify(object)}: ${name}${hint}`);
}

function errnoName(errno: number): string {
  const names: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 28: 'ENOSPC', 38: 'ENOSYS' };
  return names[errno] ?? `errno ${errno}`;
}

/** Mount points from /proc/self/mountinfo: target -> whether it propagates as shared. */
function mountPropagation(target: string): 'shared' | 'private' | 'absent' {
  let result: 'shared' | 'private' | 'absent' = 'absent';
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    // fields: id parent major:minor root mountpoint options [optional...] - fstype ...
    if (f[4] !== target) continue;
    const sep = f.indexOf('-');
    const optional = f.slice(6, sep < 0 ? undefined : sep);
    // The last matching line is the mount on top, the one that counts.
    result = optional.some((o) => o.startsWith('shared:')) ? 'shared' : 'private';
  }
  return result;
}

let dirReady = false;

/**
 * Make /run/netns a shared mount point (bind-mount it onto itself first if
 * it is none), so the bind mounts of namespaces made here show up in other
 * mount namespaces (containers, `ip netns`) and vice versa.
 */
function ensureNetnsDir(dir: string): void {
  if (dirReady) return;
  const c = getLibc();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const state = mountPropagation(dir);
  if (state === 'absent' && c.mount(dir, dir, 'none', MS_BIND | MS_REC, null) !== 0) {
    throw sysError('bind-mount', dir, c.errno());
  }
  if (state !== 'shared' && c.mount('none', dir, null, MS_SHARED | MS_REC, null) !== 0) {
    throw sysError('make shared', dir, c.errno());
  }
  dirReady = true;
}

/** Run fn with the calling (main) thread inside the namespace at nsPath; always switch back. */
export function withNetns<T>(nsPath: string, fn: () => T): T {
  const c = getLibc();
  const original = openSync('/proc/thread-self/ns/net', fsc.O_RDONLY);
  let target: number | undefined;
  try {
    target = openSync(nsPath, fsc.O_RDONLY);
    if (c.setns(target, CLONE_NEWNET) !== 0) throw sysError('enter network namespace', nsPath, c.errno());
    return fn();
  } finally {
    restore(c, original);
    if (target !== undefined) closeSync(target);
  }
}

/** Switching back must not fail silently: the whole process would keep running in the wrong namespace. */
function restore(c: Libc, originalFd: number): void {
  const rc = c.setns(originalFd, CLONE_NEWNET);
  const errno = c.errno();
  closeSync(originalFd);
  if (rc !== 0) {
    process.stderr.write(`fatal: cannot return to the original network namespace: ${errnoName(errno)}\n`);
    process.exit(70);
  }
}

/** Create a named namespace at /run/netns/NAME; returns its path. Fails if it exists. */
export function createNetns(name: string, dir = NETNS_DIR): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) throw new WeftError('Invalid', `invalid namespace name ${JSON.stringify(name)}`);
  const c = getLibc();
  ensureNetnsDir(dir);
  const path = join(dir, name);
  try {
    closeSync(openSync(path, fsc.O_RDONLY | fsc.O_CREAT | fsc.O_EXCL, 0o444));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new WeftError('AlreadyExists', `network namespace ${JSON.stringify(name)} exists already`);
    throw new WeftError('Datapath', `create ${path}: ${code ?? String(e)}`, { cause: e });
  }
  const original = openSync('/proc/thread-self/ns/net', fsc.O_RDONLY);
  let failure: WeftError | undefined;
  try {
    if (c.unshare(CLONE_NEWNET) !== 0) {
      failure = sysError('unshare network namespace for', name, c.errno());
    } else if (c.mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, null) !== 0) {
      failure = sysError('bind-mount network namespace onto', path, c.errno());
    }
  } finally {
    restore(c, original);
  }
  if (failure) {
    unlinkQuiet(path);
    throw failure;
  }
  return path;
}

/** Remove a named namespace; tolerates its absence. */
export function deleteNetns(nameOrPath: string, dir = NETNS_DIR): void {
  const path = nameOrPath.includes('/') ? nameOrPath : join(dir, nameOrPath);
  const c = getLibc();
  if (c.umount2(path, MNT_DETACH) !== 0) {
    const errno = c.errno();
    // EINVAL: not a mount point (half-created); ENOENT: gone already.
    if (errno !== EINVAL && errno !== ENOENT) throw sysError('unmount network namespace', path, errno);
  }
  unlinkQuiet(path);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Start argv[0] inside the namespace. libuv forks from the calling thread,
 * so the child inherits the namespace the main thread is in at that moment;
 * the main thread switches back right after. No shell is involved.
 */
export function spawnInNetns(nsPath: string, command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return withNetns(nsPath, () => spawn(command, args, { stdio: 'inherit', ...opts }));
}
