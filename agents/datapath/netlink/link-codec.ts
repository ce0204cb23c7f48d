// The one module that reads and writes raw netlink attribute bytes.
//
// node_netlink types most of rtnetlink, but hands IFLA_LINKINFO over as an
// opaque Buffer (and drops attributes it does not know), so weft encodes the
// kind-specific nest itself: veth (with the peer's ifinfomsg + IFLA_* attrs,
// which is how a peer is created directly inside another namespace), bridge,
// vxlan and macvlan; and the one AF_BRIDGE request weft sends (bridge-port flags in
// IFLA_PROTINFO), which needs NLA_F_NESTED that node_netlink cannot write.
// Layouts follow the kernel's uapi headers: linux/rtnetlink.h (struct
// ifinfomsg), linux/if_link.h (IFLA_*, IFLA_INFO_*, IFLA_BR_*, IFLA_VXLAN_*,
// IFLA_MACVLAN_*),
// linux/veth.h (VETH_INFO_PEER), linux/netlink.h (struct nlattr, NLA_ALIGNTO).
// Scalars are in host byte order except where the kernel says __be16/__be32.
import { endianness } from 'node:os';
import ipaddr from 'ipaddr.js';

/** IFLA_* (linux/if_link.h), the ones weft writes or reads itself. */
const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  PROTINFO: 12,
  LINKINFO: 18,
  IFALIAS: 20,
  NET_NS_FD: 28,
} as const;

/** IFLA_INFO_* nested in IFLA_LINKINFO. */
const IFLA_INFO = { KIND: 1, DATA: 2, XSTATS: 3, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;

/** linux/veth.h */
const VETH_INFO = { PEER: 1 } as const;

/** IFLA_MACVLAN_* nested in IFLA_INFO_DATA of a macvlan. */
const IFLA_MACVLAN = { MODE: 1 } as const; // u32, one of MACVLAN_MODES

/** enum macvlan_mode: how macvlans on one lower device reach each other. */
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;

/** IFLA_BR_* nested in IFLA_INFO_DATA of a bridge. */
const IFLA_BR = {
  FORWARD_DELAY: 1, // u32, clock_t (centiseconds)
  HELLO_TIME: 2, // u32, clock_t
  MAX_AGE: 3, // u32, clock_t
  AGEING_TIME: 4, // u32, clock_t
  STP_STATE: 5, // u32
  VLAN_FILTERING: 7, // u8
  MCAST_SNOOPING: 23, // u8
} as const;

/** IFLA_VXLAN_* nested in IFLA_INFO_DATA of a vxlan device. */
const IFLA_VXLAN = {
  ID: 1, // u32 VNI
  GROUP: 2, // __be32 remote/group IPv4
  LINK: 3, // u32 ifindex of the underlay device
  LOCAL: 4, // __be32 source IPv4
  TTL: 5, // u8
  LEARNING: 7, // u8
  PROXY: 11, // u8: answer ARP/ND from the device's neighbour table
  PORT: 15, // __be16 destination UDP port
  GROUP6: 16, // in6_addr
  LOCAL6: 17, // in6_addr
} as const;

/** IFLA_BRPORT_* (a bridge port's flags): in IFLA_PROTINFO (AF_BRIDGE) and IFLA_INFO_SLAVE_DATA. */
const IFLA_BRPORT = {
  NEIGH_SUPPRESS: 32, // u8
} as const;

/** AF_BRIDGE (linux/socket.h): the family of bridge-port and FDB requests. */
export const AF_BRIDGE = 7;

/** RTM_SETLINK (linux/rtnetlink.h), for the raw AF_BRIDGE request. */
export const RTM_SETLINK = 19;

/**
 * NLA_F_NESTED: br_setlink reads IFLA_PROTINFO as a nest only with this bit
 * set; without it the payload is taken as a bare u8 STP port state (the
 * pre-3.x binary interface), so the flag is not optional here.
 */
export const NLA_F_NESTED = 0x8000;

/** IFF_UP from linux/if.h (net_device_flags). */
export const IFF_UP = 0x1;

/** struct nlattr header size, and NLA_ALIGNTO. */
const NLA_HDRLEN = 4;
const NLA_ALIGNTO = 4;
/** NLA_F_NESTED | NLA_F_NET_BYTEORDER: flag bits to strip from a received nla_type. */
const NLA_TYPE_MASK = 0x3fff;
/** sizeof(struct ifinfomsg) */
const IFINFOMSG_LEN = 16;

const LE = endianness() === 'LE';

// ---------------------------------------------------------------- scalars

function u8(value: number): Buffer {
  const b = Buffer.alloc(1);
  b.writeUInt8(value);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(value >>> 0);
  else b.writeUInt32BE(value >>> 0);
  return b;
}

/** NUL-terminated string payload, as NLA_STRING / NLA_NUL_STRING expect. */
function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]);
}

