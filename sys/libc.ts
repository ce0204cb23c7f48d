// libc through koffi, loaded on first use (commands that make no system
// call of their own never load the native module), and the error type of
// every sys/ binding.
//
// Failures are SysError: a WeftError whose code follows the errno (EPERM
// Unauthorized, EEXIST AlreadyExists, ENOENT NotFound, else Datapath) and
// which keeps op, object and the symbolic errno for callers that branch on
// them (the agent turns them into DatapathError).
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { WeftError, type ErrorCode } from '../model/errors.js';

/** linux/sched.h */
export const CLONE_NEWNET = 0x40000000;

const CODES: Readonly<Record<string, ErrorCode>> = { EPERM: 'Unauthorized', EEXIST: 'AlreadyExists', ENOENT: 'NotFound' };

export class SysError extends WeftError {
  /** what weft tried: 'create', 'enter', 'restore', ... */
  readonly op: string;
  /** what it tried it on: 'netns "wr-0a1b2c3d"' */
  readonly object: string;
  /** symbolic errno: 'EEXIST', 'EPERM', ... */
  readonly errno: string;

  constructor(op: string, object: string, errno: string, opts: { code?: ErrorCode; cause?: unknown; hint?: string } = {}) {
    const hint = opts.hint ?? (errno === 'EPERM' ? 'run as root: network namespaces need CAP_SYS_ADMIN' : undefined);
    super(opts.code ?? CODES[errno] ?? 'Datapath', `${op} ${object}: ${errno}${hint ? ` (${hint})` : ''}`, opts.cause === undefined ? {} : { cause: opts.cause });
    this.name = 'SysError';
    this.op = op;
    this.object = object;
    this.errno = errno;
  }
}

/** errno number -> name; where Linux has two names for a number, the kernel's (EOPNOTSUPP, EAGAIN, EDEADLK). */
const ALIASES = new Set(['ENOTSUP', 'EWOULDBLOCK', 'EDEADLOCK']);
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(osConstants.errno)
    .filter(([name]) => !ALIASES.has(name))
    .map(([name, n]) => [n, name] as const),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/**
 * The symbolic errno of what an fs call or a sys/ binding threw. Duck-typed:
 * Node's own errors come from another realm under jest's VM modules.
 */
export function errnoOf(err: unknown): string {
  if (err instanceof SysError) return err.errno;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'EUNKNOWN';
}

export interface Libc {
  setns(fd: number, nstype: number): number;
  unshare(flags: number): number;
  mount(source: string, target: string, fstype: string, flags: number, data: null): number;
  umount2(target: string, flags: number): number;
  /** ioctl without an argument (NS_GET_NSTYPE and the like). */
  ioctl(fd: number, request: number): number;
  /** getsockopt for an int-sized option; the value, or -1 (see errno). */
  getsockoptInt(fd: number, level: number, name: number): number;
  /** getsockopt(SO_PEERCRED): the peer's pid, or -1 (see errno). */
  peerPid(fd: number): number;
  /** pidfd_open(2); -1 on failure. */
  pidfdOpen(pid: number): number;
  /** pidfd_getfd(2): a copy of the target process's fd; -1 on failure. */
  pidfdGetfd(pidfd: number, targetFd: number): number;
  close(fd: number): number;
  errno(): number;
}

// Generic syscall numbers (the same on x86_64 and arm64: asm-generic since 5.1).
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

let libc: Libc | undefined;

export function loadLibc(): Libc {
  if (libc) return libc;
  // koffi is a CommonJS native module; createRequire keeps this file ESM.
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const setns = lib.func('int setns(int fd, int nstype)');
  const unshare = lib.func('int unshare(int flags)');
  const mount = lib.func(
    'int mount(const char *source, const char *target, const char *filesystemtype, unsigned long mountflags, const void *data)',
  );
  const umount2 = lib.func('int umount2(const char *target, int flags)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, ...)');
  const getsockopt = lib.func('int getsockopt(int sockfd, int level, int optname, _Out_ int *optval, _Inout_ uint32_t *optlen)');
  // Anonymous: koffi's type names are process-wide, and a test runner may
  // evaluate this module more than once in one process.
  const ucred = koffi.struct({ pid: 'int32_t', uid: 'uint32_t', gid: 'uint32_t' });
  const getsockoptCred = lib.func('getsockopt', 'int', ['int', 'int', 'int', koffi.out(koffi.pointer(ucred)), koffi.inout(koffi.pointer('uint32_t'))]);
  const syscall = lib.func('long syscall(long number, ...)');
  const close = lib.func('int close(int fd)');
  libc = {
    setns: (fd, nstype) => setns(fd, nstype) as number,
    unshare: (flags) => unshare(flags) as number,
    mount: (source, target, fstype, flags, data) => mount(source, target, fstype, flags, data) as number,
    umount2: (target, flags) => umount2(target, flags) as number,
    ioctl: (fd, request) => ioctl(fd, request) as number,
    getsockoptInt: (fd, level, name) => {
      const value = [0];
      const len = [4];
      return (getsockopt(fd, level, name, value, len) as number) === 0 ? (value[0] as number) : -1;
    },
    peerPid: (fd) => {
      const cred: Array<{ pid: number }> = [{ pid: 0 }];
      const len = [12];
      return (getsockoptCred(fd, SOL_SOCKET, SO_PEERCRED, cred, len) as number) === 0 ? (cred[0]?.pid ?? -1) : -1;
    },
    pidfdOpen: (pid) => Number(syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0)),
    pidfdGetfd: (pidfd, targetFd) => Number(syscall(SYS_PIDFD_GETFD, 'int', pidfd, 'int', targetFd, 'unsigned int', 0)),
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return libc;
}
