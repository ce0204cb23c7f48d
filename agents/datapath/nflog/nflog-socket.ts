// A NETLINK_NETFILTER socket bound to one nfnetlink_log group, through
// libc via koffi (Node has no netlink sockets, and the `netlink` package
// speaks rtnetlink only).
//
// Non-blocking (SOCK_NONBLOCK): recv() returns at once, with a datagram or
// EAGAIN, so it is safe on the JS thread; NflogReader decides when to call
// it. The socket is created while the thread is switched into the target
// namespace (withNetns) and stays bound to that namespace; the log group
// instance lives in the socket's namespace too. Closing the socket releases
// the group (the kernel drops a socket's instances when its port goes away),
// so no UNBIND is sent.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { DatapathError, errnoName, fromErrno } from '../errors.js';
import { withNetns } from '../netlink/netns.js';
import { NFULNL_CFG_CMD, NFULNL_CFG_F, NFULNL_COPY, decodeNflogDatagram, encodeNflogConfig } from './nflog-codec.js';

// linux/socket.h, linux/netlink.h, asm/socket.h (x86-64, arm64)
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_NETFILTER = 12;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;

export interface NflogSocketOptions {
  /** log group (0..65535), as in the rule's `log group N` */
  group: number;
  /** namespace path (/run/netns/x, /proc/PID/ns/net); undefined: the agent's own */
  netns?: string;
  /** payload bytes copied per packet: enough for the IP and transport headers */
  copyRange?: number;
  /** the kernel batches up to this many packets ... */
  queueThreshold?: number;
  /** ... or for this long (1/100 s) before sending them */
  timeoutCs?: number;
  /** the kernel's batch buffer, bytes (4096..131072) */
  bufferSize?: number;
  /** SO_RCVBUF requested for the socket (the kernel caps it at net.core.rmem_max) */
  receiveBuffer?: number;
}

const NFLOG_DEFAULTS = {
  copyRange: 128,
  queueThreshold: 64,
  timeoutCs: 10,
  bufferSize: 16384,
  receiveBuffer: 1 << 20,
} as const;

/** What one recv() gave: bytes read into the buffer, no datagram waiting, or an overrun. */
export type RecvResult = number | 'EAGAIN' | 'ENOBUFS';

/** The reader's view of a socket, so it can be driven by a fake in unit tests. */
export interface NflogSource {
  recv(buf: Buffer): RecvResult;
  close(): void;
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const bind = lib.func('int bind(int fd, const void *addr, uint32_t addrlen)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)');
  const send = lib.func('long send(int fd, const void *buf, size_t len, int flags)');
  const recv = lib.func('long recv(int fd, void *buf, size_t len, int flags)');
  const close = lib.func('int close(int fd)');
  libc = {
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    send: (fd, buf, len, flags) => send(fd, buf, len, flags) as number,
    recv: (fd, buf, len, flags) => recv(fd, buf, len, flags) as number,
    close: (fd) => close(fd) as number,
  };
  return libc;
}

export class NflogSocket implements NflogSource {
  private fd: number;
  readonly group: number;

  private constructor(fd: number, group: number) {
    this.fd = fd;
    this.group = group;
  }

  /**
   * Open a socket in `netns`, bind log group `group` and configure it.
   * Fails with errno EBUSY when another socket in that namespace holds the
   * group (the kernel says EPERM then, as it does for a missing
   * CAP_NET_ADMIN; /proc tells the two apart).
   */
  static open(options: NflogSocketOptions): NflogSocket {
    const { group } = options;
    if (!Number.isInteger(group) || group < 0 || group > 0xffff) throw new DatapathError('bind', `nflog group ${group}`, 'EINVAL');
    const open = (): NflogSocket => NflogSocket.openHere(options);
    return options.netns === undefined ? open() : withNetns(options.netns, open);
  }

