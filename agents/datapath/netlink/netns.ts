// Network namespaces without child processes: libc's setns/unshare/mount
// through koffi, on the calling (JS main) thread.
//
// Namespaces are per thread. Node runs JS on one thread, so switching it is
// safe as long as the switched section is synchronous: nothing else runs on
// this thread until we switch back. Anything created meanwhile that binds a
// namespace at creation (a netlink socket, a raw socket) keeps that namespace
// afterwards. libuv's worker threads are never switched.
//
// The namespace this thread started in is kept open as an fd for the whole
// process, so switching back never depends on a path still resolving.
import { closeSync, mkdirSync, openSync, readdirSync, unlinkSync, constants as fsConstants } from 'node:fs';
import koffi from 'koffi';
import { DatapathError, errnoName, fromErrno, fromNetlink } from '../errors.js';

export const NETNS_RUN_DIR = '/run/netns';

// linux/sched.h, linux/mount.h
const CLONE_NEWNET = 0x40000000;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SHARED = 1 << 20;
const MNT_DETACH = 0x2;

interface Libc {
  setns(fd: number, nstype: number): number;
  unshare(flags: number): number;
  mount(source: string, target: string, fstype: string, flags: number, data: null): number;
  umount2(target: string, flags: number): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  const setns = lib.func('int setns(int fd, int nstype)');
  const unshare = lib.func('int unshare(int flags)');
  const mount = lib.func(
    'int mount(const char *source, const char *target, const char *filesystemtype, unsigned long mountflags, const void *data)',
  );
  const umount2 = lib.func('int umount2(const char *target, int flags)');
  libc = {
    setns: (fd, nstype) => setns(fd, nstype) as number,
    unshare: (flags) => unshare(flags) as number,
    mount: (source, target, fstype, flags, data) => mount(source, target, fstype, flags, data) as number,
    umount2: (target, flags) => umount2(target, flags) as number,
  };
  return libc;
}

let originFd: number | undefined;
let switched = false;
/** Set when switching back failed: this thread's namespace is unknown, refuse all further work. */
let poisoned: DatapathError | undefined;

/** fd of the namespace the JS thread was in when weft first switched. */
function origin(): number {
  if (originFd === undefined) {
    // thread-self, not self: the namespace of *this* thread is what we restore.
    originFd = openSync('/proc/thread-self/ns/net', fsConstants.O_RDONLY);
  }
  return originFd;
}

function checkUsable(): void {
  if (poisoned) throw poisoned;
  if (switched) {
    // Nested switches cannot restore the outer namespace; they are a bug.
    throw new DatapathError('switch', 'netns (already switched)', 'EBUSY');
  }
}

function setnsOrThrow(fd: number, what: string): void {
  const lib = loadLibc();
  if (lib.setns(fd, CLONE_NEWNET) !== 0) throw fromErrno('enter', what, koffi.errno());
}

function restore(): void {
  const lib = loadLibc();
  if (lib.setns(origin(), CLONE_NEWNET) !== 0) {
    poisoned = fromErrno('restore', 'original netns', koffi.errno());
    throw poisoned;
  }
}

/** Open a namespace file (/run/netns/x, /proc/PID/ns/net) read-only (libuv adds O_CLOEXEC). */
export function openNetns(path: string): number {
  try {
    return openSync(path, fsConstants.O_RDONLY);
  } catch (err: unknown) {
    throw fromNetlink('open', `netns "${path}"`, err);
  }
}

/**
 * Run `fn` with this thread inside the namespace open as `fd`, then switch
 * back (also when fn throws). fn must be synchronous.
 */
export function withNetnsFd<T>(fd: number, fn: () => T, what = `netns fd ${fd}`): T {
  checkUsable();
  origin();
  setnsOrThrow(fd, what);
  switched = true;
  let result: T;
  try {
    result = fn();
  } finally {
    switched = false;
    restore();
  }
  // Duck-typed: a promise from another realm (jest's VM) fails instanceof.
  if (typeof (result as { then?: unknown } | null | undefined)?.then === 'function') {
    // The awaited part would run in whatever namespace the thread is in then.
    throw new DatapathError('switch', what, 'EINVAL', { cause: new Error('withNetns callback must be synchronous') });
  }
  return result;
}

