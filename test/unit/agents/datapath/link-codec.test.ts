// Golden bytes for the netlink attributes weft writes itself, computed by
// hand from the kernel uapi headers (x86-64: little-endian host order).
//   struct nlattr { __u16 nla_len; __u16 nla_type; }  payload padded to 4 (NLA_ALIGNTO)
//   nla_len counts header + payload, not the padding.
//   struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; } = 16 bytes
// Numbers: IFLA_ADDRESS 1, IFLA_IFNAME 3, IFLA_MTU 4, IFLA_NET_NS_FD 28 (if_link.h);
// IFLA_INFO_KIND 1, IFLA_INFO_DATA 2, IFLA_INFO_SLAVE_KIND 4; VETH_INFO_PEER 1 (veth.h);
// IFLA_BR_FORWARD_DELAY 1, IFLA_BR_STP_STATE 5, IFLA_BR_MCAST_SNOOPING 23;
// IFLA_VXLAN_ID 1, _GROUP 2, _LINK 3, _LOCAL 4 (in_addr, network order), _TTL 5,
// _LEARNING 7, _PROXY 11, _PORT 15 (__be16), _LOCAL6 17 (in6_addr);
// IFLA_PROTINFO 12, IFLA_BRPORT_STATE 1, IFLA_BRPORT_NEIGH_SUPPRESS 32 (if_link.h);
// AF_BRIDGE 7 (socket.h); NLA_F_NESTED 0x8000 (netlink.h).
import { endianness } from 'node:os';
import {
  encodeBridgePortSetLink,
  decodeAttrs,
  decodeIfInfoMsg,
  decodeIp,
  decodeLinkInfo,
  decodeMac,
  decodeU32,
  encodeAttr,
  encodeIfInfoMsg,
  encodeIp,
  encodeLinkInfo,
  encodeMac,
  encodeU32,
} from '../../../../agents/datapath/netlink/link-codec.js';

/** "09 00 03 00 ..." -> Buffer; whitespace and comments (after #) ignored per line. */
function hex(text: string): Buffer {
  const clean = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .replace(/\s+/g, '');
  return Buffer.from(clean, 'hex');
}

const describeLE = endianness() === 'LE' ? describe : describe.skip;

