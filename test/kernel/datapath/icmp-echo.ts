// A real ICMP echo ("ping") from inside a namespace, for kernel tests.
// This machine has no ping binary, so: a raw ICMP socket created while the
// thread is switched into the namespace (it stays bound there), then
// sendto/poll/recv through koffi. Test support only; never in the datapath.
import koffi from 'koffi';
import { withNetns } from '../../../agents/datapath/netlink/netns.js';

const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_ICMP = 1;
const POLLIN = 1;
const ICMP_ECHO = 8;
const ICMP_ECHOREPLY = 0;

const lib = koffi.load('libc.so.6');
const socketFn = lib.func('int socket(int domain, int type, int protocol)');
const sendtoFn = lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
const recvFn = lib.func('long recv(int fd, void *buf, size_t len, int flags)');
const pollFn = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
const closeFn = lib.func('int close(int fd)');

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function sockaddrIn(ip: string): Buffer {
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(AF_INET, 0); // sin_family, host order
  ip.split('.').forEach((o, i) => sa.writeUInt8(Number(o), 4 + i)); // sin_addr, network order
  return sa;
}

/**
 * Send ICMP echo requests from namespace `nsPath` to `dst` until one is
 * answered (true) or `timeoutMs` passes (false). Blocks the thread: the
 * reply is produced by the kernel, not by JS.
 */
export function icmpEcho(nsPath: string, dst: string, timeoutMs = 2000): boolean {
  const fd = withNetns(nsPath, () => socketFn(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP) as number);
  if (fd < 0) throw new Error(`socket(AF_INET, SOCK_RAW): errno ${koffi.errno()}`);
  const id = process.pid & 0xffff;
  const deadline = Date.now() + timeoutMs;
  try {
    for (let seq = 1; Date.now() < deadline; seq++) {
      const pkt = Buffer.alloc(8 + 8);
      pkt.writeUInt8(ICMP_ECHO, 0);
      pkt.writeUInt16BE(id, 4);
      pkt.writeUInt16BE(seq, 6);
      pkt.write('weftping', 8);
      pkt.writeUInt16BE(checksum(pkt), 2);
      const sa = sockaddrIn(dst);
      if ((sendtoFn(fd, pkt, pkt.length, 0, sa, sa.length) as number) < 0) {
        throw new Error(`sendto ${dst}: errno ${koffi.errno()}`);
      }
      // Wait up to 300 ms for this request's reply, then send another (the
      // first one may be dropped while ARP resolves).
      const roundEnd = Math.min(deadline, Date.now() + 300);
      while (Date.now() < roundEnd) {
        const pfd = Buffer.alloc(8);
        pfd.writeInt32LE(fd, 0);
        pfd.writeInt16LE(POLLIN, 4);
        const n = pollFn(pfd, 1, Math.max(1, roundEnd - Date.now())) as number;
        if (n <= 0) break;
        const buf = Buffer.alloc(1500);
        const len = recvFn(fd, buf, buf.length, 0) as number;
        if (len <= 0) continue;
        const ihl = ((buf[0] ?? 0) & 0x0f) * 4;
        const src = [12, 13, 14, 15].map((i) => buf[i]).join('.');
        if (
          len >= ihl + 8 &&
          buf.readUInt8(ihl) === ICMP_ECHOREPLY &&
          buf.readUInt16BE(ihl + 4) === id &&
          buf.readUInt16BE(ihl + 6) === seq &&
          src === dst
        ) {
          return true;
        }
      }
    }
    return false;
  } finally {
    closeFn(fd);
  }
}
