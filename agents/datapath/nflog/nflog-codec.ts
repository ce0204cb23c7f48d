// The one module that reads and writes raw nfnetlink_log bytes: the config
// request that binds a log group, and the datagrams the kernel sends back
// (acks, and NFULNL_MSG_PACKET messages, several per datagram when batched).
// Layouts from the uapi headers: linux/netlink.h (struct nlmsghdr, nlattr,
// nlmsgerr), linux/netfilter/nfnetlink.h (struct nfgenmsg,
// NFNL_SUBSYS_ULOG) and linux/netfilter/nfnetlink_log.h (NFULA_*).
// Netlink headers are in host byte order; every nfnetlink_log value is big
// endian (__be16/__be32/__be64), whatever the host.
import { endianness } from 'node:os';
import type { NflogPacket } from '../packet-log-port.js';
import { parseIpPacket } from './ip-packet.js';

/** A packet a `log group N` rule sent, decoded. */
/** One message of a datagram from the nflog socket. */
export type NflogMessage =
  /** packet: undefined when the payload is not IP (or absent); seq with NFULNL_CFG_F_SEQ */
  | { kind: 'packet'; group: number; seq?: number; packet?: NflogPacket }
  /** NLMSG_ERROR: errno 0 is an ack; otherwise the positive errno the request failed with */
  | { kind: 'ack'; seq: number; errno: number };

/** Settings of a log group instance (NFULA_CFG_*); absent ones keep the kernel's value. */
export interface NflogConfig {
  /** NFULNL_CFG_CMD_* */
  command?: number;
  /** NFULNL_COPY_*, with the number of payload bytes to copy */
  copyMode?: number;
  copyRange?: number;
  /** size of the kernel's batch buffer in bytes (4096..131072) */
  bufferSize?: number;
  /** flush a batch after this many 1/100 s */
  timeoutCs?: number;
  /** flush a batch after this many packets */
  queueThreshold?: number;
  /** NFULNL_CFG_F_* */
  flags?: number;
}

// linux/netlink.h
const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLA_HDRLEN = 4;
const NLA_TYPE_MASK = 0x3fff;
// linux/netfilter/nfnetlink.h
const NFGENMSG_LEN = 4;
const NFNETLINK_V0 = 0;
export const NFNL_SUBSYS_ULOG = 4;
// linux/netfilter/nfnetlink_log.h
export const NFULNL_MSG_PACKET = 0;
export const NFULNL_MSG_CONFIG = 1;
export const NFULNL_CFG_CMD = { NONE: 0, BIND: 1, UNBIND: 2 } as const;
export const NFULNL_COPY = { NONE: 0, META: 1, PACKET: 2 } as const;
export const NFULNL_CFG_F = { SEQ: 0x1, SEQ_GLOBAL: 0x2, CONNTRACK: 0x4 } as const;
const NFULA_CFG = { CMD: 1, MODE: 2, NLBUFSIZ: 3, TIMEOUT: 4, QTHRESH: 5, FLAGS: 6 } as const;
const NFULA = {
  PACKET_HDR: 1,
  MARK: 2,
  TIMESTAMP: 3,
  IFINDEX_INDEV: 4,
  IFINDEX_OUTDEV: 5,
  IFINDEX_PHYSINDEV: 6,
  IFINDEX_PHYSOUTDEV: 7,
  HWADDR: 8,
  PAYLOAD: 9,
  PREFIX: 10,
  SEQ: 12,
} as const;

const LE = endianness() === 'LE';
const align4 = (n: number): number => (n + 3) & ~3;

function readU16(b: Buffer, off: number): number {
  return LE ? b.readUInt16LE(off) : b.readUInt16BE(off);
}

function readU32(b: Buffer, off: number): number {
  return LE ? b.readUInt32LE(off) : b.readUInt32BE(off);
}

function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(align4(NLA_HDRLEN + payload.length));
  if (LE) {
    out.writeUInt16LE(NLA_HDRLEN + payload.length, 0);
    out.writeUInt16LE(type, 2);
  } else {
    out.writeUInt16BE(NLA_HDRLEN + payload.length, 0);
    out.writeUInt16BE(type, 2);
  }
  payload.copy(out, NLA_HDRLEN);
  return out;
}

function be32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

/**
 * NFULNL_MSG_CONFIG for log group `group`, asking for an ack (the kernel
 * answers with NLMSG_ERROR, errno 0 on success). The command is applied
 * before the settings, so one message can bind and configure.
 */