describeLE('link-codec: golden bytes (little-endian host)', () => {
  it('encodeAttr writes {len, type}, the payload, and pads to 4 bytes without counting the padding', () => {
    expect(encodeAttr(3, Buffer.from('eth0\0'))).toEqual(
      hex(`
        09 00        # nla_len = 4 + 5
        03 00        # nla_type = IFLA_IFNAME
        65 74 68 30 00  # "eth0\\0"
        00 00 00     # pad to 12
      `),
    );
  });

  it('encodeIfInfoMsg lays out struct ifinfomsg (family, pad, type, index, flags, change)', () => {
    expect(encodeIfInfoMsg({ index: 7, flags: 1, change: 1 })).toEqual(
      hex(`
        00           # ifi_family = AF_UNSPEC
        00           # __ifi_pad
        00 00        # ifi_type
        07 00 00 00  # ifi_index = 7
        01 00 00 00  # ifi_flags = IFF_UP
        01 00 00 00  # ifi_change = IFF_UP
      `),
    );
  });

  it('encodeLinkInfo(bridge) without options is IFLA_INFO_KIND "bridge" only', () => {
    expect(encodeLinkInfo({ kind: 'bridge' })).toEqual(
      hex(`
        0b 00 01 00  # nla_len 11, IFLA_INFO_KIND
        62 72 69 64 67 65 00  # "bridge\\0"
        00           # pad to 12
      `),
    );
  });

  it('encodeLinkInfo(bridge) nests IFLA_BR_* in IFLA_INFO_DATA in attribute order', () => {
    expect(encodeLinkInfo({ kind: 'bridge', bridge: { stpState: false, forwardDelayCs: 0, mcastSnooping: false } })).toEqual(
      hex(`
        0b 00 01 00 62 72 69 64 67 65 00 00   # IFLA_INFO_KIND "bridge"
        1c 00 02 00  # nla_len 28 = 4 + 24, IFLA_INFO_DATA (no NLA_F_NESTED, like iproute2)
          08 00 01 00  00 00 00 00   # IFLA_BR_FORWARD_DELAY u32 0
          08 00 05 00  00 00 00 00   # IFLA_BR_STP_STATE u32 0
          05 00 17 00  00 00 00 00   # IFLA_BR_MCAST_SNOOPING u8 0 (len 5) + 3 pad
      `),
    );
  });

  it('encodeLinkInfo(veth) carries the peer as VETH_INFO_PEER: ifinfomsg, then name, MTU, MAC, netns fd', () => {
    const bytes = encodeLinkInfo({
      kind: 'veth',
      peer: { name: 'eth0', mtu: 1450, mac: '02:00:00:00:00:aa', netnsFd: 23, up: true },
    });
    expect(bytes).toEqual(
      hex(`
        09 00 01 00  76 65 74 68 00  00 00 00  # IFLA_INFO_KIND "veth\\0" (len 9) + pad
        40 00 02 00                            # IFLA_INFO_DATA, len 64
          3c 00 01 00                          # VETH_INFO_PEER, len 60
            00 00 00 00  00 00 00 00  01 00 00 00  01 00 00 00  # ifinfomsg: flags = change = IFF_UP
            09 00 03 00  65 74 68 30 00  00 00 00                # IFLA_IFNAME "eth0\\0" + pad
            08 00 04 00  aa 05 00 00                            # IFLA_MTU 1450 = 0x05aa
            0a 00 01 00  02 00 00 00 00 aa  00 00                # IFLA_ADDRESS (6 bytes, len 10) + pad
            08 00 1c 00  17 00 00 00                            # IFLA_NET_NS_FD = 23
      `),
    );
  });

  it('encodeLinkInfo(veth) with a peer not up leaves flags and change zero and omits what is not given', () => {
    expect(encodeLinkInfo({ kind: 'veth', peer: { name: 'eth1' } })).toEqual(
      hex(`
        09 00 01 00  76 65 74 68 00 00 00 00   # IFLA_INFO_KIND "veth"
        24 00 02 00                            # IFLA_INFO_DATA, len 36
          20 00 01 00                          # VETH_INFO_PEER, len 32
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  # ifinfomsg, all zero
            09 00 03 00  65 74 68 31 00 00 00 00              # IFLA_IFNAME "eth1"
      `),
    );
  });

  it('encodeLinkInfo(vxlan) writes VNI, lower device, local IPv4, learning, proxy and a big-endian port, in attribute order', () => {
    const bytes = encodeLinkInfo({
      kind: 'vxlan',
      vxlan: { vni: 42, local: '198.18.0.11', port: 4789, learning: false, proxy: true, link: 3 },
    });
    expect(bytes).toEqual(
      hex(`
        0a 00 01 00  76 78 6c 61 6e 00  00 00  # IFLA_INFO_KIND "vxlan\\0" (len 10) + pad
        34 00 02 00                            # IFLA_INFO_DATA, len 52 = 4 + 6 x 8
          08 00 01 00  2a 00 00 00             # IFLA_VXLAN_ID u32 42 (host order)
          08 00 03 00  03 00 00 00             # IFLA_VXLAN_LINK u32 ifindex 3
          08 00 04 00  c6 12 00 0b             # IFLA_VXLAN_LOCAL 198.18.0.11 (in_addr: network order)
          05 00 07 00  00  00 00 00            # IFLA_VXLAN_LEARNING u8 0 + 3 pad
          05 00 0b 00  01  00 00 00            # IFLA_VXLAN_PROXY u8 1 + 3 pad
          06 00 0f 00  12 b5  00 00            # IFLA_VXLAN_PORT __be16 4789 = 0x12b5, big-endian on any host + 2 pad
      `),
    );
  });

  it('encodeLinkInfo(vxlan) puts an IPv6 local address in IFLA_VXLAN_LOCAL6 and omits what is not given', () => {
    const bytes = encodeLinkInfo({ kind: 'vxlan', vxlan: { vni: 0x123456, local: 'fd00::11', port: 8472 } });
    expect(bytes).toEqual(
      hex(`
        0a 00 01 00  76 78 6c 61 6e 00 00 00   # IFLA_INFO_KIND "vxlan"
        28 00 02 00                            # IFLA_INFO_DATA, len 40 = 4 + 8 + 8 + 20
          08 00 01 00  56 34 12 00             # IFLA_VXLAN_ID 0x123456, little-endian
          06 00 0f 00  21 18 00 00             # IFLA_VXLAN_PORT 8472 = 0x2118, __be16 + pad
          14 00 11 00                          # IFLA_VXLAN_LOCAL6, len 20
            fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 11   # fd00::11
      `),
    );
  });

  it('encodeLinkInfo(macvlan) nests IFLA_MACVLAN_MODE = MACVLAN_MODE_BRIDGE (4), and decodes back to the mode', () => {
    const bytes = encodeLinkInfo({ kind: 'macvlan', mode: 'bridge' });
    expect(bytes).toEqual(
      hex(`
        0c 00 01 00  6d 61 63 76 6c 61 6e 00   # IFLA_INFO_KIND "macvlan\\0" (len 12)
        0c 00 02 00                            # IFLA_INFO_DATA, len 12
          08 00 01 00  04 00 00 00             # IFLA_MACVLAN_MODE 4 (bridge)
      `),
    );
    expect(decodeLinkInfo(bytes)).toEqual({ kind: 'macvlan', macvlanMode: 'bridge' });
  });

  it('encodeBridgePortSetLink is an AF_BRIDGE ifinfomsg plus IFLA_PROTINFO with NLA_F_NESTED around IFLA_BRPORT_NEIGH_SUPPRESS', () => {
    expect(encodeBridgePortSetLink(5, { neighSuppress: true })).toEqual(
      hex(`
        07           # ifi_family = AF_BRIDGE
        00 00 00     # pad, ifi_type
        05 00 00 00  # ifi_index = 5
        00 00 00 00  # ifi_flags
        00 00 00 00  # ifi_change
        0c 00 0c 80  # nla_len 12, IFLA_PROTINFO (12) | NLA_F_NESTED (0x8000): br_setlink needs the flag
          05 00 20 00  01 00 00 00   # IFLA_BRPORT_NEIGH_SUPPRESS (32) u8 1 + 3 pad
      `),
    );
  });

  it('encodeU32 is a host-order u32 payload (IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS)', () => {
    expect(encodeU32(8)).toEqual(hex('08 00 00 00'));
  });
});

