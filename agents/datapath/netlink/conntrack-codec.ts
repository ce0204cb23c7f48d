// ctnetlink's wire format, for dumping the connection tracking table
// (IPCTNL_MSG_CT_GET with NLM_F_DUMP on a NETLINK_NETFILTER socket), the
// way `conntrack -L` does. Pure: the request's payload, and one reply
// message's payload (after the netlink header) -> a ConntrackEntry. Only
// what weft reads: the tuples, status, TCP state and timeout.
// Attribute numbers: linux/netfilter/nfnetlink_conntrack.h.
import type { ConntrackEntry, ConntrackFilter, ConntrackTuple } from '../../../model/conntrack.js';

export const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_NEW = 0;
const IPCTNL_MSG_CT_GET = 1;
/** the request's message type, and that of each entry in the reply */
export const CT_GET = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
export const CT_NEW = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
export const AF_INET = 2;

const CTA_TUPLE_ORIG = 1;
const CTA_TUPLE_REPLY = 2;
const CTA_STATUS = 3;
const CTA_PROTOINFO = 4;
const CTA_TIMEOUT = 7;
const CTA_MARK = 8;
const CTA_MARK_MASK = 21;
const CTA_TUPLE_IP = 1;
const CTA_TUPLE_PROTO = 2;
const CTA_IP_V4_SRC = 1;
const CTA_IP_V4_DST = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_SRC_PORT = 2;
const CTA_PROTO_DST_PORT = 3;
const CTA_PROTOINFO_TCP = 1;
const CTA_PROTOINFO_TCP_STATE = 1;
/** NLA_F_NESTED and NLA_F_NET_BYTEORDER ride in the type's top bits */
const NLA_TYPE_MASK = 0x3fff;
const NFGENMSG_LEN = 4;

function u32beAttr(type: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(8, 0);
  b.writeUInt16LE(type, 2);
  b.writeUInt32BE(value >>> 0, 4);
  return b;
}

/** struct nfgenmsg (family, version 0 = NFNETLINK_V0, res_id 0), then the kernel-side filter by conntrack mark, if any. */
export function ctDumpRequest(family = AF_INET, filter?: ConntrackFilter): Buffer {
  const head = Buffer.from([family, 0, 0, 0]);
  return filter === undefined ? head : Buffer.concat([head, u32beAttr(CTA_MARK, filter.mark), u32beAttr(CTA_MARK_MASK, filter.mask)]);
}

/** type -> payload of each attribute in buf (the last one wins a repeated type); stops at a truncated attribute. */
function attributes(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > buf.length) break;
    out.set(type, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

const ipv4 = (b: Buffer | undefined): string | undefined => (b !== undefined && b.length === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : undefined);
const be16 = (b: Buffer | undefined): number | undefined => (b !== undefined && b.length >= 2 ? b.readUInt16BE(0) : undefined);
const be32 = (b: Buffer | undefined): number | undefined => (b !== undefined && b.length >= 4 ? b.readUInt32BE(0) : undefined);

function tuple(buf: Buffer | undefined): { tuple: ConntrackTuple; protocol: number } | undefined {
  if (buf === undefined) return undefined;
  const a = attributes(buf);
  const ip = attributes(a.get(CTA_TUPLE_IP) ?? Buffer.alloc(0));
  const proto = attributes(a.get(CTA_TUPLE_PROTO) ?? Buffer.alloc(0));
  const src = ipv4(ip.get(CTA_IP_V4_SRC));
  const dst = ipv4(ip.get(CTA_IP_V4_DST));
  const protocol = proto.get(CTA_PROTO_NUM)?.[0];
  if (src === undefined || dst === undefined || protocol === undefined) return undefined;
  const t: ConntrackTuple = { src, dst };
  const sport = be16(proto.get(CTA_PROTO_SRC_PORT));
  const dport = be16(proto.get(CTA_PROTO_DST_PORT));
  if (sport !== undefined) t.sport = sport;
  if (dport !== undefined) t.dport = dport;
  return { tuple: t, protocol };
}

/** One entry from a CT_NEW message's payload (nfgenmsg, then attributes); undefined when it is not an IPv4 entry weft can read. */
export function parseCtEntry(payload: Buffer): ConntrackEntry | undefined {
  if (payload.length < NFGENMSG_LEN || payload[0] !== AF_INET) return undefined;
  const a = attributes(payload.subarray(NFGENMSG_LEN));
  const orig = tuple(a.get(CTA_TUPLE_ORIG));
  const reply = tuple(a.get(CTA_TUPLE_REPLY));
  if (!orig || !reply) return undefined;
  const entry: ConntrackEntry = { protocol: orig.protocol, orig: orig.tuple, reply: reply.tuple, status: be32(a.get(CTA_STATUS)) ?? 0 };
  const tcp = a.get(CTA_PROTOINFO) && attributes(a.get(CTA_PROTOINFO) as Buffer).get(CTA_PROTOINFO_TCP);
  const state = tcp ? attributes(tcp).get(CTA_PROTOINFO_TCP_STATE)?.[0] : undefined;
  if (state !== undefined) entry.tcpState = state;
  const timeout = be32(a.get(CTA_TIMEOUT));
  if (timeout !== undefined) entry.timeout = timeout;
  return entry;
}
