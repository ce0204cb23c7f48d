// Taking a descriptor from the process at the other end of a unix socket,
// the way a server receives one over SCM_RIGHTS, but without touching the
// byte stream (Node reads its sockets itself and would drop ancillary
// data): the peer names a descriptor number of its own and we copy it with
// pidfd_getfd(2) (Linux 5.6).
//
// The peer is identified by the kernel, not by anything it says: the
// socket's SO_PEERPIDFD (Linux 6.5) is a pidfd of the very process that
// connected. Before 6.5, SO_PEERCRED's pid is opened as a pidfd; the peer
// is connected and waiting for our answer, so its pid is not free for
// reuse meanwhile. Either way we only ever get what the caller itself holds.
import { errnoName, loadLibc, SysError } from './libc.js';
import { assertNetnsFd } from './netns.js';

const SOL_SOCKET = 1;
const SO_PEERPIDFD = 77;

const HINTS: Readonly<Record<string, string>> = {
  EBADF: 'the caller has no such descriptor open',
  ESRCH: 'the caller is gone',
  EPERM: 'this process may not take descriptors from the caller: it needs root (CAP_SYS_PTRACE) and no stricter ptrace policy',
  ENOSYS: 'this kernel cannot hand descriptors over (pidfd_getfd needs Linux 5.6): pass a namespace path both sides see instead',
};

/** A pidfd of the process connected at the other end of socketFd. */
function peerPidfd(socketFd: number): number {
  const lib = loadLibc();
  const pidfd = lib.getsockoptInt(socketFd, SOL_SOCKET, SO_PEERPIDFD);
  if (pidfd >= 0) return pidfd;
  const errno = errnoName(lib.errno());
  if (errno !== 'ENOPROTOOPT') throw new SysError('identify', 'the socket peer', errno);
  const pid = peerPid(socketFd);
  const opened = lib.pidfdOpen(pid);
  if (opened < 0) {
    const e = errnoName(lib.errno());
    throw new SysError('identify', `the socket peer (pid ${pid})`, e, HINTS[e] === undefined ? {} : { hint: HINTS[e] });
  }
  return opened;
}

/**
 * The pid, in this process's pid namespace, of the process connected at the
 * other end of socketFd (SO_PEERCRED: the kernel's word, not the peer's).
 */
export function peerPid(socketFd: number): number {
  const lib = loadLibc();
  const pid = lib.peerPid(socketFd);
  if (pid <= 0) throw new SysError('identify', 'the socket peer', pid < 0 ? errnoName(lib.errno()) : 'ESRCH', { hint: HINTS.ESRCH });
  return pid;
}

/**
 * A copy of descriptor `peerFd` of the process connected at the other end
 * of socketFd (close-on-exec; the caller closes it).
 */
export function takePeerFd(socketFd: number, peerFd: number): number {
  const lib = loadLibc();
  const pidfd = peerPidfd(socketFd);
  try {
    const fd = lib.pidfdGetfd(pidfd, peerFd);
    if (fd < 0) {
      const errno = errnoName(lib.errno());
      throw new SysError('take', `descriptor ${peerFd} of the socket peer`, errno, { code: errno === 'EBADF' ? 'Invalid' : 'Datapath', ...(HINTS[errno] === undefined ? {} : { hint: HINTS[errno] }) });
    }
    return fd;
  } finally {
    lib.close(pidfd);
  }
}

/** takePeerFd for a network namespace: fails (and keeps nothing) unless the descriptor is one. */
export function takePeerNetns(socketFd: number, peerFd: number): number {
  const fd = takePeerFd(socketFd, peerFd);
  try {
    assertNetnsFd(fd, `descriptor ${peerFd} of the socket peer`, 'not a network namespace: pass a descriptor of one, e.g. opened from /run/netns/NAME');
  } catch (err: unknown) {
    loadLibc().close(fd);
    throw err;
  }
  return fd;
}
