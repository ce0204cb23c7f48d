// IPv6 addresses of endpoints on a dual-stack network (subnet6 set). An
// endpoint's IPv6 address is subnet6's network address plus its IPv4
// address's offset inside subnet: 10.1.2.5 in 10.1.0.0/16 is fd00:1::205 in
// fd00:1::/64. So the IPv4 IPAM (host blocks, statics, loans, quarantine)
// decides both: two endpoints never share an IPv6 address because they never
// share an IPv4 one, a host's IPv6 block is the image of its IPv4 blocks, and
// the address is released with the IPv4 one. No second allocator, no second
// set of reservations to keep in step across controller and agents, and the
// controller checks an agent's claim by recomputing it. The price: subnet6
// must have at least as many addresses as subnet (validated), and the IPv4
// address whose image is gateway6 is not handed out.
import ipaddr from 'ipaddr.js';
import { ipv4ToInt, parsePrefix4 } from './ip.js';

const bigOf = (a: ipaddr.IPv6): bigint => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);

function ip6OfBig(n: bigint): string {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((n >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

function base6(subnet6: string): bigint {
  return bigOf(ipaddr.IPv6.networkAddressFromCIDR(subnet6));
}

function base4(subnet: string): number {
  const p = parsePrefix4(subnet);
  if ('prefix' in p) return p.prefix.base;
  throw new RangeError(`${subnet} is not an IPv4 network`);
}

/** Whether every address of an IPv4 /len4 has an image in an IPv6 /len6. */
export function subnet6Holds(len4: number, len6: number): boolean {
  return 128 - len6 >= 32 - len4;
}

/**
 * Whether endpoints of the network get IPv6 addresses: it has subnet6, and
 * subnet6 holds an image of every address of subnet. Validation refuses a
 * smaller subnet6 now; a network stored before that rule keeps working as
 * IPv4-only rather than handing out addresses outside its subnet6.
 */
export function isDualStack<N extends { subnet: string; subnet6?: string | undefined }>(net: N): net is N & { subnet6: string } {
  if (net.subnet6 === undefined) return false;
  const p4 = parsePrefix4(net.subnet);
  return 'prefix' in p4 && subnet6Holds(p4.prefix.length, prefixLength6(net.subnet6));
}

/** The IPv6 address of the endpoint holding `ip` (IPv4) on a network with `subnet` and `subnet6`. */
export function endpointIp6(net: { subnet: string; subnet6: string }, ip: string): string {
  const offset = (ipv4ToInt(ip) - base4(net.subnet)) >>> 0;
  return ip6OfBig(base6(net.subnet6) + BigInt(offset));
}

/**
 * The IPv4 address whose image is `ip6` (e.g. gateway6), or undefined when
 * no IPv4 address of subnet maps there.
 */
export function ip4Preimage(net: { subnet: string; subnet6: string }, ip6: string): string | undefined {
  const p = parsePrefix4(net.subnet);
  if (!('prefix' in p)) return undefined;
  const offset = bigOf(ipaddr.IPv6.parse(ip6)) - base6(net.subnet6);
  if (offset < 0n || offset >= 2n ** BigInt(32 - p.prefix.length)) return undefined;
  const n = (p.prefix.base + Number(offset)) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The modified EUI-64 link-local address of a MAC (fe80::/64), as the kernel derives it by default. */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  if (b.length !== 6 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`${mac} is not a MAC address`);
  const [m0, m1, m2, m3, m4, m5] = b as [number, number, number, number, number, number];
  const bytes = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, m0 ^ 0x02, m1, m2, 0xff, 0xfe, m3, m4, m5];
  return ipaddr.fromByteArray(bytes).toString();
}

/** The prefix length of an IPv6 network in CIDR notation. */
export function prefixLength6(subnet6: string): number {
  return ipaddr.parseCIDR(subnet6)[1];
}

/** An IPv6 address as one 128-bit hex number, "0x" and 32 digits (nft's immediate for a raw payload). */
export function ip6Hex(text: string): string {
  return `0x${ipaddr.IPv6.parse(text).toByteArray().map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** An IPv6 address in the canonical text form the kernel and nft print (RFC 5952). */
export function canonicalIp6(text: string): string {
  return ipaddr.IPv6.parse(text).toString();
}
