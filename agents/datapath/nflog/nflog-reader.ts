// Reads one nflog group (packets of nft `log group N` rules) and hands each
// decoded packet to a callback, at most `maxPerSecond` of them.
//
// How reading works, and why: a netlink socket cannot be wrapped in a Node
// stream (libuv only polls fds it knows the type of: TCP, UDP, pipes, ttys),
// so the socket is non-blocking and a timer drains it every
// `pollIntervalMs` (50 ms): recv() until EAGAIN, each call returning at once,
// at most `maxReadsPerPoll` datagrams per tick so a flood cannot hold the
// event loop. Idle, that is 20 cheap syscalls a second. The alternative, a
// blocking recv/poll through koffi's async calls, would pin one of libuv's
// four pool threads (shared with fs and dns) for the reader's lifetime and
// needs a wake-up to stop. The latency the timer adds (<= 50 ms) is below the
// kernel's own batching delay (timeoutCs, 100 ms by default here), and
// batching means one recv usually carries many packets.
//
// Loss is counted, never hidden: `rateLimited` (over the per-second budget,
// dropped here), `lost` (gaps in the kernel's per-group sequence numbers:
// packets the kernel could not queue, e.g. while the socket buffer was
// full), `overruns` (ENOBUFS reports from recv), `skipped` (not IP).
import { fromNetlink, type DatapathError } from '../errors.js';
import type { NflogPacket, PacketLogReader } from '../packet-log-port.js';
import { decodeNflogDatagram } from './nflog-codec.js';
import { NflogSocket, type NflogSocketOptions, type NflogSource } from './nflog-socket.js';
import { RateLimiter } from './rate-limiter.js';

export interface NflogReaderOptions {
  /** called for each packet within the rate limit, synchronously from the drain; must not throw */
  onPacket: (packet: NflogPacket) => void;
  /** a read failed for good (the reader has stopped); without it the error is thrown from the timer */
  onError?: (err: DatapathError) => void;
  /** packets delivered per second at most; the rest are counted in `rateLimited` (default 200) */
  maxPerSecond?: number;
  /** how often the socket is drained (default 50 ms) */
  pollIntervalMs?: number;
  /** datagrams read per drain at most (default 64) */
  maxReadsPerPoll?: number;
  /** kernel-side settings (copy range, batching); see NflogSocketOptions */
  socket?: Omit<NflogSocketOptions, 'group' | 'netns'>;
  /** opens the socket; a seam for unit tests (default NflogSocket.open) */
  openSource?: (options: NflogSocketOptions) => NflogSource;
  /** clock, ms since the epoch (default Date.now) */
  now?: () => number;
}

export interface NflogStartOptions {
  /** the rules' `log group N` */
  group: number;
  /** namespace path (/run/netns/x, /proc/PID/ns/net); undefined: the agent's own */
  netns?: string;
}

export interface NflogStats {
  /** packet messages read from the socket */
  received: number;
  /** handed to onPacket */
  delivered: number;
  /** dropped over the per-second limit */
  rateLimited: number;
  /** never reached us: gaps in the kernel's sequence numbers */
  lost: number;
  /** times recv reported ENOBUFS (the receive queue overflowed) */
  overruns: number;
  /** not IP (or no payload): nothing to report */
  skipped: number;
}

const DEFAULTS = { maxPerSecond: 200, pollIntervalMs: 50, maxReadsPerPoll: 64 } as const;
// Larger than any datagram the kernel sends with bufferSize <= 128 KiB plus one oversized packet.
const RECV_BUFFER_BYTES = 256 * 1024;

export class NflogReader implements PacketLogReader {
  private readonly options: NflogReaderOptions;
  private readonly now: () => number;
  private readonly buf = Buffer.alloc(RECV_BUFFER_BYTES);
  private source: NflogSource | undefined;
  private group = -1;
  private timer: NodeJS.Timeout | undefined;
  private limiter = new RateLimiter(DEFAULTS.maxPerSecond);
  private nextSeq = 0;
  private counters: NflogStats = emptyStats();

  constructor(options: NflogReaderOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.source !== undefined;
  }

  /**
   * Bind `group` (in `netns`) and start draining. Throws a DatapathError
   * (errno EBUSY) when another socket already reads that group there.
   */
  start({ group, netns }: NflogStartOptions): void {
    if (this.source) throw new Error(`nflog reader already started`);
    const open = this.options.openSource ?? ((o: NflogSocketOptions) => NflogSocket.open(o));
    this.source = open({ ...this.options.socket, group, netns });
    this.group = group;
    this.limiter = new RateLimiter(this.options.maxPerSecond ?? DEFAULTS.maxPerSecond);
    this.nextSeq = 0; // a fresh group instance numbers from 0
    this.counters = emptyStats();
    this.timer = setInterval(() => this.poll(), this.options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
  }

  /** Stop draining and release the group; safe to call twice. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.source?.close();
    this.source = undefined;
  }

  stats(): NflogStats {
    return { ...this.counters };
  }

  /** Drain what is waiting now (the timer calls this; callers may too). */
  poll(): void {
    const maxReads = this.options.maxReadsPerPoll ?? DEFAULTS.maxReadsPerPoll;
    for (let i = 0; i < maxReads && this.source; i++) {
      let n;
      try {
        n = this.source.recv(this.buf);
      } catch (err: unknown) {
        this.fail(fromNetlink('read', `nflog group ${this.group}`, err));
        return;
      }
      if (n === 'EAGAIN') return;
      if (n === 'ENOBUFS') {
        this.counters.overruns++;
        continue;
      }
      this.handle(this.buf.subarray(0, n));
    }
  }

  private handle(datagram: Buffer): void {
    const nowMs = this.now();
    for (const m of decodeNflogDatagram(datagram, new Date(nowMs))) {
      if (m.kind !== 'packet') continue;
      this.counters.received++;
      if (m.seq !== undefined) this.countGap(m.seq);
      if (!m.packet) {
        this.counters.skipped++;
      } else if (!this.limiter.take(nowMs)) {
        this.counters.rateLimited++;
      } else {
        this.counters.delivered++;
        this.options.onPacket(m.packet);
      }
    }
  }

  /** Sequence numbers are u32 and count up by one per logged packet. */
  private countGap(seq: number): void {
    const gap = (seq - this.nextSeq) >>> 0;
    // A "gap" of more than 2^31 is a number seen twice or late, not loss.
    if (gap < 0x80000000) this.counters.lost += gap;
    this.nextSeq = (seq + 1) >>> 0;
  }

  private fail(err: DatapathError): void {
    this.stop();
    if (this.options.onError) this.options.onError(err);
    else throw err;
  }
}

function emptyStats(): NflogStats {
  return { received: 0, delivered: 0, rateLimited: 0, lost: 0, overruns: 0, skipped: 0 };
}