  /** Runs on the JS thread, switched into the target namespace when there is one. */
  private static openHere(o: NflogSocketOptions): NflogSocket {
    const lib = loadLibc();
    const object = `nflog group ${o.group}`;
    const fd = lib.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) throw fromErrno('open socket for', object, koffi.errno());
    const sock = new NflogSocket(fd, o.group);
    try {
      // struct sockaddr_nl { u16 nl_family; u16 nl_pad; u32 nl_pid (0: kernel assigns); u32 nl_groups }
      // Typed arrays are in host order, as the kernel reads these structs.
      const sa = Buffer.from(Uint16Array.of(AF_NETLINK, 0, 0, 0, 0, 0).buffer);
      if (lib.bind(fd, sa, sa.length) !== 0) throw fromErrno('bind socket for', object, koffi.errno());
      // A bigger receive buffer absorbs bursts between two drains; best effort (capped by rmem_max).
      const rcvbuf = Buffer.from(Int32Array.of(o.receiveBuffer ?? NFLOG_DEFAULTS.receiveBuffer).buffer);
      lib.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, rcvbuf.length);
      sock.request(
        {
          command: NFULNL_CFG_CMD.BIND,
          copyMode: NFULNL_COPY.PACKET,
          copyRange: o.copyRange ?? NFLOG_DEFAULTS.copyRange,
          bufferSize: o.bufferSize ?? NFLOG_DEFAULTS.bufferSize,
          timeoutCs: o.timeoutCs ?? NFLOG_DEFAULTS.timeoutCs,
          queueThreshold: o.queueThreshold ?? NFLOG_DEFAULTS.queueThreshold,
          // Per-instance sequence numbers: gaps count the packets the kernel could not deliver.
          flags: NFULNL_CFG_F.SEQ,
        },
        object,
      );
      return sock;
    } catch (err: unknown) {
      sock.close();
      throw err;
    }
  }

  /**
   * Send one config request and wait for its ack. nfnetlink handles the
   * request inside send(), so the ack is already queued when send returns;
   * no ack then is an error, not a reason to wait.
   */
  private request(config: Parameters<typeof encodeNflogConfig>[2], object: string): void {
    const lib = loadLibc();
    const seq = 1;
    const msg = encodeNflogConfig(seq, this.group, config);
    if (lib.send(this.fd, msg, msg.length, 0) !== msg.length) throw fromErrno('bind', object, koffi.errno());
    const buf = Buffer.alloc(8192);
    for (;;) {
      const n = this.recv(buf);
      if (n === 'EAGAIN') throw new DatapathError('bind', object, 'ETIMEDOUT', { cause: new Error('no ack from nfnetlink_log') });
      if (n === 'ENOBUFS') continue;
      // Packets logged meanwhile are skipped; the sequence numbers count them as lost.
      for (const m of decodeNflogDatagram(buf.subarray(0, n), new Date())) {
        if (m.kind !== 'ack' || m.seq !== seq) continue;
        if (m.errno === 0) return;
        throw bindError(object, this.group, errnoName(m.errno));
      }
    }
  }

  recv(buf: Buffer): RecvResult {
    if (this.fd < 0) throw new DatapathError('read', `nflog group ${this.group}`, 'EBADF');
    const n = loadLibc().recv(this.fd, buf, buf.length, 0);
    if (n >= 0) return n;
    const errno = errnoName(koffi.errno());
    if (errno === 'EAGAIN' || errno === 'EINTR') return 'EAGAIN';
    // The receive queue overflowed and the kernel dropped datagrams; the socket stays usable.
    if (errno === 'ENOBUFS') return 'ENOBUFS';
    throw new DatapathError('read', `nflog group ${this.group}`, errno);
  }

  close(): void {
    if (this.fd < 0) return;
    loadLibc().close(this.fd);
    this.fd = -1;
  }
}

/** EPERM on BIND while the group is listed in this namespace: another socket holds it. */
function bindError(object: string, group: number, errno: string): DatapathError {
  if (errno === 'EPERM' && groupBound(group)) {
    const e = new DatapathError('bind', object, 'EBUSY');
    e.message += ' (bound by another socket in this namespace; only one reader per group)';
    return e;
  }
  if (errno === 'EBUSY' || errno === 'EEXIST') {
    const e = new DatapathError('bind', object, errno);
    e.message += ' (already bound)';
    return e;
  }
  return new DatapathError('bind', object, errno);
}

/**
 * Whether /proc lists an instance of `group` in the namespace of this
 * thread (switched by withNetns when open() was given one). Columns:
 * group, portid, qlen, copy mode, copy range, flush timeout, use.
 */
function groupBound(group: number): boolean {
  let text: string;
  try {
    text = readFileSync('/proc/thread-self/net/netfilter/nfnetlink_log', 'utf8');
  } catch {
    return false; // no /proc view: report the kernel's EPERM as it is
  }
  return text.split('\n').some((line) => /^\s*\d+\s/.test(line) && Number(line.trim().split(/\s+/)[0]) === group);
}