function readU8(b: Buffer): number | undefined {
  return b.length >= 1 ? b.readUInt8(0) : undefined;
}

function readU32(b: Buffer): number | undefined {
  if (b.length < 4) return undefined;
  return LE ? b.readUInt32LE(0) : b.readUInt32BE(0);
}

function readCString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

/** A u32 attribute payload in host order (e.g. IFLA_EXT_MASK, which node_netlink types as Buffer). */
export function encodeU32(value: number): Buffer {
  return u32(value);
}

/** Decode a u32 attribute payload such as IFLA_LINK (node_netlink leaves it a Buffer). */
export function decodeU32(payload: Buffer | undefined): number | undefined {
  return payload === undefined ? undefined : readU32(payload);
}

// ---------------------------------------------------------------- attributes

/** One struct nlattr: {u16 nla_len, u16 nla_type} + payload, padded to 4 bytes. */
export function encodeAttr(type: number, payload: Buffer): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const padded = Math.ceil(len / NLA_ALIGNTO) * NLA_ALIGNTO;
  const out = Buffer.alloc(padded);
  if (LE) {
    out.writeUInt16LE(len, 0);
    out.writeUInt16LE(type, 2);
  } else {
    out.writeUInt16BE(len, 0);
    out.writeUInt16BE(type, 2);
  }
  payload.copy(out, NLA_HDRLEN);
  return out;
}

/**
 * Split a run of attributes into [type, payload] pairs (type with the
 * NESTED / NET_BYTEORDER flag bits stripped). Stops at a malformed header
 * rather than throwing: a reply from a newer kernel must not break a read.
 */
export function decodeAttrs(buf: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = LE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
    const type = (LE ? buf.readUInt16LE(off + 2) : buf.readUInt16BE(off + 2)) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.push([type, buf.subarray(off + NLA_HDRLEN, off + len)]);
    off += Math.ceil(len / NLA_ALIGNTO) * NLA_ALIGNTO;
  }
  return out;
}

// ---------------------------------------------------------------- ifinfomsg

/** struct ifinfomsg (linux/rtnetlink.h). */
export interface IfInfoMsg {
  family: number;
  type: number;
  index: number;
  flags: number;
  change: number;
}

export function encodeIfInfoMsg(m: Partial<IfInfoMsg>): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(m.family ?? 0, 0); // ifi_family
  // byte 1: __ifi_pad
  if (LE) {
    b.writeUInt16LE(m.type ?? 0, 2); // ifi_type (ARPHRD_*)
    b.writeInt32LE(m.index ?? 0, 4); // ifi_index
    b.writeUInt32LE((m.flags ?? 0) >>> 0, 8); // ifi_flags (IFF_*)
    b.writeUInt32LE((m.change ?? 0) >>> 0, 12); // ifi_change (mask of flags to apply)
  } else {
    b.writeUInt16BE(m.type ?? 0, 2);
    b.writeInt32BE(m.index ?? 0, 4);
    b.writeUInt32BE((m.flags ?? 0) >>> 0, 8);
    b.writeUInt32BE((m.change ?? 0) >>> 0, 12);
  }
  return b;
}

export function decodeIfInfoMsg(b: Buffer): IfInfoMsg | undefined {
  if (b.length < IFINFOMSG_LEN) return undefined;
  return {
    family: b.readUInt8(0),
    type: LE ? b.readUInt16LE(2) : b.readUInt16BE(2),
    index: LE ? b.readInt32LE(4) : b.readInt32BE(4),
    flags: LE ? b.readUInt32LE(8) : b.readUInt32BE(8),
    change: LE ? b.readUInt32LE(12) : b.readUInt32BE(12),
  };
}