describeLE('link-codec: decoding kernel replies', () => {
  it('decodes a bridge reply, ignoring NLA_F_NESTED and attributes it does not know', () => {
    const payload = hex(`
      0b 00 01 00  62 72 69 64 67 65 00 00   # IFLA_INFO_KIND "bridge"
      24 00 02 80                            # len 36, IFLA_INFO_DATA | NLA_F_NESTED (0x8000)
        08 00 01 00  dc 05 00 00             # IFLA_BR_FORWARD_DELAY 1500 cs
        08 00 05 00  01 00 00 00             # IFLA_BR_STP_STATE 1
        08 00 63 00  ff ff ff ff             # unknown type 99: skipped
        05 00 17 00  01 00 00 00             # IFLA_BR_MCAST_SNOOPING 1 + pad
    `);
    expect(decodeLinkInfo(payload)).toEqual({
      kind: 'bridge',
      bridge: { forwardDelayCs: 1500, stpState: true, mcastSnooping: true },
    });
  });

  it('decodes a veth reply (kind only: the kernel does not echo VETH_INFO_PEER)', () => {
    expect(decodeLinkInfo(hex('09 00 01 00 76 65 74 68 00 00 00 00'))).toEqual({ kind: 'veth' });
  });

  it('decodes a bridge port: IFLA_INFO_SLAVE_KIND', () => {
    const bytes = hex(`
      09 00 01 00 76 65 74 68 00 00 00 00   # IFLA_INFO_KIND "veth"
      0b 00 04 00 62 72 69 64 67 65 00 00   # IFLA_INFO_SLAVE_KIND "bridge"
    `);
    expect(decodeLinkInfo(bytes)).toEqual({ kind: 'veth', slaveKind: 'bridge' });
  });

  it('decodes vxlan: VNI, local address, big-endian port, learning; an unset group is omitted', () => {
    const bytes = hex(`
      0a 00 01 00  76 78 6c 61 6e 00  00 00   # IFLA_INFO_KIND "vxlan\\0" (len 10) + pad
      34 00 02 00                            # IFLA_INFO_DATA len 52 = 4 + 6 x 8
        08 00 01 00  2a 00 00 00             # IFLA_VXLAN_ID 42
        08 00 02 00  00 00 00 00             # IFLA_VXLAN_GROUP 0.0.0.0 (none)
        08 00 04 00  c6 12 00 0b             # IFLA_VXLAN_LOCAL 198.18.0.11 (network order)
        06 00 0f 00  12 b5 00 00             # IFLA_VXLAN_PORT 4789, __be16
        05 00 07 00  00 00 00 00             # IFLA_VXLAN_LEARNING 0
        05 00 05 00  40 00 00 00             # IFLA_VXLAN_TTL 64
    `);
    expect(decodeLinkInfo(bytes)).toEqual({
      kind: 'vxlan',
      vxlan: { vni: 42, local: '198.18.0.11', port: 4789, learning: false, ttl: 64 },
    });
  });

  it('decodes IFLA_VXLAN_PROXY', () => {
    const bytes = hex(`
      0a 00 01 00  76 78 6c 61 6e 00 00 00   # IFLA_INFO_KIND "vxlan"
      0c 00 02 80                            # IFLA_INFO_DATA | NLA_F_NESTED, len 12
        05 00 0b 00  01 00 00 00             # IFLA_VXLAN_PROXY 1
    `);
    expect(decodeLinkInfo(bytes)).toEqual({ kind: 'vxlan', vxlan: { proxy: true } });
  });

  it('decodes a bridge port flag from IFLA_INFO_SLAVE_DATA, skipping the port attributes it does not read', () => {
    const bytes = hex(`
      0a 00 01 00  76 78 6c 61 6e 00 00 00   # IFLA_INFO_KIND "vxlan"
      0b 00 04 00  62 72 69 64 67 65 00 00   # IFLA_INFO_SLAVE_KIND "bridge"
      14 00 05 80                            # IFLA_INFO_SLAVE_DATA | NLA_F_NESTED, len 20
        05 00 01 00  03 00 00 00             # IFLA_BRPORT_STATE 3 (forwarding): not read
        05 00 20 00  01 00 00 00             # IFLA_BRPORT_NEIGH_SUPPRESS 1
    `);
    expect(decodeLinkInfo(bytes)).toEqual({ kind: 'vxlan', slaveKind: 'bridge', bridgePort: { neighSuppress: true } });
  });

  it('round-trips its own vxlan encoding', () => {
    const vxlan = { vni: 7, local: '198.18.0.12', port: 4789, learning: false, proxy: true, link: 2, ttl: 64 };
    expect(decodeLinkInfo(encodeLinkInfo({ kind: 'vxlan', vxlan }))).toEqual({ kind: 'vxlan', vxlan });
  });

  it('round-trips its own veth encoding, peer ifinfomsg included', () => {
    const decoded = decodeLinkInfo(encodeLinkInfo({ kind: 'veth', peer: { name: 'eth0', mtu: 9000, mac: '02:42:64:40:00:02', netnsFd: 5, up: true } }));
    expect(decoded).toEqual({
      kind: 'veth',
      vethPeer: {
        ifinfo: { family: 0, type: 0, index: 0, flags: 1, change: 1 },
        up: true,
        name: 'eth0',
        mtu: 9000,
        mac: '02:42:64:40:00:02',
        netnsFd: 5,
      },
    });
  });

  it('stops at a truncated attribute instead of throwing', () => {
    const bytes = hex(`
      09 00 01 00 76 65 74 68 00 00 00 00   # IFLA_INFO_KIND "veth"
      40 00 02 00 01 02                      # claims 64 bytes, has 6
    `);
    expect(decodeAttrs(bytes)).toHaveLength(1);
    expect(decodeLinkInfo(bytes)).toEqual({ kind: 'veth' });
  });

  it('decodeIfInfoMsg reads back encodeIfInfoMsg and rejects short input', () => {
    const m = { family: 0, type: 1, index: 42, flags: 0x1003, change: 0xffffffff };
    expect(decodeIfInfoMsg(encodeIfInfoMsg(m))).toEqual(m);
    expect(decodeIfInfoMsg(Buffer.alloc(15))).toBeUndefined();
  });

  it('decodeU32 reads IFLA_LINK-style payloads and tolerates absence', () => {
    expect(decodeU32(hex('03 00 00 00'))).toBe(3);
    expect(decodeU32(undefined)).toBeUndefined();
    expect(decodeU32(hex('03 00'))).toBeUndefined();
  });
});

