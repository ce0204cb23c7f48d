// Thin bindings to the Linux system calls weft needs, shared by agents/ and
// runtime/; imports model/ only. Here: network namespaces without child
// processes, through libc's setns/unshare/mount/umount2 (koffi), on the
// calling (JS main) thread, named the way iproute2 names them (a bind mount
// at /run/netns/NAME).
//
// Namespaces are per thread. Node runs JS on one thread, so switching it is
// safe as long as the switched section is synchronous: nothing else runs on
// this thread until we switch back. Anything created meanwhile that binds a
// namespace at creation (a netlink socket, a raw socket, a child process:
// libuv forks from the calling thread) keeps that namespace afterwards.
// libuv's worker threads are never switched, so only synchronous fs calls
// belong in a switched section. (libuv opens every fd with O_CLOEXEC, so
// namespace fds do not leak into a child.)
//
// The namespace this thread started in is kept open as an fd for the whole
// process, so switching back never depends on a path still resolving. If
// switching back fails anyway, this thread's namespace is unknown: every
// later switch fails with that error rather than run in the wrong place.
//
// Failures are SysError: a WeftError whose code follows the errno (EPERM
// Unauthorized, EEXIST AlreadyExists, ENOENT NotFound, else Datapath) and
// which keeps op, object and the symbolic errno for callers that branch on
// them (the agent turns them into DatapathError).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, constants as fsConstants, type BigIntStats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { NOT_A_NAMESPACE_HINT } from '../model/agent-rpc.js';
import { NETNS_RUN_DIR } from '../model/kernel-names.js';
import { CLONE_NEWNET, errnoName, errnoOf, loadLibc, SysError } from './libc.js';

export { SysError } from './libc.js';

// linux/nsfs.h: _IO(0xb7, 0x3)
const NS_GET_NSTYPE = 0xb703;
// linux/mount.h
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MS_SHARED = 1 << 20;
const MNT_DETACH = 0x2;

let originFd: number | undefined;
let switched = false;
/** Set when switching back failed: this thread's namespace is unknown, refuse all further switches. */
let poisoned: SysError | undefined;

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
    throw new SysError('switch', 'netns (already switched)', 'EBUSY');
  }
}

function enter(fd: number, what: string): void {
  const lib = loadLibc();
  if (lib.setns(fd, CLONE_NEWNET) !== 0) throw new SysError('enter', what, errnoName(lib.errno()));
}

function restore(): void {
  const lib = loadLibc();
  if (lib.setns(origin(), CLONE_NEWNET) !== 0) {
    poisoned = new SysError('restore', 'original netns', errnoName(lib.errno()));
    throw poisoned;
  }
}

/**
 * Throws SysError EINVAL (code Invalid) unless fd is a network namespace.
 * The usual way to get anything else: a file under /run/netns whose
 * namespace was bind-mounted in another mount namespace, where only that
 * one sees it (here it is the empty mount point).
 */
export function assertNetnsFd(fd: number, what: string, notNamespaceHint = NOT_A_NAMESPACE_HINT): void {
  const lib = loadLibc();
  const type = lib.ioctl(fd, NS_GET_NSTYPE);
  if (type === CLONE_NEWNET) return;
  const notNamespace = type < 0 && errnoName(lib.errno()) === 'ENOTTY';
  const hint = notNamespace ? notNamespaceHint : 'a namespace of another type, not a network namespace';
  throw new SysError('open', what, 'EINVAL', { code: 'Invalid', hint });
}

/**
 * Open a network namespace file (/run/netns/x, /proc/PID/ns/net)
 * read-only (libuv adds O_CLOEXEC); a file that is no network namespace
 * fails here, with what to do about it, not later at setns.
 */
export function openNetns(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY);
  } catch (err: unknown) {
    throw new SysError('open', `netns "${path}"`, errnoOf(err), { cause: err });
  }
  try {
    assertNetnsFd(fd, `netns "${path}"`);
  } catch (err: unknown) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

const identityOf = (st: BigIntStats): string => `${st.dev}:${st.ino}`;

/**
 * The identity of the namespace at `path` (/run/netns/x, /proc/PID/ns/net):
 * its nsfs device and inode, which stat reaches through a bind mount and a
 * /proc link alike. A path that now names another namespace (a name reused,
 * a pid reused), or a mount point left without its mount, gives another
 * identity. Undefined when there is no such file.
 */
export function netnsIdentity(path: string): string | undefined {
  try {
    return identityOf(statSync(path, { bigint: true }));
  } catch (err: unknown) {
    const errno = errnoOf(err);
    if (errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'ESRCH') return undefined;
    throw new SysError('stat', `netns "${path}"`, errno, { cause: err });
  }
}