// ---------------------------------------------------------------- MAC / IP

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** "02:00:5e:00:00:01" -> 6 bytes. Throws RangeError on bad syntax. */
export function encodeMac(mac: string): Buffer {
  if (!MAC_RE.test(mac)) throw new RangeError(`invalid MAC address ${JSON.stringify(mac)}`);
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function decodeMac(bytes: Buffer | undefined): string {
  if (bytes === undefined) return '';
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A textual IPv4/IPv6 address as the bytes rtnetlink carries. Throws RangeError. */
export function encodeIp(address: string): { family: 4 | 6; bytes: Buffer } {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    return { family: 4, bytes: Buffer.from(ipaddr.IPv4.parse(address).toByteArray()) };
  }
  if (address.includes(':') && ipaddr.IPv6.isValid(address)) {
    return { family: 6, bytes: Buffer.from(ipaddr.IPv6.parse(address).toByteArray()) };
  }
  throw new RangeError(`invalid IP address ${JSON.stringify(address)}`);
}

/** 4 or 16 bytes -> canonical text (RFC 5952 for IPv6). */
export function decodeIp(bytes: Buffer | undefined): string | undefined {
  if (bytes === undefined || (bytes.length !== 4 && bytes.length !== 16)) return undefined;
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

// ---------------------------------------------------------------- IFLA_LINKINFO

/** IFLA_BR_* options weft sets or reads. Times are clock_t: centiseconds. */
export interface BridgeOptions {
  stpState?: boolean;
  forwardDelayCs?: number;
  ageingTimeCs?: number;
  mcastSnooping?: boolean;
  vlanFiltering?: boolean;
}

/** The peer half of a veth, as carried in VETH_INFO_PEER. */
export interface VethPeerOptions {
  name?: string;
  mtu?: number;
  mac?: string;
  /** fd of the namespace to create the peer in (IFLA_NET_NS_FD) */
  netnsFd?: number;
  /** set IFF_UP in the peer's ifinfomsg (flags and change mask) */
  up?: boolean;
}

/** IFLA_VXLAN_* options weft writes or reads. */
export interface VxlanOptions {
  vni?: number;
  /** local VTEP address; IPv4 goes in IFLA_VXLAN_LOCAL, IPv6 in IFLA_VXLAN_LOCAL6 */
  local?: string;
  /** remote or multicast group; IFLA_VXLAN_GROUP / GROUP6 (weft sets none: head-end replication) */
  group?: string;
  /** ifindex of the underlay device */
  link?: number;
  /** destination UDP port */
  port?: number;
  learning?: boolean;
  proxy?: boolean;
  ttl?: number;
}

/** IFLA_BRPORT_* flags of a bridge port. */
export interface BridgePortOptions {
  neighSuppress?: boolean;
}

/** What encodeLinkInfo can write. */
export type LinkInfoSpec =
  | { kind: 'bridge'; bridge?: BridgeOptions }
  | { kind: 'veth'; peer?: VethPeerOptions }
  | { kind: 'vxlan'; vxlan: VxlanOptions }
  | { kind: 'macvlan'; mode: MacvlanMode };

export interface DecodedVethPeer extends VethPeerOptions {
  ifinfo: IfInfoMsg;
}

export interface DecodedLinkInfo {
  /** IFLA_INFO_KIND, e.g. 'veth', 'bridge', 'vxlan' */
  kind?: string;
  /** IFLA_INFO_SLAVE_KIND, e.g. 'bridge' on a bridge port */
  slaveKind?: string;
  bridge?: BridgeOptions;
  vxlan?: VxlanOptions;
  /** IFLA_MACVLAN_MODE of a macvlan, when the kernel reported a mode weft knows */
  macvlanMode?: MacvlanMode;
  /** IFLA_INFO_SLAVE_DATA of a bridge port */
  bridgePort?: BridgePortOptions;
  /** only present when VETH_INFO_PEER was in the nest (requests; kernel dumps omit it) */
  vethPeer?: DecodedVethPeer;
}

function encodeBridgeData(o: BridgeOptions): Buffer {
  const attrs: Buffer[] = [];
  // Order follows the IFLA_BR_* numbering, which is also the order
  // br_changelink applies them in (forward delay before STP state).
  if (o.forwardDelayCs !== undefined) attrs.push(encodeAttr(IFLA_BR.FORWARD_DELAY, u32(o.forwardDelayCs)));
  if (o.ageingTimeCs !== undefined) attrs.push(encodeAttr(IFLA_BR.AGEING_TIME, u32(o.ageingTimeCs)));
  if (o.stpState !== undefined) attrs.push(encodeAttr(IFLA_BR.STP_STATE, u32(o.stpState ? 1 : 0)));
  if (o.vlanFiltering !== undefined) attrs.push(encodeAttr(IFLA_BR.VLAN_FILTERING, u8(o.vlanFiltering ? 1 : 0)));
  if (o.mcastSnooping !== undefined) attrs.push(encodeAttr(IFLA_BR.MCAST_SNOOPING, u8(o.mcastSnooping ? 1 : 0)));
  return Buffer.concat(attrs);
}

function decodeBridgeData(data: Buffer): BridgeOptions {
  const o: BridgeOptions = {};
  for (const [type, p] of decodeAttrs(data)) {
    switch (type) {
      case IFLA_BR.FORWARD_DELAY: {
        const v = readU32(p);
        if (v !== undefined) o.forwardDelayCs = v;
        break;
      }
      case IFLA_BR.AGEING_TIME: {
        const v = readU32(p);
        if (v !== undefined) o.ageingTimeCs = v;
        break;
      }
      case IFLA_BR.STP_STATE: {
        const v = readU32(p);
        if (v !== undefined) o.stpState = v !== 0;
        break;
      }
      case IFLA_BR.VLAN_FILTERING: {
        const v = readU8(p);
        if (v !== undefined) o.vlanFiltering = v !== 0;
        break;
      }
      case IFLA_BR.MCAST_SNOOPING: {
        const v = readU8(p);
        if (v !== undefined) o.mcastSnooping = v !== 0;
        break;
      }
      default:
        break;
    }
  }
  return o;
}

/** VETH_INFO_PEER payload: a struct ifinfomsg, then the peer's IFLA_* attrs. */
function encodeVethPeer(peer: VethPeerOptions): Buffer {
  const flags = peer.up ? IFF_UP : 0;
  const parts: Buffer[] = [encodeIfInfoMsg({ flags, change: flags })];
  if (peer.name !== undefined) parts.push(encodeAttr(IFLA.IFNAME, cstring(peer.name)));
  if (peer.mtu !== undefined) parts.push(encodeAttr(IFLA.MTU, u32(peer.mtu)));
  if (peer.mac !== undefined) parts.push(encodeAttr(IFLA.ADDRESS, encodeMac(peer.mac)));
  if (peer.netnsFd !== undefined) parts.push(encodeAttr(IFLA.NET_NS_FD, u32(peer.netnsFd)));
  return Buffer.concat(parts);
}

function decodeVethData(data: Buffer): DecodedVethPeer | undefined {
  for (const [type, p] of decodeAttrs(data)) {
    if (type !== VETH_INFO.PEER) continue;
    const ifinfo = decodeIfInfoMsg(p);
    if (ifinfo === undefined) return undefined;
    const peer: DecodedVethPeer = { ifinfo, up: (ifinfo.flags & IFF_UP) !== 0 };
    for (const [t, v] of decodeAttrs(p.subarray(IFINFOMSG_LEN))) {
      if (t === IFLA.IFNAME) peer.name = readCString(v);
      else if (t === IFLA.MTU) {
        const mtu = readU32(v);
        if (mtu !== undefined) peer.mtu = mtu;
      } else if (t === IFLA.ADDRESS) peer.mac = decodeMac(v);
      else if (t === IFLA.NET_NS_FD) {
        const fd = readU32(v);
        if (fd !== undefined) peer.netnsFd = fd;
      }
    }
    return peer;
  }
  return undefined;
}

/** A __be16 payload: network byte order whatever the host is. */
function be16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

const VXLAN_N_VID = 1 << 24;

function encodeVxlanData(o: VxlanOptions): Buffer {
  // Refused here rather than by the kernel: an out-of-range value would be
  // silently truncated by the u32/__be16 writers, or mean something else
  // (port 0 is the kernel's legacy default 8472, not "no port").
  if (o.vni !== undefined && (!Number.isInteger(o.vni) || o.vni < 0 || o.vni >= VXLAN_N_VID)) {
    throw new RangeError(`VNI ${o.vni} outside 0..${VXLAN_N_VID - 1}`);
  }
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 0xffff)) {
    throw new RangeError(`UDP port ${o.port} outside 1..65535`);
  }
  const attrs: Buffer[] = [];
  // In IFLA_VXLAN_* numbering order, as iproute2 writes them.
  if (o.vni !== undefined) attrs.push(encodeAttr(IFLA_VXLAN.ID, u32(o.vni)));
  const group = o.group === undefined ? undefined : encodeIp(o.group);
  if (group?.family === 4) attrs.push(encodeAttr(IFLA_VXLAN.GROUP, group.bytes));
  if (o.link !== undefined) attrs.push(encodeAttr(IFLA_VXLAN.LINK, u32(o.link)));
  const local = o.local === undefined ? undefined : encodeIp(o.local);
  // in_addr is already in network order: the bytes as written in the address
  if (local?.family === 4) attrs.push(encodeAttr(IFLA_VXLAN.LOCAL, local.bytes));
  if (o.ttl !== undefined) attrs.push(encodeAttr(IFLA_VXLAN.TTL, u8(o.ttl)));
  if (o.learning !== undefined) attrs.push(encodeAttr(IFLA_VXLAN.LEARNING, u8(o.learning ? 1 : 0)));
  if (o.proxy !== undefined) attrs.push(encodeAttr(IFLA_VXLAN.PROXY, u8(o.proxy ? 1 : 0)));
  if (o.port !== undefined) attrs.push(encodeAttr(IFLA_VXLAN.PORT, be16(o.port)));
  if (group?.family === 6) attrs.push(encodeAttr(IFLA_VXLAN.GROUP6, group.bytes));
  if (local?.family === 6) attrs.push(encodeAttr(IFLA_VXLAN.LOCAL6, local.bytes));
  return Buffer.concat(attrs);
}

