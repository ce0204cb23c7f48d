// The network and transport headers of a logged packet, as far as the copy
// range kept them: IPv4 (RFC 791) or IPv6 (RFC 8200, walking the extension
// headers a router may see before the upper layer), then TCP/UDP/SCTP/UDP-Lite
// ports or the ICMP / ICMPv6 type. Pure and tolerant: a truncated packet
// yields what its bytes hold, never an exception.
import type { IpSummary } from '../packet-log-port.js';
import ipaddr from 'ipaddr.js';

/** IANA protocol numbers weft names; others are reported as numbers. */
const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };
/** Protocols whose header starts with 16-bit source and destination ports. */
const PORTED = new Set([6, 17, 132 /* sctp */, 136 /* udplite */]);
const ICMP = new Set([1, 58]);

// IPv6 extension headers (next-header values).
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const DEST_OPTS = 60;

/** Summarise an IP packet (v4 or v6 by its version nibble); undefined when it is not IP or too short. */
export function parseIpPacket(p: Buffer): IpSummary | undefined {
  const version = (p[0] ?? 0) >> 4;
  if (version === 4) return parseIpv4(p);
  if (version === 6) return parseIpv6(p);
  return undefined;
}

function parseIpv4(p: Buffer): IpSummary | undefined {
  if (p.length < 20) return undefined;
  const ihl = (p.readUInt8(0) & 0x0f) * 4;
  const proto = p.readUInt8(9);
  const summary = base(4, proto, ipaddr.fromByteArray([...p.subarray(12, 16)]).toString(), ipaddr.fromByteArray([...p.subarray(16, 20)]).toString());
  // Only the first fragment (offset 0) carries the transport header.
  const fragmentOffset = p.readUInt16BE(6) & 0x1fff;
  if (ihl >= 20 && fragmentOffset === 0) addTransport(summary, proto, p, ihl);
  return summary;
}

function parseIpv6(p: Buffer): IpSummary | undefined {
  if (p.length < 40) return undefined;
  const src = ipaddr.fromByteArray([...p.subarray(8, 24)]).toString();
  const dst = ipaddr.fromByteArray([...p.subarray(24, 40)]).toString();
  let next = p.readUInt8(6);
  let off = 40;
  // Bounded: each extension header is at least 8 bytes long.
  while (off + 8 <= p.length) {
    if (next === HOP_BY_HOP || next === ROUTING || next === DEST_OPTS) {
      const len = (p.readUInt8(off + 1) + 1) * 8;
      next = p.readUInt8(off);
      off += len;
    } else if (next === AH) {
      const len = (p.readUInt8(off + 1) + 2) * 4;
      next = p.readUInt8(off);
      off += len;
    } else if (next === FRAGMENT) {
      const fragmentOffset = p.readUInt16BE(off + 2) >> 3;
      next = p.readUInt8(off);
      off += 8;
      if (fragmentOffset !== 0) return base(6, next, src, dst);
    } else {
      break;
    }
  }
  const summary = base(6, next, src, dst);
  addTransport(summary, next, p, off);
  return summary;
}

function base(family: 4 | 6, proto: number, src: string, dst: string): IpSummary {
  return { family, protocol: PROTOCOL_NAMES[proto] ?? String(proto), src, dst };
}

function addTransport(s: IpSummary, proto: number, p: Buffer, off: number): void {
  if (PORTED.has(proto) && off + 4 <= p.length) {
    s.sport = p.readUInt16BE(off);
    s.dport = p.readUInt16BE(off + 2);
  } else if (ICMP.has(proto) && off + 1 <= p.length) {
    s.icmpType = p.readUInt8(off);
  }
}
