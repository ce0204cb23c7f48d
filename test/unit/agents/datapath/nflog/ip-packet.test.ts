// parseIpPacket: the headers of a logged payload, as far as the copy range kept them.
import { parseIpPacket } from '../../../../../agents/datapath/nflog/ip-packet.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
}

/** IPv4 header without options: proto, src 198.18.0.1, dst 198.18.0.2, fragment field. */
function ipv4(proto: number, frag = '40 00'): string {
  return `45 00 00 28 00 01 ${frag} 40 ${proto.toString(16).padStart(2, '0')} 00 00 c6 12 00 01 c6 12 00 02`;
}

/** IPv6 header: next header, src 2001:db8::1, dst 2001:db8::2. */
function ipv6(next: number): string {
  return `60 00 00 00 00 20 ${next.toString(16).padStart(2, '0')} 40
    20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
    20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02`;
}

describe('parseIpPacket', () => {
  it.each([
    ['IPv4 TCP', `${ipv4(6)} 01 bb c3 50 00 00 00 00`, { family: 4, protocol: 'tcp', sport: 443, dport: 50000 }],
    ['IPv4 UDP', `${ipv4(17)} 00 35 14 e9 00 08 00 00`, { family: 4, protocol: 'udp', sport: 53, dport: 5353 }],
    ['IPv4 ICMP', `${ipv4(1)} 08 00 00 00`, { family: 4, protocol: 'icmp', icmpType: 8 }],
    ['IPv4 GRE: number, no ports', `${ipv4(47)} 00 00 08 00`, { family: 4, protocol: '47' }],
    ['IPv6 UDP', `${ipv6(17)} 00 35 14 e9 00 08 00 00`, { family: 6, protocol: 'udp', sport: 53, dport: 5353 }],
    ['IPv6 ICMPv6', `${ipv6(58)} 87 00 00 00`, { family: 6, protocol: 'icmpv6', icmpType: 135 }],
    [
      'IPv6 hop-by-hop then TCP',
      `${ipv6(0)} 06 00 01 04 00 00 00 00   00 50 c3 50`,
      { family: 6, protocol: 'tcp', sport: 80, dport: 50000 },
    ],
    ['IPv6 first fragment then UDP', `${ipv6(44)} 11 00 00 01 00 00 00 2a   00 35 00 36`, { family: 6, protocol: 'udp', sport: 53, dport: 54 }],
  ])('%s', (_name, bytes, expected) => {
    expect(parseIpPacket(hex(bytes))).toEqual({
      ...expected,
      src: expected.family === 4 ? '198.18.0.1' : '2001:db8::1',
      dst: expected.family === 4 ? '198.18.0.2' : '2001:db8::2',
    });
  });

  it('skips IPv4 options (IHL > 5) to find the ports', () => {
    const withOptions = hex(`46 00 00 2c 00 01 40 00 40 11 00 00 c6 12 00 01 c6 12 00 02  01 01 01 00  00 35 00 36`);
    expect(parseIpPacket(withOptions)).toMatchObject({ protocol: 'udp', sport: 53, dport: 54 });
  });

  it('reports no ports for a later IPv4 or IPv6 fragment (no transport header there)', () => {
    expect(parseIpPacket(hex(`${ipv4(17, '00 b9')} 00 35 00 36`))).toEqual({ family: 4, protocol: 'udp', src: '198.18.0.1', dst: '198.18.0.2' });
    expect(parseIpPacket(hex(`${ipv6(44)} 11 00 00 b8 00 00 00 2a   00 35 00 36`))).toEqual({
      family: 6,
      protocol: 'udp',
      src: '2001:db8::1',
      dst: '2001:db8::2',
    });
  });

  it('keeps the addresses when the copy range cut the transport header', () => {
    expect(parseIpPacket(hex(`${ipv4(6)} 01 bb`))).toEqual({ family: 4, protocol: 'tcp', src: '198.18.0.1', dst: '198.18.0.2' });
  });

  it('returns undefined for non-IP or short payloads', () => {
    expect(parseIpPacket(hex('00 01 08 00 06 04 00 01'))).toBeUndefined();
    expect(parseIpPacket(hex('45 00 00 28'))).toBeUndefined();
    expect(parseIpPacket(Buffer.alloc(0))).toBeUndefined();
  });
});