function decodeVxlanData(data: Buffer): VxlanOptions {
  const o: VxlanOptions = {};
  for (const [type, p] of decodeAttrs(data)) {
    switch (type) {
      case IFLA_VXLAN.ID: {
        const v = readU32(p);
        if (v !== undefined) o.vni = v;
        break;
      }
      case IFLA_VXLAN.GROUP:
      case IFLA_VXLAN.GROUP6: {
        const ip = decodeIp(p);
        // the kernel reports an unset group as 0.0.0.0; that means "none"
        if (ip !== undefined && ip !== '0.0.0.0' && ip !== '::') o.group = ip;
        break;
      }
      case IFLA_VXLAN.LOCAL:
      case IFLA_VXLAN.LOCAL6: {
        const ip = decodeIp(p);
        if (ip !== undefined && ip !== '0.0.0.0' && ip !== '::') o.local = ip;
        break;
      }
      case IFLA_VXLAN.LINK: {
        const v = readU32(p);
        if (v !== undefined && v !== 0) o.link = v;
        break;
      }
      case IFLA_VXLAN.PORT:
        // __be16: network byte order whatever the host is
        if (p.length >= 2) o.port = p.readUInt16BE(0);
        break;
      case IFLA_VXLAN.LEARNING: {
        const v = readU8(p);
        if (v !== undefined) o.learning = v !== 0;
        break;
      }
      case IFLA_VXLAN.PROXY: {
        const v = readU8(p);
        if (v !== undefined) o.proxy = v !== 0;
        break;
      }
      case IFLA_VXLAN.TTL: {
        const v = readU8(p);
        if (v !== undefined) o.ttl = v;
        break;
      }
      default:
        break;
    }
  }
  return o;
}

