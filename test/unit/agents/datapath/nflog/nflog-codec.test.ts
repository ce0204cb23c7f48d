// Golden bytes for nfnetlink_log. The packet datagrams below were captured
// from this machine's kernel (6.x, x86-64) reading group 7 of an nft
// `log prefix "wl-0000abcd" group 7` rule on loopback in a throwaway
// namespace; the config request is computed by hand from the uapi headers.
//   struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }  host order
//   struct nfgenmsg { u8 family; u8 version; __be16 res_id (the group); }
//   struct nlattr { u16 len; u16 type; } + payload padded to 4; nflog values big endian
//   type = NFNL_SUBSYS_ULOG (4) << 8 | NFULNL_MSG_PACKET (0) / NFULNL_MSG_CONFIG (1)
//   NFULA_PACKET_HDR 1, TIMESTAMP 3, IFINDEX_INDEV 4, OUTDEV 5, HWADDR 8, PAYLOAD 9,
//   PREFIX 10, UID 11, SEQ 12, GID 14, HWTYPE 15, HWHEADER 16, HWLEN 17
//   NFULA_CFG_CMD 1, MODE 2, NLBUFSIZ 3, TIMEOUT 4, QTHRESH 5, FLAGS 6
import { endianness } from 'node:os';
import {
  NFULNL_CFG_CMD,
  NFULNL_CFG_F,
  NFULNL_COPY,
  decodeNflogDatagram,
  encodeNflogConfig,
} from '../../../../../agents/datapath/nflog/nflog-codec.js';

/** "09 00 03 00 ..." -> Buffer; whitespace and comments (after #) ignored per line. */
function hex(text: string): Buffer {
  const clean = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .replace(/\s+/g, '');
  return Buffer.from(clean, 'hex');
}

const RECEIVED = new Date('2026-01-02T03:04:05.000Z');
const describeLE = endianness() === 'LE' ? describe : describe.skip;

/** One datagram: a UDP packet on output, the same on input, the ICMP port unreachable, NLMSG_DONE. */
const UDP_BATCH = hex(`
  70 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00  # nlmsghdr len 112, ULOG PACKET
  02 00 00 07                                      # nfgenmsg AF_INET, v0, group 7
  08 00 01 00 08 00 03 00                          # PACKET_HDR ETH_P_IP, hook 3 (output)
  10 00 0a 00 77 6c 2d 30 30 30 30 61 62 63 64 00  # PREFIX "wl-0000abcd"
  08 00 05 00 00 00 00 01                          # OUTDEV 1
  08 00 0b 00 00 00 00 00                          # UID 0
  08 00 0e 00 00 00 00 00                          # GID 0
  08 00 0c 00 00 00 00 04                          # SEQ 4
  22 00 09 00                                      # PAYLOAD (30 bytes)
    45 00 00 1e d9 c8 40 00 40 11 63 04 7f 00 00 01 7f 00 00 01  # IPv4, proto 17
    d0 fd 14 e9 00 0a fe 1d                        # UDP 53501 -> 5353
    78 0a 00 00                                    # "x\\n", pad
  a4 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00  # nlmsghdr len 164
  02 00 00 07
  08 00 01 00 08 00 01 00                          # PACKET_HDR ETH_P_IP, hook 1 (input)
  0a 00 0a 00 77 6c 2d 69 6e 00 00 00              # PREFIX "wl-in"
  08 00 04 00 00 00 00 01                          # INDEV 1
  10 00 08 00 00 06 00 00 00 00 00 00 00 00 00 00  # HWADDR len 6, 00:00:00:00:00:00
  06 00 0f 00 03 04 00 00                          # HWTYPE 772 (loopback)
  06 00 11 00 00 0e 00 00                          # HWLEN 14
  12 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 08 00 00 00  # HWHEADER
  14 00 03 00 00 00 00 00 6b 0a 35 23 00 00 00 00 00 00 8b 0c  # TIMESTAMP sec 1795831075, usec 35596
  08 00 0c 00 00 00 00 05                          # SEQ 5
  22 00 09 00
    45 00 00 1e d9 c8 40 00 40 11 63 04 7f 00 00 01 7f 00 00 01
    d0 fd 14 e9 00 0a fe 1d 78 0a 00 00
  7c 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00  # nlmsghdr len 124
  02 00 00 07
  08 00 01 00 08 00 03 00
  10 00 0a 00 77 6c 2d 30 30 30 30 61 62 63 64 00
  08 00 05 00 00 00 00 01
  08 00 0c 00 00 00 00 06                          # SEQ 6
  3e 00 09 00                                      # PAYLOAD (58 bytes)
    45 c0 00 3a 86 19 00 00 40 01 f5 e7 7f 00 00 01 7f 00 00 01  # IPv4, proto 1
    03 03 a0 e3 00 00 00 00                        # ICMP type 3 code 3 (port unreachable)
    45 00 00 1e d9 c8 40 00 40 11 63 04 7f 00 00 01 7f 00 00 01 d0 fd 14 e9 00 0a fe 1d 78 0a 00 00
  14 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00  # NLMSG_DONE ends the batch
  00 00 00 07
`);