/** The identity (see netnsIdentity) of the namespace open as `fd`. */
export function netnsIdentityOfFd(fd: number, what = `netns fd ${fd}`): string {
  try {
    return identityOf(fstatSync(fd, { bigint: true }));
  } catch (err: unknown) {
    throw new SysError('stat', what, errnoOf(err), { cause: err });
  }
}

/**
 * Run `fn` with this thread inside the namespace open as `fd`, then switch
 * back (also when fn throws). fn must be synchronous.
 */
export function withNetnsFd<T>(fd: number, fn: () => T, what = `netns fd ${fd}`): T {
  checkUsable();
  origin();
  enter(fd, what);
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
    throw new SysError('switch', what, 'EINVAL', { cause: new Error('withNetns callback must be synchronous') });
  }
  return result;
}

/** Run `fn` inside the namespace at `path` (NotFound, errno ENOENT, if absent). fn must be synchronous. */
export function withNetns<T>(path: string, fn: () => T): T {
  const fd = openNetns(path);
  try {
    return withNetnsFd(fd, fn, `netns "${path}"`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Start `command` inside the namespace at `nsPath`, without a shell. libuv
 * forks from the calling thread, so the child starts in the namespace the
 * thread is in at that moment; the thread switches back right after.
 */
export function spawnInNetns(nsPath: string, command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return withNetns(nsPath, () => spawn(command, args, { stdio: 'inherit', ...opts }));
}

/** The path of a named namespace; a name is one path component under NETNS_RUN_DIR. */
function namedPath(op: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || Buffer.byteLength(name) > 255) {
    throw new SysError(op, `netns ${JSON.stringify(name)}`, 'EINVAL', { code: 'Invalid' });
  }
  return `${NETNS_RUN_DIR}/${name}`;
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
    const errno = errnoName(lib.errno());
    // EINVAL: not a mount point yet. Make it one, then retry once.
    if (errno !== 'EINVAL') throw new SysError('make shared', `"${NETNS_RUN_DIR}"`, errno);
    if (lib.mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC, null) !== 0) {
      throw new SysError('bind-mount', `"${NETNS_RUN_DIR}"`, errnoName(lib.errno()));
    }
    if (lib.mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null) !== 0) {
      throw new SysError('make shared', `"${NETNS_RUN_DIR}"`, errnoName(lib.errno()));
    }
  }
  runDirShared = true;
}

/**
 * Create /run/netns/NAME holding a fresh network namespace and return its
 * path. Fails with AlreadyExists (errno EEXIST) if the name is taken.
 */
export function createNetns(name: string): string {
  const path = namedPath('create', name);
  checkUsable();
  const object = `netns "${name}"`;
  const lib = loadLibc();
  try {
    ensureRunDir();
    // The mount point: an empty file; O_EXCL makes a taken name EEXIST.
    closeSync(openSync(path, fsConstants.O_RDONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o444));
  } catch (err: unknown) {
    throw new SysError('create', object, errnoOf(err), { cause: err });
  }
  let failure: SysError | undefined;
  origin();
  switched = true;
  try {
    if (lib.unshare(CLONE_NEWNET) !== 0) {
      failure = new SysError('create', object, errnoName(lib.errno()));
    } else if (lib.mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, null) !== 0) {
      failure = new SysError('create', object, errnoName(lib.errno()));
    }
  } finally {
    switched = false;
    // Also after a failed unshare: harmless, and it proves where we are.
    restore();
  }
  if (failure) {
    try {
      unlinkSync(path);
    } catch {
      // best effort on an error path; the caller gets the original error
    }
    throw failure;
  }
  return path;
}

/**
 * Unmount and remove a named namespace, given by its name or by the path
 * createNetns returned (a path elsewhere than NETNS_RUN_DIR is refused);
 * tolerates absence.
 */
export function deleteNetns(nameOrPath: string): void {
  const name = nameOrPath.startsWith('/') && dirname(nameOrPath) === NETNS_RUN_DIR ? basename(nameOrPath) : nameOrPath;
  const path = namedPath('delete', name);
  const object = `netns "${name}"`;
  const lib = loadLibc();
  if (lib.umount2(path, MNT_DETACH) !== 0) {
    const errno = errnoName(lib.errno());
    // ENOENT: no such file; EINVAL: a file that is not mounted (half-made).
    if (errno !== 'ENOENT' && errno !== 'EINVAL') throw new SysError('delete', object, errno);
  }
  try {
    unlinkSync(path);
  } catch (err: unknown) {
    if (errnoOf(err) !== 'ENOENT') throw new SysError('delete', object, errnoOf(err), { cause: err });
  }
}

/** Names (not paths) under /run/netns, sorted. */
export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR).sort();
  } catch (err: unknown) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw new SysError('list', `"${NETNS_RUN_DIR}"`, errnoOf(err), { cause: err });
  }
}