export function encodeNflogConfig(seq: number, group: number, config: NflogConfig): Buffer {
  const attrs: Buffer[] = [];
  if (config.command !== undefined) attrs.push(attr(NFULA_CFG.CMD, Buffer.from([config.command])));
  if (config.copyMode !== undefined) {
    // struct nfulnl_msg_config_mode { __be32 copy_range; __u8 copy_mode; __u8 _pad; } packed: 6 bytes
    const mode = Buffer.alloc(6);
    mode.writeUInt32BE((config.copyRange ?? 0) >>> 0, 0);
    mode.writeUInt8(config.copyMode, 4);
    attrs.push(attr(NFULA_CFG.MODE, mode));
  }
  if (config.bufferSize !== undefined) attrs.push(attr(NFULA_CFG.NLBUFSIZ, be32(config.bufferSize)));
  if (config.timeoutCs !== undefined) attrs.push(attr(NFULA_CFG.TIMEOUT, be32(config.timeoutCs)));
  if (config.queueThreshold !== undefined) attrs.push(attr(NFULA_CFG.QTHRESH, be32(config.queueThreshold)));
  if (config.flags !== undefined) {
    const flags = Buffer.alloc(2);
    flags.writeUInt16BE(config.flags);
    attrs.push(attr(NFULA_CFG.FLAGS, flags));
  }
  const body = Buffer.concat(attrs);
  const msg = Buffer.alloc(NLMSG_HDRLEN + NFGENMSG_LEN + body.length);
  const type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  const flags = NLM_F_REQUEST | NLM_F_ACK;
  if (LE) {
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(type, 4);
    msg.writeUInt16LE(flags, 6);
    msg.writeUInt32LE(seq >>> 0, 8);
    // nlmsg_pid 0: to the kernel
  } else {
    msg.writeUInt32BE(msg.length, 0);
    msg.writeUInt16BE(type, 4);
    msg.writeUInt16BE(flags, 6);
    msg.writeUInt32BE(seq >>> 0, 8);
  }
  // struct nfgenmsg { u8 nfgen_family (AF_UNSPEC: group commands); u8 version; __be16 res_id (the group) }
  msg.writeUInt8(0, NLMSG_HDRLEN);
  msg.writeUInt8(NFNETLINK_V0, NLMSG_HDRLEN + 1);
  msg.writeUInt16BE(group, NLMSG_HDRLEN + 2);
  body.copy(msg, NLMSG_HDRLEN + NFGENMSG_LEN);
  return msg;
}

/**
 * Split one datagram into its messages. Acks and NFULNL_MSG_PACKET are
 * returned; NLMSG_DONE (which ends a batch), NOOP and anything unknown are
 * skipped. A malformed tail stops the walk rather than throwing.
 * `receivedAt` stands in for packets the kernel sent without a timestamp.
 */
export function decodeNflogDatagram(buf: Buffer, receivedAt: Date): NflogMessage[] {
  const out: NflogMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    const type = readU16(buf, off + 4);
    const seq = readU32(buf, off + 8);
    const body = buf.subarray(off + NLMSG_HDRLEN, off + len);
    if (type === NLMSG_ERROR && body.length >= 4) {
      // struct nlmsgerr { int error (negative errno, 0 for an ack); struct nlmsghdr msg; ... }
      const error = LE ? body.readInt32LE(0) : body.readInt32BE(0);
      out.push({ kind: 'ack', seq, errno: Math.abs(error) });
    } else if (type === ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) && body.length >= NFGENMSG_LEN) {
      out.push(decodePacketMessage(body, receivedAt));
    }
    off += align4(len);
  }
  return out;
}

/** The body of an NFULNL_MSG_PACKET: struct nfgenmsg, then NFULA_* attributes. */
function decodePacketMessage(body: Buffer, receivedAt: Date): NflogMessage {
  const group = body.readUInt16BE(2);
  const attrs = decodeAttrs(body.subarray(NFGENMSG_LEN));
  const seqAttr = attrs.get(NFULA.SEQ);
  const msg: NflogMessage = { kind: 'packet', group };
  if (seqAttr && seqAttr.length >= 4) msg.seq = seqAttr.readUInt32BE(0);
  const payload = attrs.get(NFULA.PAYLOAD);
  const ip = payload && parseIpPacket(payload);
  if (!ip) return msg;
  const packet: NflogPacket = { prefix: cstring(attrs.get(NFULA.PREFIX)), time: timestamp(attrs.get(NFULA.TIMESTAMP)) ?? receivedAt, ...ip };
  setIndex(packet, 'indev', attrs.get(NFULA.IFINDEX_INDEV));
  setIndex(packet, 'outdev', attrs.get(NFULA.IFINDEX_OUTDEV));
  setIndex(packet, 'physIndev', attrs.get(NFULA.IFINDEX_PHYSINDEV));
  setIndex(packet, 'physOutdev', attrs.get(NFULA.IFINDEX_PHYSOUTDEV));
  const hw = hwaddr(attrs.get(NFULA.HWADDR));
  if (hw !== undefined) packet.hwaddr = hw;
  msg.packet = packet;
  return msg;
}

/** Attributes by type (flag bits stripped); the first of a type wins. */
function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    const type = readU16(buf, off + 2) & NLA_TYPE_MASK;
    if (!out.has(type)) out.set(type, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

function cstring(b: Buffer | undefined): string {
  if (!b) return '';
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

function setIndex(p: NflogPacket, key: 'indev' | 'outdev' | 'physIndev' | 'physOutdev', b: Buffer | undefined): void {
  if (b && b.length >= 4) p[key] = b.readUInt32BE(0);
}

/** struct nfulnl_msg_packet_timestamp { __be64 sec; __be64 usec; } */
function timestamp(b: Buffer | undefined): Date | undefined {
  if (!b || b.length < 16) return undefined;
  const ms = Number(b.readBigUInt64BE(0)) * 1000 + Math.floor(Number(b.readBigUInt64BE(8)) / 1000);
  return new Date(ms);
}

/** struct nfulnl_msg_packet_hw { __be16 hw_addrlen; __u16 _pad; __u8 hw_addr[8]; } */
function hwaddr(b: Buffer | undefined): string | undefined {
  if (!b || b.length < 4) return undefined;
  const len = Math.min(b.readUInt16BE(0), 8, b.length - 4);
  if (len <= 0) return undefined;
  return [...b.subarray(4, 4 + len)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