/** Run `fn` inside the namespace at `path` (fails with isNotFound if absent). */
export function withNetns<T>(path: string, fn: () => T): T {
  const fd = openNetns(path);
  try {
    return withNetnsFd(fd, fn, `netns "${path}"`);
  } finally {
    closeSync(fd);
  }
}

export function namedNetnsPath(name: string): string {
  return `${NETNS_RUN_DIR}/${name}`;
}

function checkName(name: string): void {
  // A name is one path component under /run/netns.
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || Buffer.byteLength(name) > 255) {
    throw new DatapathError('create', `netns ${JSON.stringify(name)}`, 'EINVAL');
  }
}

let runDirShared = false;

/**
 * Make /run/netns a shared mount point (bind-mounted onto itself if it is
 * not a mount point yet), as iproute2 does, so namespace bind mounts made
 * here propagate to other mount namespaces (and theirs to us).
 */
function ensureRunDir(): void {
  if (runDirShared) return;
  const lib = loadLibc();
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 });
  if (lib.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null) !== 0) {
    const errno = koffi.errno();
    // EINVAL: not a mount point yet. Make it one, then retry once.
    if (errnoIs(errno, 'EINVAL')) {
      if (lib.mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC, null) !== 0) {
        throw fromErrno('bind-mount', `"${NETNS_RUN_DIR}"`, koffi.errno());
      }
      if (lib.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null) !== 0) {
        throw fromErrno('make shared', `"${NETNS_RUN_DIR}"`, koffi.errno());
      }
    } else {
      throw fromErrno('make shared', `"${NETNS_RUN_DIR}"`, errno);
    }
  }
  runDirShared = true;
}

function errnoIs(errno: number, name: string): boolean {
  return errnoName(errno) === name;
}

/**
 * Create /run/netns/NAME holding a fresh network namespace and return its
 * path. Fails with isAlreadyExists if the name is taken.
 */
export function createNamedNetns(name: string): string {
  checkName(name);
  checkUsable();
  const object = `netns "${name}"`;
  const path = namedNetnsPath(name);
  const lib = loadLibc();
  try {
    ensureRunDir();
  } catch (err: unknown) {
    throw fromNetlink('create', object, err);
  }
  // The mount point: an empty file; O_EXCL makes a taken name EEXIST.
  try {
    closeSync(openSync(path, fsConstants.O_RDONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o444));
  } catch (err: unknown) {
    throw fromNetlink('create', object, err);
  }
  let failure: DatapathError | undefined;
  origin();
  switched = true;
  try {
    if (lib.unshare(CLONE_NEWNET) !== 0) {
      failure = fromErrno('create', object, koffi.errno());
    } else if (lib.mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, null) !== 0) {
      failure = fromErrno('create', object, koffi.errno());
    }
  } finally {
    switched = false;
    // Also after a failed unshare: harmless, and it proves where we are.
    restore();
  }
  if (failure) {
    tryUnlink(path);
    throw failure;
  }
  return path;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // best effort on an error path; the caller reports the original error
  }
}

/** Unmount and remove /run/netns/NAME; tolerates absence. */
export function deleteNamedNetns(name: string): void {
  checkName(name);
  const object = `netns "${name}"`;
  const path = namedNetnsPath(name);
  const lib = loadLibc();
  if (lib.umount2(path, MNT_DETACH) !== 0) {
    const errno = koffi.errno();
    // ENOENT: no such file; EINVAL: a file that is not mounted (half-made).
    if (!errnoIs(errno, 'ENOENT') && !errnoIs(errno, 'EINVAL')) throw fromErrno('delete', object, errno);
  }
  try {
    unlinkSync(path);
  } catch (err: unknown) {
    const e = fromNetlink('delete', object, err);
    if (!e.isNotFound) throw e;
  }
}

/** Names (not paths) under /run/netns. */
export function listNamedNetns(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR).sort();
  } catch (err: unknown) {
    const e = fromNetlink('list', `"${NETNS_RUN_DIR}"`, err);
    if (e.isNotFound) return [];
    throw e;
  }
}