describe('link-codec: MAC and IP payloads', () => {
  it('encodes and decodes MAC addresses, and refuses malformed ones with RangeError', () => {
    expect(encodeMac('02:42:AC:11:00:01')).toEqual(Buffer.from([0x02, 0x42, 0xac, 0x11, 0x00, 0x01]));
    expect(decodeMac(Buffer.from([0x02, 0x42, 0xac, 0x11, 0x00, 0x01]))).toBe('02:42:ac:11:00:01');
    expect(() => encodeMac('02:42:ac:11:00')).toThrow(RangeError);
  });

  it('encodes IPv4 and IPv6 addresses in network order and decodes IPv6 compressed', () => {
    expect(encodeIp('198.18.0.11')).toEqual({ family: 4, bytes: Buffer.from([198, 18, 0, 11]) });
    const v6 = encodeIp('fd00:0:0:0:0:0:0:2');
    expect(v6.family).toBe(6);
    expect(v6.bytes).toEqual(hex('fd00 0000 0000 0000 0000 0000 0000 0002'));
    expect(decodeIp(v6.bytes)).toBe('fd00::2');
    expect(decodeIp(Buffer.from([100, 64, 0, 1]))).toBe('100.64.0.1');
  });

  it('refuses non-canonical or malformed addresses with RangeError', () => {
    expect(() => encodeIp('100.64.0.300')).toThrow(RangeError);
    expect(() => encodeIp('0x7f.1')).toThrow(RangeError);
    expect(decodeIp(Buffer.alloc(5))).toBeUndefined();
  });
});

describe('link-codec: vxlan values it refuses to encode', () => {
  it.each([
    ['a VNI of 2^24 (24-bit field)', { vni: 1 << 24 }],
    ['a negative VNI', { vni: -1 }],
    ['UDP port 0 (the kernel would read it as its default 8472)', { port: 0 }],
    ['UDP port 65536', { port: 65536 }],
    ['a malformed local address', { local: '198.18.0.256' }],
  ])('throws RangeError for %s', (_name, vxlan) => {
    expect(() => encodeLinkInfo({ kind: 'vxlan', vxlan })).toThrow(RangeError);
  });
});