function decodeMacvlanMode(data: Buffer): MacvlanMode | undefined {
  for (const [type, p] of decodeAttrs(data)) {
    if (type !== IFLA_MACVLAN.MODE) continue;
    const v = readU32(p);
    return (Object.keys(MACVLAN_MODES) as MacvlanMode[]).find((m) => MACVLAN_MODES[m] === v);
  }
  return undefined;
}

function encodeBridgePortData(o: BridgePortOptions): Buffer {
  const attrs: Buffer[] = [];
  if (o.neighSuppress !== undefined) attrs.push(encodeAttr(IFLA_BRPORT.NEIGH_SUPPRESS, u8(o.neighSuppress ? 1 : 0)));
  return Buffer.concat(attrs);
}

function decodeBridgePortData(data: Buffer): BridgePortOptions {
  const o: BridgePortOptions = {};
  for (const [type, p] of decodeAttrs(data)) {
    if (type !== IFLA_BRPORT.NEIGH_SUPPRESS) continue;
    const v = readU8(p);
    if (v !== undefined) o.neighSuppress = v !== 0;
  }
  return o;
}

/**
 * The body of an AF_BRIDGE RTM_SETLINK that sets bridge-port flags on port
 * `index` (what `bridge link set dev X neigh_suppress on` sends): struct
 * ifinfomsg, then IFLA_PROTINFO | NLA_F_NESTED holding IFLA_BRPORT_*. The
 * caller sends it as is (node_netlink cannot set NLA_F_NESTED).
 */