/** An ICMPv6 echo request to ::1, logged on output. */
const ICMPV6_ECHO = hex(`
  b8 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00  # nlmsghdr len 184
  0a 00 00 07                                      # nfgenmsg AF_INET6, group 7
  08 00 01 00 86 dd 03 00                          # PACKET_HDR ETH_P_IPV6, output
  10 00 0a 00 77 6c 2d 30 30 30 30 61 62 63 64 00  # PREFIX
  08 00 05 00 00 00 00 01                          # OUTDEV 1
  08 00 0b 00 00 00 00 00
  08 00 0e 00 00 00 00 00
  08 00 0c 00 00 00 00 02                          # SEQ 2
  6c 00 09 00                                      # PAYLOAD (104 bytes)
    60 0b 97 cc 00 40 3a 40                        # IPv6, next header 58, hop limit 64
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01  # src ::1
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01  # dst ::1
    80 00 59 b6 5b c3 00 01                        # ICMPv6 type 128 (echo request)
    22 35 0a 6b 00 00 00 00 d0 95 0e 00 00 00 00 00
    10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27
    28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37
`);

describeLE('nflog-codec: encodeNflogConfig (little-endian host)', () => {
  it('binds and configures a group in one acked NFULNL_MSG_CONFIG request', () => {
    const msg = encodeNflogConfig(1, 7, {
      command: NFULNL_CFG_CMD.BIND,
      copyMode: NFULNL_COPY.PACKET,
      copyRange: 128,
      bufferSize: 16384,
      timeoutCs: 10,
      queueThreshold: 64,
      flags: NFULNL_CFG_F.SEQ,
    });
    expect(msg).toEqual(
      hex(`
        48 00 00 00        # nlmsg_len 72
        01 04              # type: NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG
        05 00              # NLM_F_REQUEST | NLM_F_ACK
        01 00 00 00        # seq 1
        00 00 00 00        # pid 0
        00 00 00 07        # nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id = htons(7)
        05 00 01 00 01 00 00 00              # CMD: BIND, pad
        0a 00 02 00 00 00 00 80 02 00 00 00  # MODE: be32 copy_range 128, copy_mode PACKET, _pad; pad
        08 00 03 00 00 00 40 00              # NLBUFSIZ be32 16384
        08 00 04 00 00 00 00 0a              # TIMEOUT be32 10 (1/100 s)
        08 00 05 00 00 00 00 40              # QTHRESH be32 64
        06 00 06 00 00 01 00 00              # FLAGS be16 NFULNL_CFG_F_SEQ, pad
      `),
    );
  });

  it('writes only the attributes it is given', () => {
    expect(encodeNflogConfig(9, 0x1234, { command: NFULNL_CFG_CMD.UNBIND })).toEqual(
      hex(`
        1c 00 00 00 01 04 05 00 09 00 00 00 00 00 00 00
        00 00 12 34                # res_id big endian
        05 00 01 00 02 00 00 00    # CMD: UNBIND
      `),
    );
  });
});

