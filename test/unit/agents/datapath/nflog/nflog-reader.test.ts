// NflogReader against a fake socket: what it delivers, what it drops and
// counts (rate limit, sequence gaps, ENOBUFS), and how it stops on errors.
import { endianness } from 'node:os';
import { jest } from '@jest/globals';
import { DatapathError } from '../../../../../agents/datapath/errors.js';
import { NflogReader } from '../../../../../agents/datapath/nflog/nflog-reader.js';
import type { NflogPacket } from '../../../../../agents/datapath/packet-log-port.js';
import type { NflogSocketOptions, NflogSource, RecvResult } from '../../../../../agents/datapath/nflog/nflog-socket.js';

/** A NFULNL_MSG_PACKET message: prefix, SEQ, and a UDP payload 198.18.0.1:sport -> 198.18.0.2:53. */
function packetMessage(seq: number, sport = 1000, prefix = 'wl-0000abcd'): Buffer {
  const attr = (type: number, payload: Buffer): Buffer => {
    const b = Buffer.alloc((4 + payload.length + 3) & ~3);
    b.writeUInt16LE(4 + payload.length, 0);
    b.writeUInt16LE(type, 2);
    payload.copy(b, 4);
    return b;
  };
  const seqBytes = Buffer.alloc(4);
  seqBytes.writeUInt32BE(seq);
  const ip = Buffer.from('450000200001400040110000c6120001c6120002', 'hex');
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(53, 2);
  const body = Buffer.concat([
    Buffer.from([2, 0, 0, 7]),
    attr(10, Buffer.from(`${prefix}\0`)),
    attr(12, seqBytes),
    attr(9, Buffer.concat([ip, udp])),
  ]);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + body.length, 0);
  hdr.writeUInt16LE(0x0400, 4);
  return Buffer.concat([hdr, body]);
}

/** A socket whose recv() replays a script; EAGAIN when it runs out. */
class FakeSource implements NflogSource {
  readonly script: Array<Buffer | RecvResult | Error> = [];
  closed = false;

  recv(buf: Buffer): RecvResult {
    const next = this.script.shift();
    if (next === undefined) return 'EAGAIN';
    if (next instanceof Error) throw next;
    if (!Buffer.isBuffer(next)) return next;
    next.copy(buf);
    return next.length;
  }

  close(): void {
    this.closed = true;
  }
}

function setup(options: { maxPerSecond?: number; maxReadsPerPoll?: number; now?: () => number } = {}) {
  const source = new FakeSource();
  const packets: NflogPacket[] = [];
  const errors: DatapathError[] = [];
  const opened: NflogSocketOptions[] = [];
  const reader = new NflogReader({
    onPacket: (p) => packets.push(p),
    onError: (e) => errors.push(e),
    openSource: (o) => {
      opened.push(o);
      return source;
    },
    now: options.now ?? (() => 1_000_000),
    ...(options.maxPerSecond === undefined ? {} : { maxPerSecond: options.maxPerSecond }),
    ...(options.maxReadsPerPoll === undefined ? {} : { maxReadsPerPoll: options.maxReadsPerPoll }),
    socket: { copyRange: 96 },
  });
  return { reader, source, packets, errors, opened };
}

const describeLE = endianness() === 'LE' ? describe : describe.skip;

describeLE('NflogReader', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('opens the group in the namespace with the socket options, and closes it on stop', () => {
    const { reader, source, opened } = setup();
    reader.start({ group: 7, netns: '/run/netns/x' });
    expect(opened).toEqual([{ copyRange: 96, group: 7, netns: '/run/netns/x' }]);
    expect(reader.running).toBe(true);
    expect(() => reader.start({ group: 7 })).toThrow('already started');
    reader.stop();
    reader.stop();
    expect(source.closed).toBe(true);
    expect(reader.running).toBe(false);
  });

  it('delivers each packet of a batched datagram with its prefix, addresses and ports', () => {
    const { reader, source, packets } = setup();
    reader.start({ group: 7 });
    source.script.push(Buffer.concat([packetMessage(0, 1000), packetMessage(1, 1001, 'wl-deadbeef')]));
    reader.poll();
    reader.stop();
    expect(packets).toEqual([
      { prefix: 'wl-0000abcd', time: new Date(1_000_000), family: 4, protocol: 'udp', src: '198.18.0.1', dst: '198.18.0.2', sport: 1000, dport: 53 },
      { prefix: 'wl-deadbeef', time: new Date(1_000_000), family: 4, protocol: 'udp', src: '198.18.0.1', dst: '198.18.0.2', sport: 1001, dport: 53 },
    ]);
    expect(reader.stats()).toMatchObject({ received: 2, delivered: 2, rateLimited: 0, lost: 0 });
  });

  it('drops and counts packets beyond maxPerSecond, and delivers again in the next second', () => {
    let now = 5_000;
    const { reader, source, packets } = setup({ maxPerSecond: 2, now: () => now });
    reader.start({ group: 7 });
    for (let seq = 0; seq < 5; seq++) source.script.push(packetMessage(seq));
    reader.poll();
    expect(packets).toHaveLength(2);
    expect(reader.stats()).toMatchObject({ received: 5, delivered: 2, rateLimited: 3 });
    now = 6_000;
    source.script.push(packetMessage(5));
    reader.poll();
    reader.stop();
    expect(packets).toHaveLength(3);
  });

  it('counts gaps in the kernel sequence numbers as lost packets', () => {
    const { reader, source } = setup();
    reader.start({ group: 7 });
    source.script.push(packetMessage(2), packetMessage(3), packetMessage(7));
    reader.poll();
    reader.stop();
    expect(reader.stats()).toMatchObject({ received: 3, delivered: 3, lost: 2 + 3 });
  });

  it('counts ENOBUFS as an overrun and keeps reading', () => {
    const { reader, source, packets, errors } = setup();
    reader.start({ group: 7 });
    source.script.push(packetMessage(0), 'ENOBUFS', packetMessage(1));
    reader.poll();
    reader.stop();
    expect(packets).toHaveLength(2);
    expect(errors).toEqual([]);
    expect(reader.stats()).toMatchObject({ overruns: 1, delivered: 2 });
  });

  it('reads at most maxReadsPerPoll datagrams per poll', () => {
    const { reader, source, packets } = setup({ maxReadsPerPoll: 2 });
    reader.start({ group: 7 });
    for (let seq = 0; seq < 3; seq++) source.script.push(packetMessage(seq));
    reader.poll();
    expect(packets).toHaveLength(2);
    reader.poll();
    reader.stop();
    expect(packets).toHaveLength(3);
  });

  it('stops and reports a failed read through onError, naming the group', () => {
    const { reader, source, errors } = setup();
    reader.start({ group: 7 });
    source.script.push(new DatapathError('read', 'nflog group 7', 'EBADF'));
    reader.poll();
    expect(reader.running).toBe(false);
    expect(source.closed).toBe(true);
    expect(errors.map((e) => e.message)).toEqual(['read nflog group 7: EBADF']);
  });

  it('drains on its own every pollIntervalMs', () => {
    jest.useFakeTimers();
    const { reader, source, packets } = setup();
    reader.start({ group: 7 });
    source.script.push(packetMessage(0));
    jest.advanceTimersByTime(49);
    expect(packets).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(packets).toHaveLength(1);
    reader.stop();
  });
});
