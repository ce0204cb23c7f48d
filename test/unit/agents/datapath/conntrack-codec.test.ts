// ctnetlink's wire format: a dump request's payload, and reply entries
// built here the way the kernel lays them out (ctnetlink_fill_info):
// nested tuples with addresses and ports in network byte order, status and
// timeout as big-endian u32, the TCP state nested in protoinfo.
import { AF_INET, CT_GET, CT_NEW, ctDumpRequest, parseCtEntry } from '../../../../agents/datapath/netlink/conntrack-codec.js';

const NESTED = 0x8000;

function attr(type: number, payload: Buffer, nested = false): Buffer {
  const len = 4 + payload.length;
  const head = Buffer.alloc(4);
  head.writeUInt16LE(len, 0);
  head.writeUInt16LE(type | (nested ? NESTED : 0), 2);
  return Buffer.concat([head, payload, Buffer.alloc((4 - (len % 4)) % 4)]);
}
const nest = (type: number, ...children: Buffer[]) => attr(type, Buffer.concat(children), true);
const ip4 = (ip: string) => Buffer.from(ip.split('.').map(Number));
const u16be = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

function tuple(type: number, src: string, dst: string, protocol: number, sport?: number, dport?: number): Buffer {
  const ports = sport === undefined || dport === undefined ? [] : [attr(2, u16be(sport)), attr(3, u16be(dport))];
  return nest(type, nest(1, attr(1, ip4(src)), attr(2, ip4(dst))), nest(2, attr(1, Buffer.from([protocol])), ...ports));
}

const nfgenmsg = (family: number) => Buffer.from([family, 0, 0, 0]);

describe('ctnetlink codec', () => {
  test('the dump request: conntrack GET of the ctnetlink subsystem, for IPv4', () => {
    expect(CT_GET).toBe(0x101);
    expect(CT_NEW).toBe(0x100);
    expect([...ctDumpRequest()]).toEqual([AF_INET, 0, 0, 0]);
  });

  test('a dump filtered by conntrack mark carries CTA_MARK and CTA_MARK_MASK, big-endian', () => {
    const req = ctDumpRequest(AF_INET, { mark: 0x7766_0001, mask: 0xffff_ffff });
    expect([...req]).toEqual([AF_INET, 0, 0, 0, 8, 0, 8, 0, 0x77, 0x66, 0x00, 0x01, 8, 0, 21, 0, 0xff, 0xff, 0xff, 0xff]);
  });

  test('a destination-translated TCP connection: both tuples, status, TCP state and timeout', () => {
    const payload = Buffer.concat([
      nfgenmsg(AF_INET),
      tuple(1, '192.0.2.9', '169.254.3.2', 6, 40000, 8080),
      tuple(2, '10.2.0.7', '192.0.2.9', 6, 80, 40000),
      attr(3, u32be((1 << 5) | (1 << 3) | (1 << 2))),
      nest(4, nest(1, attr(1, Buffer.from([3])))),
      attr(7, u32be(431999)),
      // attributes weft does not read are skipped
      attr(12, u32be(77)),
    ]);
    expect(parseCtEntry(payload)).toEqual({
      protocol: 6,
      orig: { src: '192.0.2.9', dst: '169.254.3.2', sport: 40000, dport: 8080 },
      reply: { src: '10.2.0.7', dst: '192.0.2.9', sport: 80, dport: 40000 },
      status: 44,
      tcpState: 3,
      timeout: 431999,
    });
  });

  test('ICMP has no ports; an entry of another family or without tuples is left out', () => {
    const icmp = Buffer.concat([nfgenmsg(AF_INET), tuple(1, '10.1.0.5', '10.2.0.7', 1), tuple(2, '10.2.0.7', '10.1.0.5', 1), attr(3, u32be(8))]);
    expect(parseCtEntry(icmp)).toEqual({ protocol: 1, orig: { src: '10.1.0.5', dst: '10.2.0.7' }, reply: { src: '10.2.0.7', dst: '10.1.0.5' }, status: 8 });
    expect(parseCtEntry(Buffer.concat([nfgenmsg(10), tuple(1, '10.1.0.5', '10.2.0.7', 1)]))).toBeUndefined();
    expect(parseCtEntry(Buffer.concat([nfgenmsg(AF_INET), attr(3, u32be(8))]))).toBeUndefined();
  });

  test('a truncated attribute ends the parse without reading past the buffer', () => {
    const whole = Buffer.concat([nfgenmsg(AF_INET), tuple(1, '10.1.0.5', '10.2.0.7', 6, 1, 2), tuple(2, '10.2.0.7', '10.1.0.5', 6, 2, 1)]);
    expect(parseCtEntry(whole.subarray(0, whole.length - 6))).toBeUndefined();
    expect(parseCtEntry(Buffer.from([AF_INET]))).toBeUndefined();
  });
});