describeLE('nflog-codec: decodeNflogDatagram (little-endian host)', () => {
  it('decodes a batch of packets and skips the NLMSG_DONE that ends it', () => {
    const msgs = decodeNflogDatagram(UDP_BATCH, RECEIVED);
    expect(msgs).toHaveLength(3);
    expect(msgs.map((m) => m.kind === 'packet' && m.seq)).toEqual([4, 5, 6]);
  });

  it('decodes a logged UDP packet: prefix, addresses, ports, out device; no timestamp -> time read', () => {
    expect(decodeNflogDatagram(UDP_BATCH, RECEIVED)[0]).toEqual({
      kind: 'packet',
      group: 7,
      seq: 4,
      packet: {
        prefix: 'wl-0000abcd',
        time: RECEIVED,
        family: 4,
        protocol: 'udp',
        src: '127.0.0.1',
        dst: '127.0.0.1',
        sport: 53501,
        dport: 5353,
        outdev: 1,
      },
    });
  });

  it('takes the kernel timestamp, the in device and the hardware address when sent', () => {
    const m = decodeNflogDatagram(UDP_BATCH, RECEIVED)[1];
    expect(m).toMatchObject({ kind: 'packet', seq: 5 });
    const p = m?.kind === 'packet' ? m.packet : undefined;
    expect(p).toEqual({
      prefix: 'wl-in',
      time: new Date(1795831075 * 1000 + 35),
      family: 4,
      protocol: 'udp',
      src: '127.0.0.1',
      dst: '127.0.0.1',
      sport: 53501, // the output packet again, now received
      dport: 5353,
      indev: 1,
      hwaddr: '00:00:00:00:00:00',
    });
  });

  it('reports the ICMP type of an ICMP packet and no ports', () => {
    const m = decodeNflogDatagram(UDP_BATCH, RECEIVED)[2];
    const p = m?.kind === 'packet' ? m.packet : undefined;
    expect(p).toMatchObject({ family: 4, protocol: 'icmp', icmpType: 3, outdev: 1 });
    expect(p).not.toHaveProperty('sport');
  });

  it('decodes an IPv6 ICMPv6 echo request', () => {
    expect(decodeNflogDatagram(ICMPV6_ECHO, RECEIVED)).toEqual([
      {
        kind: 'packet',
        group: 7,
        seq: 2,
        packet: { prefix: 'wl-0000abcd', time: RECEIVED, family: 6, protocol: 'icmpv6', src: '::1', dst: '::1', icmpType: 128, outdev: 1 },
      },
    ]);
  });

  it('decodes NLMSG_ERROR as an ack carrying the positive errno (0: success)', () => {
    const ack = (error: string): Buffer =>
      hex(`
        24 00 00 00 02 00 00 01 01 00 00 00 a1 b2 00 00  # NLMSG_ERROR, seq 1
        ${error}                                         # int error
        48 00 00 00 01 04 05 00 01 00 00 00 00 00 00 00  # the request's header
      `);
    expect(decodeNflogDatagram(ack('00 00 00 00'), RECEIVED)).toEqual([{ kind: 'ack', seq: 1, errno: 0 }]);
    expect(decodeNflogDatagram(ack('ff ff ff ff'), RECEIVED)).toEqual([{ kind: 'ack', seq: 1, errno: 1 }]); // -EPERM
    expect(decodeNflogDatagram(ack('f0 ff ff ff'), RECEIVED)).toEqual([{ kind: 'ack', seq: 1, errno: 16 }]); // -EBUSY
  });

  it('returns a packet message without a packet when the payload is not IP', () => {
    const arp = hex(`
      24 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00
      07 00 00 07                    # NFPROTO_BRIDGE
      08 00 0c 00 00 00 00 09        # SEQ 9
      0c 00 09 00 00 01 08 00 06 04 00 01  # PAYLOAD: an ARP header
    `);
    expect(decodeNflogDatagram(arp, RECEIVED)).toEqual([{ kind: 'packet', group: 7, seq: 9 }]);
  });

  it('stops at a truncated message instead of throwing', () => {
    expect(decodeNflogDatagram(UDP_BATCH.subarray(0, 112 + 50), RECEIVED)).toHaveLength(1);
    expect(decodeNflogDatagram(Buffer.alloc(3), RECEIVED)).toEqual([]);
  });
});