export function encodeBridgePortSetLink(index: number, o: BridgePortOptions): Buffer {
  return Buffer.concat([
    encodeIfInfoMsg({ family: AF_BRIDGE, index }),
    encodeAttr(IFLA.PROTINFO | NLA_F_NESTED, encodeBridgePortData(o)),
  ]);
}

/**
 * The payload of IFLA_LINKINFO (its nested attributes, without the outer
 * IFLA_LINKINFO header, which node_netlink writes from `attrs.linkinfo`).
 */
export function encodeLinkInfo(spec: LinkInfoSpec): Buffer {
  const parts: Buffer[] = [encodeAttr(IFLA_INFO.KIND, cstring(spec.kind))];
  let data: Buffer | undefined;
  switch (spec.kind) {
    case 'bridge':
      data = spec.bridge === undefined ? undefined : encodeBridgeData(spec.bridge);
      break;
    case 'veth':
      data = spec.peer === undefined ? undefined : encodeAttr(VETH_INFO.PEER, encodeVethPeer(spec.peer));
      break;
    case 'vxlan':
      data = encodeVxlanData(spec.vxlan);
      break;
    case 'macvlan':
      data = encodeAttr(IFLA_MACVLAN.MODE, u32(MACVLAN_MODES[spec.mode]));
      break;
    default: {
      const never: never = spec;
      throw new RangeError(`cannot encode link kind ${JSON.stringify((never as { kind: string }).kind)}`);
    }
  }
  // Nests are written without NLA_F_NESTED, like iproute2: rtnetlink parses
  // IFLA_LINKINFO with the legacy (flag-optional) parser.
  if (data !== undefined && data.length > 0) parts.push(encodeAttr(IFLA_INFO.DATA, data));
  return Buffer.concat(parts);
}

/** Decode the IFLA_LINKINFO payload of a kernel reply (or of encodeLinkInfo). */
export function decodeLinkInfo(payload: Buffer): DecodedLinkInfo {
  const out: DecodedLinkInfo = {};
  let data: Buffer | undefined;
  let slaveData: Buffer | undefined;
  for (const [type, p] of decodeAttrs(payload)) {
    if (type === IFLA_INFO.KIND) out.kind = readCString(p);
    else if (type === IFLA_INFO.SLAVE_KIND) out.slaveKind = readCString(p);
    else if (type === IFLA_INFO.DATA) data = p;
    else if (type === IFLA_INFO.SLAVE_DATA) slaveData = p;
  }
  if (slaveData !== undefined && out.slaveKind === 'bridge') out.bridgePort = decodeBridgePortData(slaveData);
  // IFLA_INFO_DATA's meaning depends on the kind, which may come after it.
  if (data !== undefined) {
    if (out.kind === 'bridge') out.bridge = decodeBridgeData(data);
    else if (out.kind === 'vxlan') out.vxlan = decodeVxlanData(data);
    else if (out.kind === 'macvlan') {
      const mode = decodeMacvlanMode(data);
      if (mode !== undefined) out.macvlanMode = mode;
    }
    else if (out.kind === 'veth') {
      const peer = decodeVethData(data);
      if (peer !== undefined) out.vethPeer = peer;
    }
  }
  return out;
}
